import { describe, expect, it } from 'vitest';
import { AgError, gradcheck, GradcheckError } from '../src/index.js';

describe('gradcheck (library)', () => {
  it('returns the result: value, gradient, finite differences, no failures', () => {
    const r = gradcheck('(x+y)*sin(x)', { x: Math.PI, y: Math.PI });
    expect(r.passed).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.gradient.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(r.finiteDifference!.x as number).toBeCloseTo(-2 * Math.PI, 6);
    expect(r.check!.method).toBe('central');
  });

  it('checks expected gradients given as formulas or numbers', () => {
    expect(gradcheck('(x+y)*sin(x)', { x: 1, y: 0 }, { expect: { gradient: { x: 'sin(x) + (x + y)*cos(x)', y: 'sin(x)' } } }).passed).toBe(true);
    const r = gradcheck('(x+y)*sin(x)', { x: 1, y: 0 }, { expect: { gradient: { x: 'sin(x)' } } });
    expect(r.passed).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ kind: 'gradient', entry: '∂f/∂x' });
    expect(r.failures[0].message).toBe(
      'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x+y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    const W = [
      [1, 2],
      [3, 4],
    ];
    expect(
      gradcheck(
        'sum((W*x).^2)',
        { W, x: [1, -1] },
        {
          expect: {
            gradient: {
              W: [
                [-2, 2],
                [-2, 2],
              ],
              x: "2*W'*(W*x)",
            },
            value: 2,
          },
        },
      ).passed,
    ).toBe(true);
  });

  it('throwOnFail: an error whose message names the failing entries, not a tensor dump', () => {
    const W = Array.from({ length: 5 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j)));
    let thrown: unknown;
    try {
      // the student's answer is off by one in a single entry (row 3, column 7)
      const answer = W.map((row, i) => row.map((v, j) => 2 * v + (i === 2 && j === 6 ? 1 : 0)));
      gradcheck('sum(W1.^2)', { W1: W }, { expect: { gradient: { W1: answer } }, throwOnFail: true });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GradcheckError);
    const e = thrown as GradcheckError;
    expect(e.message.split('\n')[0]).toBe('gradcheck failed for sum(W1.^2):');
    expect(e.message).toMatch(
      /your ∂f\/∂W1\[3,7\] = [\d.-]+ at W1 \(5×8\); the true value is [\d.-]+ \(finite differences agree: [\d.-]+\); off by \d+%, beyond rtol 1e-5, atol 1e-7; wrong in 1 of 40 entries/,
    );
    expect(e.message.length).toBeLessThan(400);
    expect(e.result.passed).toBe(false);
    // passing checks do not throw
    expect(gradcheck('sum(W1.^2)', { W1: W }, { throwOnFail: true }).passed).toBe(true);
  });

  it('a formula that cannot run throws its AgError with a span', () => {
    try {
      gradcheck('(x + y) * sinn(x)', { x: 1, y: 2 });
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(AgError);
      expect((e as AgError).code).toBe('unknown-function');
      expect((e as AgError).span).toEqual({ start: 10, end: 14 });
    }
    expect(() => gradcheck('x*y', { x: 1, y: 2 }, { expect: { gradient: { z: 1 } } })).toThrow(
      'expect.gradient.z: the formula has no variable or named step z',
    );
  });

  it('honours the tolerance options', () => {
    expect(gradcheck('x^2', { x: 3 }, { expect: { gradient: { x: 6.01 } } }).passed).toBe(false);
    expect(gradcheck('x^2', { x: 3 }, { expect: { gradient: { x: 6.01 } }, rtol: 0.01 }).passed).toBe(true);
  });

  it('a check that judged nothing has not passed: the library says what its own options can do, not what a case file would', () => {
    const r = gradcheck('abs(x)', { x: 0 });
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([expect.objectContaining({ kind: 'unjudged', entry: 'f' })]);
    expect(r.failures[0].message).toMatch(/^finite differences could not judge the only entry: nothing judged is not a pass at x=0 — .*--eps/);
    expect(r.failures[0].message).not.toMatch(/at:|expect:/);
    expect(gradcheck('abs(x)', { x: 0 }, { allowUnjudged: true }).passed).toBe(true);
  });
});
