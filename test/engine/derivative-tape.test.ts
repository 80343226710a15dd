import { describe, expect, it } from 'vitest';
import { jvpByTape, reverseByTape, gradientInto, gradientTape, type RunForward } from '../../src/core/engine/derivative-tape.js';
import { forwardFrom, jsEngine } from '../../src/core/engine/js.js';
import { buildTape } from '../../src/core/graph/build.js';
import { makeArena, view, type Tape } from '../../src/core/graph/tape.js';
import { Rng } from '../../src/core/random.js';
import { isFunctionName } from '../../src/core/ops/index.js';
import { parseProgram } from '../../src/core/parse/parse.js';
import { sizeOf, type Shape, type Tensor } from '../../src/core/tensor.js';
import { expectClose, oneOpTape, opsUnderTest, randomCase, randomValues } from '../native/harness.js';

/**
 * Derivative tapes (the engine-agnostic path the native engine runs: the gradient or
 * tangent appended once by the op table's graph rules, then run forward by forward
 * kernels) against the TypeScript engine, which computes the same rules eagerly, op by
 * op at random points and shapes, broadcasting and kinks included; and both against
 * finite differences, and forward mode against reverse mode. Here the forward kernels
 * are the TypeScript ones; the native engine runs the same tapes (test/engine/native*.test.ts).
 */
const TRIALS = 16;
/** the same rules evaluated through a tape (constants folded, identical nodes shared) or eagerly */
const SAME_REL = 1e-12;
const run: RunForward = forwardFrom;
const build = (source: string, values: Record<string, Tensor>) => buildTape(parseProgram(source, { isFunction: isFunctionName }), values);

const randomTensor = (rng: Rng, shape: Shape): Tensor => ({ shape, data: Float64Array.from({ length: sizeOf(shape) }, () => rng.normal()) });

/** Σ g ⊙ out at x + h·e_j, by central differences, for every input entry j (inputs concatenated). */
function differences(tape: Tape, arena: Float64Array, g: Float64Array): Float64Array {
  const slots: number[] = [];
  for (const inp of tape.inputs) for (let k = 0; k < tape.nodes[inp.node].size; k++) slots.push(tape.nodes[inp.node].offset + k);
  const out = tape.nodes[tape.output];
  const f = (work: Float64Array) => {
    jsEngine.forward(tape, work);
    let s = 0;
    for (let k = 0; k < out.size; k++) s += g[k] * work[out.offset + k];
    return s;
  };
  return Float64Array.from(slots, (slot) => {
    const h = 1e-6 * Math.max(1, Math.abs(arena[slot]));
    const up = arena.slice();
    up[slot] += h;
    const down = arena.slice();
    down[slot] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

function inputsOf(tape: Tape, buf: Float64Array): Float64Array {
  return Float64Array.from(tape.inputs.flatMap((inp) => Array.from(view(buf, tape.nodes[inp.node]))));
}

describe('derivative tapes = the eager engine = finite differences, op by op', () => {
  for (const op of opsUnderTest()) {
    it(op.name, () => {
      const rng = new Rng(4099 + op.name.length * 37 + op.name.charCodeAt(0));
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = randomCase(rng, op);
        const values = randomValues(rng, c);
        const { tape, arena } = oneOpTape(c, values);
        jsEngine.forward(tape, arena);
        const where = `${op.name} ${JSON.stringify(c.shapes)} at ${JSON.stringify(values.map((v) => Array.from(v.data)))}`;
        const out = tape.nodes[tape.output];
        const g = randomTensor(rng, out.shape).data;

        // reverse: the gradient tape run forward against the eager sweep, every edge too
        const eager = jsEngine.reverse(tape, arena, { seed: g, edges: true });
        const byTape = reverseByTape(tape, arena, run, { seed: g, edges: true });
        expectClose(inputsOf(tape, byTape.adjoint), inputsOf(tape, eager.adjoint), SAME_REL, `${where}: gradient tape vs eager`, true);
        expect(byTape.edges!.map((e) => [e.to, e.input, e.from])).toEqual(eager.edges!.map((e) => [e.to, e.input, e.from]));
        byTape.edges!.forEach((e, k) => expectClose(e.contribution, eager.edges![k].contribution, SAME_REL, `${where}: edge ${k}`, true));

        // forward: the tangent tape against eager jvp, and against reverse (⟨g, J·u⟩ = ⟨Jᵀg, u⟩)
        const dots = tape.inputs.map((inp) => randomTensor(rng, tape.nodes[inp.node].shape).data);
        const tangent = jvpByTape(tape, arena, dots, run);
        expectClose(tangent, jsEngine.jvp(tape, arena, dots), SAME_REL, `${where}: tangent tape vs eager`, true);
        let lhs = 0;
        for (let k = 0; k < g.length; k++) lhs += g[k] * tangent[k];
        const grad = inputsOf(tape, byTape.adjoint);
        const u = Float64Array.from(dots.flatMap((d) => Array.from(d)));
        let rhs = 0;
        for (let k = 0; k < u.length; k++) rhs += grad[k] * u[k];
        if (Number.isFinite(lhs) && Number.isFinite(rhs))
          expect(Math.abs(lhs - rhs), `${where}: forward vs reverse ${lhs} vs ${rhs}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lhs)));

        // against finite differences, away from kinks (a constant output's derivative is 0 where it is flat)
        if (c.onKinks || op.kink || tape.inputs.length === 0) continue;
        const fd = differences(tape, arena, g);
        grad.forEach((v, k) => {
          expect(Math.abs(v - fd[k]), `${where}: ∂/∂ entry ${k}: rule ${v}, differences ${fd[k]}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(fd[k])));
        });
      }
    });
  }
});

