import { describe, expect, it } from 'vitest';
import { TapeWriter } from '../../src/core/graph/append.js';
import { appendGradient, appendTangent } from '../../src/core/graph/gradient.js';
import { makeArena, view, type Tape } from '../../src/core/graph/tape.js';
import type { ElementwiseDef } from '../../src/core/ops/elementwise.js';
import { jvpNow, localValue, vjpNow } from '../../src/core/ops/eager.js';
import { getOp } from '../../src/core/ops/index.js';
import type { GraphNode } from '../../src/core/ops/types.js';
import { Rng } from '../../src/core/random.js';
import { sizeOf, unbroadcast, type Tensor } from '../../src/core/tensor.js';
import { expectClose, jsEngine, oneOpTape, opsUnderTest, randomCase, randomValues, type OpCase } from '../native/harness.js';

/**
 * Every op's graph rules appended as tape (the form Hessians, derive and the native
 * engine use: constants folded, identical nodes shared, a few identities applied)
 * against the same rules computed eagerly (the TypeScript engine's form), on random
 * shapes with broadcasting in every position, random points and points on kinks and
 * ties (where the subgradient conventions must come out the same: relu'(0) = 0,
 * abs'(0) = 0, ties split evenly). Native against TypeScript on these tapes:
 * test/engine/native-derivative.test.ts.
 */
const TRIALS = 24;
/** the same rules, folded as tape or computed as written (x·1 skipped, x/c as x·(1/c) …) */
const RULE_REL = 1e-12;

interface Built {
  tape: Tape;
  arena: Float64Array;
  /** per input: the node of g·∂op/∂input (-1: none) */
  grads: number[];
  /** the tangent node (-1: none) */
  tangent: number;
  g: Tensor;
  dots: (Tensor | null)[];
}

/** One op, its upstream gradient g and input tangents as constants, and the graph forms of vjp and jvp appended. */
function buildRules(rng: Rng, c: OpCase, values: Tensor[]): Built {
  const { tape } = oneOpTape(c, values);
  const w = new TapeWriter(tape);
  const out = tape.output;
  const outShape = tape.nodes[out].shape;
  const g: Tensor = { shape: outShape, data: Float64Array.from({ length: sizeOf(outShape) }, () => rng.normal()) };
  const ins = c.shapes.map((_, i) => i);
  const grads = appendGradient(w, out, ins, w.constant(g));
  const dots = c.shapes.map((shape, i) => (c.active[i] ? { shape, data: Float64Array.from({ length: sizeOf(shape) }, () => rng.normal()) } : null));
  const from = new Map<GraphNode, GraphNode>();
  dots.forEach((d, i) => d && from.set(i, w.constant(d)));
  const tangent = appendTangent(w, out, from);
  const keep = [...grads, tangent].filter((x): x is number => x !== null);
  const { tape: t, ids } = w.finish(out, keep);
  const byName = Object.fromEntries(values.map((v, i) => [`x${i}`, v]));
  return { tape: t, arena: makeArena(t, byName), grads: grads.map((x) => (x === null ? -1 : ids[x])), tangent: tangent === null ? -1 : ids[tangent], g, dots };
}

function read(t: Tape, arena: Float64Array, id: number, size: number): Float64Array {
  return id < 0 ? new Float64Array(size) : view(arena, t.nodes[id]).slice();
}

