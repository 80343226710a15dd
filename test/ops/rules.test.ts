import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { buildTape } from '../../src/core/graph/build.js';
import { makeArena } from '../../src/core/graph/tape.js';
import { isFunctionName, OPS } from '../../src/core/ops/index.js';
import { parseProgram } from '../../src/core/parse/parse.js';
import type { ElementwiseDef } from '../../src/core/ops/elementwise.js';
import { jvpNow, localValue, vjpNow } from '../../src/core/ops/eager.js';
import { localText } from '../../src/core/ops/text.js';
import { argName, type Attrs, type OpDef } from '../../src/core/ops/types.js';
import { Rng } from '../../src/core/random.js';
import { scalar, sizeOf, unbroadcast, type Tensor } from '../../src/core/tensor.js';
import { caseInput, casesFor } from './cases.js';

/**
 * Every derivative rule of the op table (its one statement: the graph rules, computed
 * eagerly here), checked the way a user's formula is: vjp against central differences
 * of L = Σ w ⊙ op(inputs) at random points in the op's domain, and jvp against vjp
 * (⟨J u, w⟩ = ⟨u, Jᵀ w⟩), on several shapes, broadcasting in both argument positions.
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
          const ins = c.shapes.map((_, i) => caseInput(rng, c, i));
          const out = run(op, ins, attrs);
          const w = Float64Array.from(out.data, () => rng.normal());
          const need = ins.map((_, i) => !c.fixed?.includes(i));
          const vjp = vjpNow(op.name, ins, out, { shape: out.shape, data: w }, attrs, need).map((t, i) => {
            const g = t?.data ?? (need[i] ? new Float64Array(ins[i].data.length) : null);
            return g && g.length !== ins[i].data.length ? unbroadcast(g, ins[i].shape, out.shape) : g;
          });
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
          const jv =
            jvpNow(
              op.name,
              ins,
              out,
              u.map((d, i) => (d ? { shape: ins[i].shape, data: d } : null)),
              attrs,
            )?.data ?? new Float64Array(out.data.length);
          const lhs = dotp(jv, w);
          const rhs = vjp.reduce((s, g, i) => s + (g && u[i] ? dotp(g, u[i]!) : 0), 0);
          expect(Math.abs(lhs - rhs), `${where}: <Ju,w>=${lhs} <u,Jᵀw>=${rhs}`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(lhs)));
        }
      }
    });
  }

  it('local derivative formulas (read off the rules) exist for every input of every op', () => {
    for (const op of ops) {
      for (const c of casesFor(op)) {
        const outShape = op.shape(c.shapes, c.attrs ?? {});
        c.shapes.forEach((_, i) => expect(localText(op.name, c.attrs ?? {}, c.shapes, outShape, i).trim(), `${op.name} input ${i + 1}`).not.toBe(''));
      }
    }
  });
});

describe('op table: tensor local formulas are literally right with vectors as columns', () => {
  // the edge table shows `g*b'`, `a'*g`, `s.*(g - sum(g.*s))`, printed off the rules (ops/text.ts):
  // evaluated as formulas (with the inputs a, b, the output s and the upstream gradient g), they give the rule's contribution
  const evalTensor = (src: string, vals: Record<string, Tensor>): Float64Array => {
    const tape = buildTape(parseProgram(src, { isFunction: isFunctionName }), vals);
    const arena = makeArena(tape, vals);
    jsEngine.forward(tape, arena);
    const out = tape.nodes[tape.output];
    return arena.slice(out.offset, out.offset + out.size);
  };
  for (const name of ['matmul', 'transpose', 'softmax', 'logsoftmax', 'logsumexp', 'det', 'logdet', 'inv', 'adj', 'solve']) {
    it(name, () => {
      const op = OPS.get(name)!;
      const rng = new Rng(31);
      for (const c of casesFor(op)) {
        const attrs = c.attrs ?? {};
        const ins = c.shapes.map((_, i) => caseInput(rng, c, i));
        const out = run(op, ins, attrs);
        const locals = c.shapes.map((_, i) => localText(name, attrs, c.shapes, out.shape, i));
        locals.forEach((formula, i) => {
          // a local written without g is the derivative itself: the contribution of g = 1 in every entry
          const withG = /\bg\b/.test(formula);
          const g = Float64Array.from(out.data, () => (withG ? rng.normal() : 1));
          const want = vjpNow(
            name,
            ins,
            out,
            { shape: out.shape, data: g },
            attrs,
            ins.map((_, k) => k === i),
          )[i]!.data;
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

describe('op table: every partial formula against differences of its scalar function', () => {
  // the partial formulas are the one statement of each elementwise derivative: computed
  // (ops/eager.ts), they must be the derivative of the rule's own f
  const scalarOf = (v: number): Tensor => scalar(v);
  const elementwise = ops.filter((op) => op.family === 'elementwise') as ElementwiseDef[];
  for (const op of elementwise) {
    it(`${op.name}`, () => {
      const rng = new Rng(99);
      for (let arity = op.arity[0]; arity <= op.rules.length; arity++) {
        const rule = op.rules[arity - 1];
        if (!rule) continue;
        for (let trial = 0; trial < 8; trial++) {
          const args = Array.from({ length: arity }, (_, i) => {
            const [lo, hi] = rule.domain?.[i] ?? [-2, 2];
            return op.name === 'select' && i === 0 ? trial % 2 : lo + (hi - lo) * rng.next();
          });
          // a step away from kinks (relu, abs, ties, hypot's origin)
          if (rule.branch && args.some((a, i) => Math.abs(a) < 0.05 && !(op.name === 'select' && i === 0))) continue;
          if ((op.name === 'max' || op.name === 'min') && Math.abs(args[0] - args[1]) < 0.05) continue;
          rule.local.forEach((formula, i) => {
            if (op.name === 'select' && i === 0) return;
            const got = localValue(op.name, args.map(scalarOf), scalarOf(rule.f(...args)), i)![0];
            const h = 1e-6 * Math.max(1, Math.abs(args[i]));
            const at = (d: number) => rule.f(...args.map((a, k) => (k === i ? a + d : a)));
            const fd = (at(h) - at(-h)) / (2 * h);
            expect(Math.abs(got - fd), `${op.name} ∂/∂${argName(i)} = ${formula} at ${JSON.stringify(args)}: ${got}, differences ${fd}`).toBeLessThanOrEqual(
              1e-6 * (1 + Math.abs(fd)),
            );
          });
        }
      }
    });
  }

  it('ties split evenly and a zero upstream gradient contributes nothing where the partial is infinite', () => {
    const v = (...xs: number[]): Tensor => ({ shape: [xs.length], data: Float64Array.from(xs) });
    // max(a, b, c) at a three-way tie: a third each (not 1/4, 1/4, 1/2 as a fold of pairs)
    const three = [v(2), v(2), v(2)];
    const g = vjpNow('max', three, v(2), v(1), {}, [true, true, true]);
    expect(g.map((t) => t!.data[0])).toEqual([1 / 3, 1 / 3, 1 / 3]);
    // sqrt'(0) = Inf: with g = 0 the contribution is 0, with g = 1 it is Inf
    const x = v(0, 0);
    const c = vjpNow('sqrt', [x], v(0, 0), v(0, 1), {}, [true])[0]!.data;
    expect(Array.from(c)).toEqual([0, Infinity]);
    // pow at b = 0: d/da a^0 = 0 (not 0·a^-1 = NaN at a = 0)
    expect(localValue('pow', [v(0), v(0)], v(1), 0)![0]).toBe(0);
  });
});

describe('erf, the op added by docs/adding-an-op.md', () => {
  it('has its values to double precision and its derivative 2/√π·e^(−a²)', () => {
    const erf = OPS.get('erf')!;
    // reference values (Abramowitz and Stegun table 7.1, extended precision)
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
      [1e-8, 1.1283791670955126e-8],
      [7, 1],
    ];
    const out = new Float64Array(known.length);
    erf.forward([{ shape: [known.length], data: Float64Array.from(known, ([x]) => x) }], {}, out);
    known.forEach(([x, want], k) => expect(Math.abs(out[k] - want), `erf(${x}) = ${out[k]}`).toBeLessThanOrEqual(4e-16 * Math.abs(want)));
    const d = localValue('erf', [scalar(1)], scalar(out[2]), 0)![0];
    expect(d).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-1), 15);
    expect(localText('erf', {}, [[]], [], 0)).toBe('2/sqrt(pi)*exp(-a^2)');
  });
});
