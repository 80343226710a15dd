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

  it('refuses unknown names and wrong sizes', () => {
    const c = compile(FORMULA, values(new Rng(1)), { wrt: ['W1', 'W2'] });
    expect(() => c.set({ z: 1 })).toThrow(/not a value/);
    expect(() => c.set({ W1: new Float64Array(3) })).toThrow(/compiled with 20/);
    expect(() => compile('x*W1', values(new Rng(1)))).toThrow(/needs a scalar/);
  });
});