describe('graph rules as tape = graph rules computed now, op by op', () => {
  for (const op of opsUnderTest()) {
    it(op.name, () => {
      const rng = new Rng(1009 + op.name.length * 31 + op.name.charCodeAt(0));
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = randomCase(rng, op);
        const values = randomValues(rng, c);
        const b = buildRules(rng, c, values);
        const where = `${op.name} ${JSON.stringify(c.shapes)} ${JSON.stringify(c.attrs, (_k, v) => (v instanceof Int32Array ? Array.from(v) : v))} at ${JSON.stringify(values.map((v) => Array.from(v.data)))}`;

        // the eager rules on the same point
        const outShape = op.shape(c.shapes, c.attrs);
        const outData = new Float64Array(sizeOf(outShape));
        op.forward(values, c.attrs, outData);
        const outT = { shape: outShape, data: outData };
        const vjp = vjpNow(op.name, values, outT, b.g, c.attrs, c.active);
        const jvp = jvpNow(op.name, values, outT, b.dots, c.attrs);

        const js = b.arena.slice();
        jsEngine.forward(b.tape, js);
        c.shapes.forEach((shape, i) => {
          if (!c.active[i]) return;
          const size = sizeOf(shape);
          let want = vjp[i]?.data ?? new Float64Array(size);
          if (want.length !== size) want = unbroadcast(want, shape, outShape);
          expectClose(read(b.tape, js, b.grads[i], size), want, RULE_REL, `${where}: vjp as tape ∂/∂x${i}`, true);
        });
        const size = sizeOf(outShape);
        expectClose(read(b.tape, js, b.tangent, size), jvp?.data ?? new Float64Array(size), RULE_REL, `${where}: jvp as tape`, true);
      }
    });
  }

  it('a missing rule is a loud error naming the op', () => {
    const w = TapeWriter.empty();
    const x = w.input('x', []);
    const y = w.op('sin', [x]);
    const sin = getOp('sin');
    const saved = sin.vjpGraph;
    try {
      sin.vjpGraph = undefined;
      expect(() => appendGradient(w, y, [x])).toThrow(/op sin has no graph rule for its gradient/);
    } finally {
      sin.vjpGraph = saved;
    }
  });
});

describe('Hessians of every scalar op against finite differences of its derivative', () => {
  const scalarOps = opsUnderTest().filter((op) => op.family === 'elementwise') as ElementwiseDef[];
  for (const op of scalarOps) {
    it(op.name, () => {
      const rng = new Rng(77 + op.name.length);
      for (let arity = op.arity[0]; arity <= op.rules.length; arity++) {
        const rule = op.rules[arity - 1];
        if (!rule || rule.constantOutput) continue;
        for (let trial = 0; trial < 6; trial++) {
          const args = Array.from({ length: arity }, (_, i) => {
            const [lo, hi] = rule.domain?.[i] ?? [-2, 2];
            // select: a condition of 0 or 1 (not differentiated), then two values
            return op.name === 'select' && i === 0 ? trial % 2 : lo + (hi - lo) * rng.next();
          });
          // kinks: keep a step away from them (relu, abs, max/min ties, hypot's origin)
          if (rule.branch && args.some((a) => Math.abs(a) < 0.05)) continue;
          if ((op.name === 'max' || op.name === 'min') && Math.abs(args[0] - args[1]) < 0.05) continue;
          const w = TapeWriter.empty();
          const xs = args.map((_, i) => (op.name === 'select' && i === 0 ? w.constant(args[0]) : w.input(`x${i}`, [])));
          const f = w.op(op.name, xs);
          const grads = appendGradient(w, f, xs);
          // row i of the Hessian: the gradient of ∂f/∂x_i, appended again
          const hess = grads.map((gi) => (gi === null ? xs.map(() => null) : appendGradient(w, gi, xs)));
          const keep = hess.flat().filter((x): x is number => x !== null);
          const { tape, ids } = w.finish(f, keep);
          const values = Object.fromEntries(args.map((v, i) => [`x${i}`, { shape: [], data: Float64Array.of(v) } as Tensor]));
          const js = makeArena(tape, values);
          jsEngine.forward(tape, js);
          const at = (arena: Float64Array, id: number | null) => (id === null ? 0 : arena[tape.nodes[ids[id]].offset]);
          for (let i = 0; i < arity; i++) {
            if (op.name === 'select' && i === 0) continue;
            for (let j = 0; j < arity; j++) {
              if (op.name === 'select' && j === 0) continue;
              // ∂/∂x_j of the rule's partial ∂f/∂x_i (its formula computed), by central differences
              const d = (shift: number) => {
                const a = args.slice();
                a[j] += shift;
                const scalar = (v: number): Tensor => ({ shape: [], data: Float64Array.of(v) });
                return localValue(op.name, a.map(scalar), scalar(rule.f(...a)), i)![0];
              };
              const h = 1e-5 * Math.max(1, Math.abs(args[j]));
              const fd = (d(h) - d(-h)) / (2 * h);
              const ad = at(js, hess[i][j]);
              expect(Math.abs(ad - fd), `${op.name}(${args.join(', ')}): ∂²f/∂x${i}∂x${j} graph ${ad}, differences ${fd}`).toBeLessThanOrEqual(
                1e-6 * (1 + Math.abs(fd)),
              );
            }
          }
        }
      }
    });
  }
});
