import { describe, expect, it } from 'vitest';
import { choose, jacobian } from '../src/subjects/formula/jacobian.js';

/** Central differences of a plain JS function, for an independent reference. */
function fdJacobian(f: (x: number[]) => number[], x: number[], h = 1e-6): number[][] {
  const m = f(x).length;
  const J = Array.from({ length: m }, () => new Array<number>(x.length).fill(0));
  x.forEach((_, j) => {
    const p = [...x];
    const q = [...x];
    p[j] += h;
    q[j] -= h;
    const fp = f(p);
    const fq = f(q);
    for (let i = 0; i < m; i++) J[i][j] = (fp[i] - fq[i]) / (2 * h);
  });
  return J;
}

function expectClose(a: number[][], b: number[][], digits = 7) {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(v, `[${i + 1},${j + 1}]`).toBeCloseTo(b[i][j], digits)));
}

describe('jacobian', () => {
  it('[x*y, sin(x), x+z]: forward and reverse agree with finite differences; n and m passes', () => {
    const r = jacobian('[x*y, sin(x), x+z]', { x: 2, y: 3, z: 1 });
    expect(r.m).toBe(3);
    expect(r.n).toBe(3);
    expect(r.forward!.passes).toBe(3);
    expect(r.reverse!.passes).toBe(3);
    expect(r.agreement!.passed).toBe(true);
    expect(r.check!.passed).toBe(true);
    // the base point, then per input entry 4 points (±h, ±2h) at the classic step
    // cbrt(ε)·max(1,|x|), which settles every entry here (smaller steps are tried only where it does not)
    expect(r.check!.evaluations).toBe(1 + 3 * 4);
    expectClose(
      r.jacobian,
      fdJacobian(([x, y, z]) => [x * y, Math.sin(x), x + z], [2, 3, 1]),
    );
    expect(r.jacobian).toEqual([
      [3, 2, 0],
      [Math.cos(2), 0, 0],
      [1, 0, 1],
    ]);
    expect(r.rows).toEqual(['f[1]', 'f[2]', 'f[3]']);
    expect(r.columns).toEqual(['x', 'y', 'z']);
  });

  it('W*x: n = 6 (W and x), m = 2; the x block is W and the W block is x in each row', () => {
    const W = [
      [1, 2],
      [3, 4],
    ];
    const x = [1, -1];
    const r = jacobian('W*x', { W, x });
    expect([r.n, r.m]).toEqual([6, 2]);
    expect(r.forward!.passes).toBe(6);
    expect(r.reverse!.passes).toBe(2);
    expect(r.columns).toEqual(['W[1,1]', 'W[1,2]', 'W[2,1]', 'W[2,2]', 'x[1]', 'x[2]']);
    expect(r.jacobian).toEqual([
      [1, -1, 0, 0, 1, 2],
      [0, 0, 1, -1, 3, 4],
    ]);
    expect(r.agreement!.passed && r.check!.passed).toBe(true);
    const onlyX = jacobian('W*x', { W, x }, { wrt: ['x'] });
    expect(onlyX.jacobian).toEqual(W);
  });

  it('softmax(v): diag(s) − s sᵀ, both modes and finite differences', () => {
    const v = [1, 2, 3];
    const r = jacobian('softmax(v)', { v });
    const e = v.map(Math.exp);
    const s = e.map((x) => x / e.reduce((a, b) => a + b));
    expectClose(
      r.jacobian,
      s.map((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj)),
      14,
    );
    expect(r.agreement!.maxAbsDiff).toBeLessThan(1e-15);
    expect(r.check!.passed).toBe(true);
  });

  it('a scalar output is a 1×n Jacobian: the gradient', () => {
    const r = jacobian('(x+y)*sin(x)', { x: Math.PI, y: Math.PI });
    expect(r.rows).toEqual(['f']);
    expect(r.reverse!.passes).toBe(1);
    expect(r.forward!.passes).toBe(2);
    expect(r.jacobian[0][0]).toBeCloseTo(-2 * Math.PI, 12);
  });

  it('--mode auto runs only the cheaper mode and says why; forward/reverse run only themselves', () => {
    const wide = jacobian(
      'sum(W*x)',
      {
        W: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        x: [1, 2, 3],
      },
      { mode: 'auto' },
    );
    expect(wide.choice!.mode).toBe('reverse');
    expect(wide.choice!.reason).toMatch(/m = 1 output entry < n = 9 input entries/);
    expect(wide.forward).toBeNull();
    expect(wide.reverse!.passes).toBe(1);
    expect(wide.check!.passed).toBe(true);
    const tall = jacobian('[x, x^2, x^3, sin(x)]', { x: 0.5 }, { mode: 'auto' });
    expect(tall.choice!.mode).toBe('forward');
    expect(tall.reverse).toBeNull();
    expect(tall.forward!.passes).toBe(1);
    expect(tall.jacobian.map((r) => r[0])).toEqual([1, 1, 0.75, Math.cos(0.5)]);
    expect(jacobian('[x*y, x]', { x: 1, y: 2 }, { mode: 'reverse' }).forward).toBeNull();
    expect(choose(4, 4).mode).toBe('forward');
  });

  it('a kink where finite differences disagree is not judged: neither a failure nor a pass', () => {
    // relu at 0: autodiff takes relu'(0) = 0 (as PyTorch), central differences see (h − 0)/2h = 1/2
    // at every step, and the one-sided slopes 0 and 1 differ at every step: the function is not smooth here
    const r = jacobian('[relu(x), x]', { x: 0 });
    expect(r.check!.passed).toBe(true);
    expect(r.check!.failures).toEqual([]);
    expect(r.check!.unjudgedCount).toBe(1);
    expect(r.check!.unjudged[0]).toMatchObject({ row: 'f[1]', column: 'x', ad: 0, status: 'kink' });
    expect(r.check!.unjudged[0].fd).toBeCloseTo(0.5, 6);
    expect(r.check!.unjudged[0].note).toMatch(/^the one-sided slopes disagree at every step tried .*: a kink/);
    // a wrong Jacobian entry next to it is still a failure
    const near = jacobian('[relu(x), x]', { x: 0.5 });
    expect(near.check!.passed).toBe(true);
    expect(near.check!.unjudgedCount).toBe(0);
  });

  it('refuses a Jacobian past the entry limit, and formulas without variables', () => {
    expect(() => jacobian('v', { v: Array.from({ length: 30 }, (_, i) => i) }, { maxEntries: 100 })).toThrow(/30 × 30 = 900 entries; the limit is 100/);
    expect(() => jacobian('[1, 2]', {})).toThrow(/no variables/);
  });
});
