import { describe, expect, it } from 'vitest';
import { compile } from '../../src/subjects/formula/compiled.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { expectClose } from './harness.js';

/** compile(): a formula prepared once and run many times gives what grad() gives, on both engines. */
const FORMULA = 'sum((relu(x*W1)*W2 - y).^2)';

function values(rng: Rng): Record<string, Tensor> {
  const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  return { x: t([6, 5]), W1: t([5, 4]), W2: t([4, 3]), y: t([6, 3]) };
}

describe('compile(): repeated runs of one tape', () => {
  for (const engine of ['native', 'js'] as const) {
    it(`${engine}: value and gradient as grad() gives them, after new values are set`, () => {
      const rng = new Rng(3);
      const c = compile(FORMULA, values(rng), { wrt: ['W1', 'W2'], engine });
      expect(c.engine).toBe(engine);
      expect(c.variables).toEqual(['W1', 'W2']);
      for (let round = 0; round < 3; round++) {
        const v = values(rng);
        // variables and the fixed values (x, y) both take new values, by copy or in place
        c.set({ W1: v.W1, W2: v.W2.data, y: v.y });
        c.values.x.set(v.x.data);
        const r = c.grad();
        const ref = grad(FORMULA, v, { wrt: ['W1', 'W2'], engine: 'js', check: false, forwardMode: false, edges: false });
        expect(r.value).toBeCloseTo(ref.value, 9);
        expectClose(r.gradient.W1, (ref.gradient.W1 as number[][]).flat(), 1e-12, 'W1');
        expectClose(r.gradient.W2, (ref.gradient.W2 as number[][]).flat(), 1e-12, 'W2');
        expect(c.run()).toBe(r.value);
      }
    });
  }

  // native: each gradient is either the run's own node (read in place) or a copy; neither
  // may alias another gradient, an input or a constant, and a scribbled-on gradient does
  // not change the next step
  const cases: [string, Record<string, Tensor>][] = [
    [FORMULA, values(new Rng(5))],
    // both gradients are the same broadcast ones
    ['sum(a + b)', { a: { shape: [3], data: Float64Array.of(1, 2, 3) }, b: { shape: [3], data: Float64Array.of(-1, 0, 4) } }],
    // ∂/∂a is b and ∂/∂b is a: the inputs themselves
    ['a*b', { a: { shape: [], data: Float64Array.of(1.5) }, b: { shape: [], data: Float64Array.of(-2) } }],
    // nothing flows to c
    ['sum(a.^2) + sum(floor(c))', { a: { shape: [2], data: Float64Array.of(0.5, -3) }, c: { shape: [2], data: Float64Array.of(0.3, 2.7) } }],
  ];
  for (const [formula, vals] of cases) {
    it(`native ${formula}: gradients are independent buffers that each step writes in full`, () => {
      const c = compile(formula, vals, { engine: 'native' });
      const ref = grad(formula, vals, { engine: 'js', check: false, forwardMode: false, edges: false });
      const want = (name: string) => [ref.gradient[name]].flat(2) as number[];
      const first = c.grad();
      expect(first.value).toBeCloseTo(ref.value, 12);
      for (const name of c.variables) expectClose(first.gradient[name], want(name), 1e-12, name);
      const inputs = Object.fromEntries(Object.entries(c.values).map(([k, v]) => [k, v.slice()]));
      for (const name of c.variables) first.gradient[name].fill(Number.NaN);
      // the values given are untouched by writing into the gradients
      for (const [k, v] of Object.entries(c.values)) expect(Array.from(v)).toEqual(Array.from(inputs[k]));
      const again = c.grad();
      expect(again.value).toBe(first.value);
      for (const name of c.variables) expectClose(again.gradient[name], want(name), 1e-12, name);
    });
  }

  it('refuses unknown names and wrong sizes', () => {
    const c = compile(FORMULA, values(new Rng(1)), { wrt: ['W1', 'W2'] });
    expect(() => c.set({ z: 1 })).toThrow(/not a value/);
    expect(() => c.set({ W1: new Float64Array(3) })).toThrow(/compiled with 20/);
    expect(() => compile('x*W1', values(new Rng(1)))).toThrow(/needs a scalar/);
  });
});
