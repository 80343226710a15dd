import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/api/gradcheck.js';
import { AgError } from '../../src/core/errors.js';
import type { Tensor } from '../../src/core/tensor.js';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { cli } from '../helpers.js';

/** derive of a vector f: its Jacobian in the form courses write it, cross-checked, and accepted by check as jacobian.<x>. */

const t = (shape: number[], data: number[]): Tensor => ({ shape, data: Float64Array.from(data) });
const z3 = t([3], [0.3, -1.2, 0.5]);
const W = t([3, 3], [0.4, -0.7, 1.1, 0.2, 0.9, -0.3, -1.4, 0.6, 0.8]);
const A = t([2, 3], [1, 2, -1, 0.5, -3, 2]);
const b = t([3], [0.1, -0.2, 0.3]);

const errorOf = (fn: () => unknown): AgError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AgError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('derive of a vector f prints its Jacobian as courses write it', () => {
  // each published form, printed exactly, then handed to the check as the student's answer
  const forms: [string, string, Record<string, Tensor | number>, string, string][] = [
    ['CS224n: the softmax Jacobian', 'softmax(z)', { z: z3 }, 'z', "diag(softmax(z)) - softmax(z) * softmax(z)'"],
    ['CS224n: a linear layer', 'A*x', { A, x: z3 }, 'x', 'A'],
    ['CS224n / d2l: the sigmoid', 'sigmoid(x)', { x: z3 }, 'x', 'diag(sigmoid(x) .* (1 - sigmoid(x)))'],
    ['an elementwise g: diag(g′(x))', 'tanh(x)', { x: z3 }, 'x', 'diag(1 - tanh(x) .^ 2)'],
    ['d2l: relu', 'relu(x)', { x: z3 }, 'x', 'diag((x > 0) ? 1 : 0)'],
    ['d2l: a tanh layer by its input', 'tanh(W*x + b)', { W, x: z3, b }, 'x', 'diag(1 - tanh(W * x + b) .^ 2) * W'],
    ['the chain rule: a right factor written once', 'softmax(W*x)', { W, x: z3 }, 'x', "(diag(softmax(W * x)) - softmax(W * x) * softmax(W * x)') * W"],
    ['log-softmax', 'logsoftmax(z)', { z: z3 }, 'z', "eye(3) - ones(3) * softmax(z)'"],
    ['a product rule on the diagonal', 'x .* sin(x)', { x: z3 }, 'x', 'diag(sin(x) + x .* cos(x))'],
    ['a scalar variable: the column [m]', '[s, s^2]', { s: 0.7 }, 's', '[1, 2 * s]'],
  ];
  for (const [what, formula, at, v, want] of forms) {
    it(`${what}: ${formula} → ${want}`, () => {
      const d = derive(formula, { at, wrt: [v], simplifyBudgetMs: 60_000 });
      expect(d.derivatives[v]).toBe(want);
      expect(d.check.passed).toBe(true);
      expect(d.notes.some((n) => n.includes('its Jacobian'))).toBe(true);
      const r = gradcheck(formula, at, { wrt: [v], expect: { jacobian: { [v]: d.derivatives[v] } } });
      expect([r.passed, r.failures.map((f) => f.message)]).toEqual([true, []]);
    });
  }

  it('the cross-check judges entry by entry at other shapes too, against the engine’s Jacobian', () => {
    const d = derive('softmax(z)', { at: { z: z3 } });
    expect(d.check.points.length).toBe(5);
    expect(d.check.shapes).toBeGreaterThan(1);
    expect(d.check.maxRelError).toBeLessThan(1e-12);
  });

  it('shape-specific constants (eye(3), ones(1, 3)) are noted and checked at the shapes given', () => {
    const d = derive('z*sum(z)', { at: { z: z3 } });
    expect(d.derivatives.z).toBe('sum(z) * eye(3) + z * ones(1, 3)');
    expect(d.notes.join('\n')).toMatch(/constants sized for these shapes/);
    expect(d.check.shapes).toBe(1);
  });

  it('a matrix f, a matrix variable, a tangent through a matrix: one clear message naming the limit', () => {
    const f = errorOf(() => derive("x*y'", { at: { x: [1, 2], y: [3, 4] } }));
    expect(f.message).toMatch(/this f has shape \[2,2\], whose derivative has more than 2 dimensions/);
    const m = errorOf(() => derive('W*z', { at: { W, z: z3 } }));
    expect(m.message).toBe("derive writes a vector f's Jacobian with respect to scalars and vectors; W is a matrix [3,3]");
    expect(m.hint).toMatch(/--wrt/);
    const through = errorOf(() => derive('diag(z)*z', { at: { z: z3 } }));
    expect(through.code).toBe('unsupported');
    expect(through.message).toMatch(/^derive cannot write this Jacobian in closed form: its tangent passes through a matrix product/);
  });

  it('on the command line: the Jacobian printed, a refusal is one line and exit 2', () => {
    const ok = cli(['derive', 'softmax(z)', '--at', 'z=randn(3)']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("∂f/∂z = diag(softmax(z)) - softmax(z) * softmax(z)'");
    const no = cli(['derive', 'diag(z)*z', '--at', 'z=randn(3)']);
    expect(no.code).toBe(2);
    expect(no.stdout).toBe('');
    expect(no.stderr).toMatch(/^error: derive cannot write this Jacobian in closed form/);
    expect(no.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('gradcheck: expect.jacobian for a vector formula', () => {
  it('passes the right Jacobian and returns it', () => {
    const r = gradcheck('softmax(z)', { z: z3 }, { expect: { jacobian: { z: "diag(softmax(z)) - softmax(z)*softmax(z)'" } } });
    expect(r.passed).toBe(true);
    expect(r.jacobian).toHaveLength(3);
    expect(r.jacobian![0]).toHaveLength(3);
  });

  it('names a transposed answer and a wrong entry', () => {
    const tr = gradcheck('A*x', { A, x: z3 }, { wrt: ['x'], expect: { jacobian: { x: "A'" } } });
    expect(tr.passed).toBe(false);
    expect(tr.failures[0].message).toMatch(/transpose of the true value/);
    const wrong = gradcheck('softmax(z)', { z: z3 }, { expect: { jacobian: { z: 'diag(softmax(z))' } } });
    expect(wrong.passed).toBe(false);
    expect(wrong.failures[0].entry).toMatch(/∂f/);
  });

  it('a scalar f with a Jacobian answer is refused, pointing at gradient', () => {
    expect(() => gradcheck('sum(z)', { z: z3 }, { expect: { jacobian: { z: 'ones(1, 3)' } } })).toThrow(/its Jacobian is its gradient/);
  });
});
