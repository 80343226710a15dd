import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { buildTape } from '../../src/core/graph/build.js';
import { makeArena } from '../../src/core/graph/tape.js';
import { isFunctionName, OPS } from '../../src/core/ops/index.js';
import { parseProgram } from '../../src/core/parse/parse.js';
import type { ElementwiseDef } from '../../src/core/ops/elementwise.js';
import { argName, type Attrs, type OpDef } from '../../src/core/ops/types.js';
import { Rng } from '../../src/core/random.js';
import { scalar, sizeOf, unbroadcast, type Tensor } from '../../src/core/tensor.js';
import { casesFor, randomInput } from './cases.js';

/**
 * Every derivative rule of the op table, checked the way a user's formula is:
 * vjp against central differences of L = Σ w ⊙ op(inputs) at random points in the
 * op's domain, and jvp against vjp (⟨J u, w⟩ = ⟨u, Jᵀ w⟩), on several shapes,
 * broadcasting in both argument positions.
 */
function run(op: OpDef, ins: Tensor[], attrs: Attrs): Tensor {
  const shape = op.shape(
    ins.map((t) => t.shape),
    attrs,
  );
  const out = new Float64Array(sizeOf(shape));
  op.forward(ins, attrs, out);
  return { shape, data: out };
}

const dotp = (a: Float64Array, b: Float64Array) => a.reduce((s, v, k) => s + v * b[k], 0);

const ops = [...OPS.values()].filter((op) => op.family !== 'leaf');

describe('op table: every rule against finite differences', () => {
  it('has cases for every op', () => {
    for (const op of ops) expect(casesFor(op).length, op.name).toBeGreaterThan(0);
  });

  for (const op of ops) {
    it(`${op.name}: vjp = central differences, jvp = vjp`, () => {
      const rng = new Rng(7 + op.name.length * 131);
      for (const c of casesFor(op)) {
        for (let trial = 0; trial < 3; trial++) {
          const attrs = c.attrs ?? {};
          const ins = c.shapes.map((s, i) => randomInput(rng, s, c.domains?.[i] ?? [-2, 2], c.boolean?.includes(i) ?? false));
          const out = run(op, ins, attrs);
          const w = Float64Array.from(out.data, () => rng.normal());
          const need = ins.map((_, i) => !c.fixed?.includes(i));
          const vjp = op.vjp(ins, out, w, attrs, need).map((g, i) => (g && g.length !== ins[i].data.length ? unbroadcast(g, ins[i].shape, out.shape) : g));
          const where = `${op.name} shapes ${JSON.stringify(c.shapes)} attrs ${JSON.stringify(attrs, (_k, v) => (v instanceof Int32Array ? Array.from(v) : v))}`;
          // reverse mode against central differences of L = Σ w ⊙ op(inputs)
          ins.forEach((t, i) => {
            if (!need[i]) return;
            for (let k = 0; k < t.data.length; k++) {
              const x = t.data[k];
              const h = 1e-6 * Math.max(1, Math.abs(x));
              t.data[k] = x + h;
              const fp = dotp(run(op, ins, attrs).data, w);
              t.data[k] = x - h;
              const fm = dotp(run(op, ins, attrs).data, w);
              t.data[k] = x;
              const fd = (fp - fm) / (2 * h);
              const ad = op.constantOutput ? 0 : vjp[i]![k];
              expect(Math.abs(ad - fd), `${where}: ∂/∂input${i + 1}[${k}] ad ${ad} fd ${fd}`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(fd));
            }
          });
          // forward mode against reverse mode
          const u = ins.map((t, i) => (need[i] ? Float64Array.from(t.data, () => rng.normal()) : null));
          const jv = op.jvp(ins, out, u, attrs);
          const lhs = dotp(jv, w);
          const rhs = vjp.reduce((s, g, i) => s + (g && u[i] ? dotp(g, u[i]!) : 0), 0);
          expect(Math.abs(lhs - rhs), `${where}: <Ju,w>=${lhs} <u,Jᵀw>=${rhs}`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(lhs)));
        }
      }
    });
  }

  it('local derivative formulas exist for every input of every op', () => {
    for (const op of ops) {
      for (const c of casesFor(op)) {
        const locals = op.local(c.shapes.length, c.attrs ?? {}, c.shapes);
        expect(locals.length, op.name).toBeGreaterThanOrEqual(1);
        for (const l of locals) expect(l.trim(), op.name).not.toBe('');
      }
    }
  });
});