describe('derivative tapes of formulas', () => {
  const formulas: [string, Record<string, Tensor>][] = [
    [
      'sum(tanh(W*x + b) .^ 2)',
      {
        W: { shape: [3, 2], data: Float64Array.of(0.1, -0.4, 0.3, 0.2, -0.5, 0.7) },
        x: { shape: [2], data: Float64Array.of(1, -2) },
        b: { shape: [3], data: Float64Array.of(0.1, 0, -0.1) },
      },
    ],
    ['logsumexp(z) - z[2]', { z: { shape: [4], data: Float64Array.of(0.5, -1, 2, 0.25) } }],
    ['x^2 * sin(y) + max(x, y) / norm([x, y])', { x: { shape: [], data: Float64Array.of(1.3) }, y: { shape: [], data: Float64Array.of(-0.4) } }],
  ];
  for (const [source, values] of formulas) {
    it(`${source}: the gradient in one run from the first node (a training step) equals the eager engine`, () => {
      const tape = build(source, values);
      const arena = makeArena(tape, values);
      const adjoint = new Float64Array(tape.arenaSize).fill(Number.NaN);
      // the arena holds only the inputs and constants: the run computes the value too
      const value = gradientInto(tape, arena, adjoint, run);
      jsEngine.forward(tape, arena);
      expect(value).toBe(arena[tape.nodes[tape.output].offset]);
      const eager = jsEngine.reverse(tape, arena);
      expectClose(inputsOf(tape, adjoint), inputsOf(tape, eager.adjoint), SAME_REL, source, true);
      // a second step reuses the tape and its work arena
      expect(gradientInto(tape, arena, adjoint, run)).toBe(value);
      expect(gradientTape(tape, false)).toBe(gradientTape(tape, false));
    });
  }

  it('a zero upstream gradient contributes nothing, even where the partial is infinite', () => {
    // d/dx sqrt(x) at 0 is Inf; the seed 0 on that entry must leave 0, not NaN (0·Inf)
    const x0 = { x: { shape: [2], data: Float64Array.of(0, 4) } };
    const tape = build('sqrt(x)', x0);
    const arena = makeArena(tape, x0);
    jsEngine.forward(tape, arena);
    const seed = Float64Array.of(0, 1);
    const want = Float64Array.of(0, 0.25);
    const x = tape.nodes[tape.inputs[0].node];
    expect(Array.from(view(reverseByTape(tape, arena, run, { seed }).adjoint, x))).toEqual(Array.from(want));
    expect(Array.from(view(jsEngine.reverse(tape, arena, { seed }).adjoint, x))).toEqual(Array.from(want));
  });
});

describe('derivative tapes refuse bad buffers with an error', () => {
  it('a tangent per input, a seed the size of the output', () => {
    const x0 = { x: { shape: [3], data: Float64Array.of(1, 2, 3) } };
    const tape = build('x.^2', x0);
    const arena = makeArena(tape, x0);
    jsEngine.forward(tape, arena);
    expect(() => jvpByTape(tape, arena, [], run)).toThrow(/one tangent per tape input \(1\), not 0/);
    expect(() => jvpByTape(tape, arena, [new Float64Array(2)], run)).toThrow(/tangent of x has 2 entries, not 3/);
    expect(() => reverseByTape(tape, arena, run, { seed: new Float64Array(2) })).toThrow(/seed has 2 entries, not 3/);
    expect(() => reverseByTape(tape, arena, run)).toThrow(/non-scalar output needs a seed/);
  });
});
