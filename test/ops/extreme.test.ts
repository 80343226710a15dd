import { describe, expect, it } from 'vitest';
import { grad, prepare, toTensors } from '../../src/subjects/formula/grad.js';
import { hessian } from '../../src/subjects/formula/hessian.js';
import { makeArena } from '../../src/core/graph/tape.js';
import { jsEngine, nativeEngine } from '../native/harness.js';

/**
 * Ties split evenly (issue 13 item 4): max/min of any number of arguments is one op, so a
 * tie of k arguments gives each 1/k of the gradient (a fold of binary max gave 1/4, 1/4,
 * 1/2 at a three-way tie), forward mode gives the mean of the tied tangents (PyTorch's
 * convention for amax), and max/min of a tensor (maxAll/minAll) split the same way.
 */
const ENGINES = ['js', 'native'] as const;

describe('max/min of n arguments split a tie evenly, in both engines', () => {
  for (const engine of ENGINES) {
    it(`max(x, y, z) at (1, 1, 1): 1/3 each, reverse and forward (${engine})`, () => {
      const r = grad('max(x, y, z)', { x: 1, y: 1, z: 1 }, { engine });
      expect(r.gradient).toEqual({ x: 1 / 3, y: 1 / 3, z: 1 / 3 });
      expect(r.forward).toEqual({ x: 1 / 3, y: 1 / 3, z: 1 / 3 });
    });

    it(`min of five with two tied: 1/2 each, the others 0 (${engine})`, () => {
      const r = grad('min(a, b, c, d, e1)', { a: 3, b: -1, c: 2, d: -1, e1: 0 }, { engine });
      expect(r.value).toBe(-1);
      expect(r.gradient).toEqual({ a: 0, b: 0.5, c: 0, d: 0.5, e1: 0 });
    });

    it(`no tie: the whole gradient to the winner (${engine})`, () => {
      expect(grad('max(x, y, z)', { x: 1, y: 3, z: 2 }, { engine }).gradient).toEqual({ x: 0, y: 1, z: 0 });
    });

    it(`elementwise over tensors with broadcasting: each entry split among its own ties (${engine})`, () => {
      // entry 1: u ties c (v is below); entry 2: all three are 1; entry 3: v wins
      const r = grad('sum(max(u, v, c))', { u: [1, 1, 0], v: [0, 1, 5], c: 1 }, { engine });
      expect(r.value).toBe(1 + 1 + 5);
      expect(r.gradient.u).toEqual([0.5, 1 / 3, 0]);
      expect(r.gradient.v).toEqual([0, 1 / 3, 1]);
      // the scalar c collects its share from every entry: 1/2 + 1/3 + 0
      expect(r.gradient.c).toBeCloseTo(0.5 + 1 / 3, 15);
    });

    it(`max/min of a tensor (maxAll/minAll) split a tie evenly too (${engine})`, () => {
      const r = grad(
        'max(v) + min(A)',
        {
          v: [1, 1, 1],
          A: [
            [2, 2],
            [3, 2],
          ],
        },
        { engine },
      );
      expect(r.gradient.v).toEqual([1 / 3, 1 / 3, 1 / 3]);
      expect(r.gradient.A).toEqual([
        [1 / 3, 1 / 3],
        [0, 1 / 3],
      ]);
      expect(r.forward).toEqual(r.gradient);
    });
  }

  it('seven arguments (a rule made on first use, names past d): four tied get 1/4 each; the gradient graph agrees', () => {
    const at = { p: 1, q: 2, r: 2, s1: 0, t: 2, u: 1, w: 2 };
    for (const engine of ENGINES) {
      const r = grad('max(p, q, r, s1, t, u, w)', at, { engine });
      expect(r.gradient).toEqual({ p: 0, q: 0.25, r: 0.25, s1: 0, t: 0.25, u: 0, w: 0.25 });
      expect(r.forward).toEqual(r.gradient);
    }
    // f = m², m the max: ∂²f/∂q∂r = 2·(1/4)·(1/4), from the graph form of the rule
    const h = hessian('max(p, q, r, s1, t, u, w)^2', at);
    expect(h.hessian[1][2]).toBe(1 / 8);
    expect(h.hessian[0][1]).toBe(0);
  });

  it('the jvp is the mean of the tied tangents (PyTorch amax), in both engines', () => {
    const tape = prepare('max(x, y, z)', toTensors({ x: 1, y: 1, z: 0 }));
    const arena = makeArena(tape, toTensors({ x: 1, y: 1, z: 0 }));
    const dots = [Float64Array.of(3), Float64Array.of(5), Float64Array.of(100)];
    for (const engine of [jsEngine, nativeEngine()]) {
      engine.forward(tape, arena);
      expect([...engine.jvp(tape, arena, dots)], engine.name).toEqual([4]);
    }
  });

  it('max(x, y, z) is one node with three inputs, not a fold of pairs', () => {
    const tape = prepare('max(x, y, z)', toTensors({ x: 1, y: 2, z: 3 }));
    const out = tape.nodes[tape.output];
    expect(out.op).toBe('max');
    expect(out.inputs).toHaveLength(3);
  });

  it('the branch code changes when the set of winners changes, and only then (both engines)', () => {
    const at = (x: number, y: number, z: number) => {
      const values = toTensors({ x, y, z });
      const tape = prepare('max(x, y, z)', values);
      const arena = makeArena(tape, values);
      const codes = [jsEngine, nativeEngine()].map((e) => e.evaluate(tape, arena, Int32Array.of(-1), Float64Array.of(0), new Float64Array(3)).branches[0]);
      expect(codes[1]).toBe(codes[0]);
      return codes[0];
    };
    expect(at(1, 1, 1)).not.toBe(at(1, 1, 0.5));
    expect(at(1, 1, 0.5)).not.toBe(at(1, 0.5, 0.5));
    expect(at(1, 0.5, 0.5)).toBe(at(2, 0.5, 0.25));
    expect(grad('max(x, y, z)', { x: 1, y: 1, z: 1 }).warnings.some((w) => w.code === 'kink' && /max at a tie/.test(w.message))).toBe(true);
  });

  it('NaN wins, as Math.max, and then no argument gets the gradient (both engines)', () => {
    for (const engine of ENGINES) {
      const r = grad('max(x, sqrt(y), z)', { x: 1, y: -1, z: 0 }, { engine, check: false });
      expect(r.value).toBeNaN();
      expect(r.gradient).toEqual({ x: 0, y: 0, z: 0 });
    }
  });
});