describe('op table: tensor local formulas are literally right with vectors as columns', () => {
  // the edge table shows `g*b'`, `a'*g`, `s.*(g - sum(g.*s))`: evaluated as formulas (with the
  // inputs a, b, the output s and the upstream gradient g), they give the rule's contribution
  const evalTensor = (src: string, vals: Record<string, Tensor>): Float64Array => {
    const tape = buildTape(parseProgram(src, { isFunction: isFunctionName }), vals);
    const arena = makeArena(tape, vals);
    jsEngine.forward(tape, arena);
    const out = tape.nodes[tape.output];
    return arena.slice(out.offset, out.offset + out.size);
  };
  for (const name of ['matmul', 'transpose', 'softmax', 'logsoftmax', 'logsumexp']) {
    it(name, () => {
      const op = OPS.get(name)!;
      const rng = new Rng(31);
      for (const c of casesFor(op)) {
        const attrs = c.attrs ?? {};
        const ins = c.shapes.map((sh) => randomInput(rng, sh, [-2, 2], false));
        const out = run(op, ins, attrs);
        const locals = op.local(ins.length, attrs, c.shapes);
        locals.forEach((formula, i) => {
          // a local written without g is the derivative itself: the contribution of g = 1 in every entry
          const withG = /\bg\b/.test(formula);
          const g = Float64Array.from(out.data, () => (withG ? rng.normal() : 1));
          const want = op.vjp(
            ins,
            out,
            g,
            attrs,
            ins.map((_, k) => k === i),
          )[i]!;
          const vals: Record<string, Tensor> = { s: out, g: { shape: out.shape, data: g } };
          ins.forEach((t, k) => (vals['ab'[k]] = t));
          const got = evalTensor(formula, vals);
          const where = `${name}${JSON.stringify(c.shapes)} ${JSON.stringify(attrs)} ∂/∂${'ab'[i]} = ${formula}`;
          expect(got.length, where).toBe(want.length);
          got.forEach((v, k) => expect(v, `${where} [${k}]`).toBeCloseTo(want[k], 10));
        });
      }
    });
  }
});

describe('op table: local formulas say what the rules compute', () => {
  // the local formula is what the edge table and `derive` show; it must evaluate to the rule's partial
  const evalFormula = (src: string, vals: Record<string, number>): number => {
    const tape = buildTape(parseProgram(src, { isFunction: isFunctionName }), Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, scalar(v)])));
    const arena = makeArena(tape, Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, scalar(v)])));
    jsEngine.forward(tape, arena);
    return arena[tape.nodes[tape.output].offset];
  };
  const elementwise = ops.filter((op) => op.family === 'elementwise') as ElementwiseDef[];
  for (const op of elementwise) {
    it(`${op.name}`, () => {
      const rng = new Rng(99);
      for (let arity = op.arity[0]; arity <= op.rules.length; arity++) {
        const rule = op.rules[arity - 1];
        if (!rule) continue;
        for (let trial = 0; trial < 5; trial++) {
          const args = Array.from({ length: arity }, (_, i) => {
            const [lo, hi] = rule.domain?.[i] ?? [-2, 2];
            return op.name === 'select' && i === 0 ? trial % 2 : lo + (hi - lo) * rng.next();
          });
          // a tie, where max/min split the gradient
          if ((op.name === 'max' || op.name === 'min') && trial === 4) args[1] = args[0];
          const s = rule.f(...args);
          const vals: Record<string, number> = { s };
          args.forEach((v, i) => (vals[argName(i)] = v));
          rule.local.forEach((formula, i) => {
            const want = rule.d[i](...args, s);
            const got = evalFormula(formula.replace(/\bs\b/g, '(s)'), vals);
            expect(got, `${op.name} ∂/∂${argName(i)} = ${formula} at ${JSON.stringify(vals)}`).toBeCloseTo(want, 10);
          });
        }
      }
    });
  }
});
