import { describe, expect, it } from 'vitest';
import { toHaveCorrectGradient, type GradientMatchers } from '../src/vitest.js';
import * as L from '../fixtures/code/layers.mjs';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Assertion<T = any> extends GradientMatchers<T> {}
}

expect.extend({ toHaveCorrectGradient });

const W = [
  [0.5, -1.2, 0.3],
  [0.8, 0.1, -0.7],
  [-0.4, 0.9, 1.1],
];
const x = [0.7, -0.3, 1.4];

describe('autograd-cli/vitest: expect(fn).toHaveCorrectGradient', () => {
  it('passes a correct backward pass, and .not passes a wrong one', () => {
    expect(L.quadratic).toHaveCorrectGradient({ at: { W, x }, grad: L.quadratic.grad });
    expect(L.dense).toHaveCorrectGradient({ at: { W, x, b: [0, 0.1, -0.1] } });
    expect(L.quadraticSign).not.toHaveCorrectGradient({ at: { W, x } });
  });

  it('a failure message as readable as the CLI: the inputs, the entry named, both numbers', () => {
    let message = '';
    try {
      expect(L.quadraticSign).toHaveCorrectGradient({ at: { W, x } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^expected quadraticSign's gradient to be correct:\nquadraticSign: its gradient against finite differences/);
    expect(message).toMatch(/\n {2}W +9 +\S+ +✓\n {2}x +3 +\S+ +✗\n/);
    expect(message).toMatch(/✗ ∂f\/∂x\[2\]: your gradient gives -?\d[\d.e-]*, finite differences give -?\d[\d.e-]* \(abs err/);
    // the verdict line ends with the mistake's pattern: here one entry, its sign
    expect(message).toMatch(
      /✗ gradient check failed for x \(rtol 0\.00001, atol 1e-7; \d+ evaluations\): one entry of your ∂f\/∂x is wrong: x\[2\], with the wrong sign; every other entry agrees$/,
    );
  });

  it('misuse is an error, never a pass (even under .not)', () => {
    expect(() => expect(42).toHaveCorrectGradient({ at: { x: 1 } })).toThrow(/expected a function/);
    expect(() => expect(({ x: v }: { x: number }) => v * v).not.toHaveCorrectGradient({ at: { x: 1 }, grad: () => ({ x: [1, 2] }) })).toThrow(
      /the check could not run: grad\(values\)\.x has shape \[2\], but x has shape \[\]/,
    );
  });
});
