import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderHessian } from '../../src/report/hessian.js';
import { AgError } from '../../src/core/errors.js';
import { curvatureOf, hessian, hvp, secondOrderCheck, secondOrderTape } from '../../src/subjects/formula/hessian.js';
import * as library from '../../src/index.js';
import { toTensors } from '../../src/subjects/formula/grad.js';
import { Rng } from '../../src/core/random.js';
import { expectClose } from '../native/harness.js';

/**
 * Hessians of the lecture's functions against their closed forms, symmetry, Hessian-vector
 * products against the whole Hessian, the second-order check (it passes on right
 * derivatives and is not fooled at kinks), the limits, and native = JS.
 */
const rng = new Rng(2024);
const randn = (m: number, n?: number): number[] | number[][] =>
  n === undefined ? Array.from({ length: m }, () => rng.normal()) : Array.from({ length: m }, () => Array.from({ length: n }, () => rng.normal()));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('hessian: closed forms of the lecture functions', () => {
  it('‖Wx‖²: 2WᵀW in x, and 2δ_ik x_j x_l in W', () => {
    const W = randn(3, 4) as number[][];
    const x = randn(4) as number[];
    for (const engine of ['js', 'native'] as const) {
      const r = hessian('sum((W*x).^2)', { W, x }, { wrt: ['x'], engine });
      expect(r.engine).toBe(engine);
      expect(r.entries).toEqual(['x[1]', 'x[2]', 'x[3]', 'x[4]']);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const want = 2 * W.reduce((s, row) => s + row[i] * row[j], 0);
          expect(r.hessian[i][j]).toBeCloseTo(want, 12);
        }
      }
      expect(r.check?.passed).toBe(true);
      expect(r.symmetry.passed).toBe(true);
      // WᵀW of a 3×4 W has rank 3: one eigenvalue is 0
      expect(r.eigen?.curvature).toBe('positive semidefinite');
      const rw = hessian('sum((W*x).^2)', { W, x }, { wrt: ['W'], engine });
      expect(rw.n).toBe(12);
      expect(rw.entries[5]).toBe('W[2,2]');
      for (let p = 0; p < 12; p++) {
        for (let q = 0; q < 12; q++) {
          const [i, j, k, l] = [Math.floor(p / 4), p % 4, Math.floor(q / 4), q % 4];
          expect(rw.hessian[p][q]).toBeCloseTo(i === k ? 2 * x[j] * x[l] : 0, 12);
        }
      }
      expect(rw.check?.passed).toBe(true);
    }
  });

  it('logistic loss log(1 + exp(−y(wᵀx + b))): σ(z)(1 − σ(z)) [x; 1][x; 1]ᵀ in (w, b)', () => {
    const w = randn(3) as number[];
    const x = randn(3) as number[];
    const b = 0.3;
    const y = -1;
    const r = hessian("log(1 + exp(-y*(w'*x + b)))", { w, x, b, y }, { wrt: ['w', 'b'] });
    const z = y * (w.reduce((s, v, i) => s + v * x[i], 0) + b);
    const s = sigmoid(z) * (1 - sigmoid(z));
    const xb = [...x, 1];
    expect(r.entries).toEqual(['w[1]', 'w[2]', 'w[3]', 'b']);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(r.hessian[i][j]).toBeCloseTo(s * xb[i] * xb[j], 12);
    expect(r.check?.passed).toBe(true);
    expect(r.eigen?.curvature).toBe('positive semidefinite');
  });

  it('scalars: x²y + sin(x)·y³ by hand, symmetric, indefinite', () => {
    const r = hessian('x^2*y + sin(x)*y^3', { x: 0.7, y: -1.3 });
    const [x, y] = [0.7, -1.3];
    const want = [
      [2 * y - Math.sin(x) * y ** 3, 2 * x + 3 * Math.cos(x) * y ** 2],
      [2 * x + 3 * Math.cos(x) * y ** 2, 6 * Math.sin(x) * y],
    ];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(r.hessian[i][j]).toBeCloseTo(want[i][j], 12);
    expect(r.symmetry.maxAbsDiff).toBeLessThan(1e-14);
    expect(r.eigen?.curvature).toBe('indefinite');
    expect(r.eigen!.values[0]).toBeLessThan(0);
    expect(r.eigen!.values[1]).toBeGreaterThan(0);
  });

  it('a linear formula has a zero Hessian, and a convex quadratic a positive definite one', () => {
    const lin = hessian('sum(a .* x) + 3', { a: [1, 2], x: [3, 4] }, { wrt: ['x'] });
    expect(lin.hessian).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(lin.eigen?.curvature).toBe('zero');
    const q = hessian(
      "x'*A*x",
      {
        A: [
          [2, 1],
          [1, 3],
        ],
        x: [1, -1],
      },
      { wrt: ['x'] },
    );
    expect(q.hessian).toEqual([
      [4, 2],
      [2, 6],
    ]);
    expect(q.eigen?.curvature).toBe('positive definite');
  });

  it('curvature words', () => {
    expect(curvatureOf([1, 2]).curvature).toBe('positive definite');
    expect(curvatureOf([0, 2]).curvature).toBe('positive semidefinite');
    expect(curvatureOf([-2, -1]).curvature).toBe('negative definite');
    expect(curvatureOf([-2, 1e-20]).curvature).toBe('negative semidefinite');
    expect(curvatureOf([-1, 1]).curvature).toBe('indefinite');
  });
});

describe('Hessian-vector products', () => {
  const mlp = 'sum((max(X*W1, 0)*W2 - Y).^2)';
  const vals = { X: randn(5, 4), W1: randn(4, 3), W2: randn(3, 2), Y: randn(5, 2) };

  it('H·v equals the whole Hessian times v, on the two-layer ReLU net', () => {
    const H = hessian(mlp, vals, { wrt: ['W1', 'W2'] });
    expect(H.n).toBe(18);
    const v = { W1: randn(4, 3), W2: randn(3, 2) };
    const r = hvp(mlp, vals, v, { wrt: ['W1', 'W2'] });
    const flatV = [...(v.W1 as number[][]).flat(), ...(v.W2 as number[][]).flat()];
    const got = [...(r.hvp.W1 as number[][]).flat(), ...(r.hvp.W2 as number[][]).flat()];
    const want = H.hessian.map((row) => row.reduce((s, h, j) => s + h * flatV[j], 0));
    expectClose(got, want, 1e-12, 'H·v', true);
    expect(r.check?.passed).toBe(true);
    // the ReLU net's Hessian in W2 alone is 2·(hidden activations)ᵀ(…) ⊗ I: positive semidefinite
    expect(hessian(mlp, vals, { wrt: ['W2'] }).eigen?.curvature).toMatch(/^positive/);
  });

  it('a direction for some variables only moves those; a wrong shape or name is an error', () => {
    const r = hvp('x^2*y', { x: 2, y: 3 }, { x: 1 });
    expect(r.hvp).toEqual({ x: 6, y: 4 });
    expect(r.direction).toEqual({ x: 1, y: 0 });
    expect(() => hvp('x^2*y', { x: 2, y: 3 }, { z: 1 })).toThrow(/no variable z/);
    expect(() => hvp('sum(x.^2)', { x: [1, 2] }, { x: [1, 2, 3] })).toThrow(/shape \[3\], but x has shape \[2\]/);
  });

  it('native and JS engines give the same Hessian (relative 1e-12)', () => {
    const js = hessian(mlp, vals, { wrt: ['W1', 'W2'], engine: 'js', check: false });
    const nat = hessian(mlp, vals, { wrt: ['W1', 'W2'], engine: 'native', check: false });
    expect(nat.engine).toBe('native');
    expectClose(nat.hessian.flat(), js.hessian.flat(), 1e-12, 'native vs js Hessian', true);
    const sm = { W: randn(3, 4), x: randn(4) };
    const f = "-log(softmax(W*x, 1)[2]) + norm(W, 'fro')^2/2";
    expectClose(hessian(f, sm, { engine: 'native' }).hessian.flat(), hessian(f, sm, { engine: 'js' }).hessian.flat(), 1e-12, 'softmax cross-entropy', true);
  });
});

describe('the second-order check', () => {
  it('passes on right derivatives along random directions', () => {
    const r = secondOrderCheck('sum(tanh(W*x + b).^2) + prod(x)', { W: randn(3, 4), x: randn(4), b: randn(3) }, { directions: 6, seed: 3 });
    expect(r.passed).toBe(true);
    expect(r.check.directions).toHaveLength(6);
    expect(r.check.evaluations).toBe(24);
    expect(r.check.maxRelError).toBeLessThan(1e-6);
  });

  it('one public name: secondOrderCheck(fn, directions) judges a given H·u; checkSecondOrder is its deprecated alias', () => {
    const so = secondOrderTape('sum(x.^3)', toTensors({ x: [1, -2] }));
    const u = Float64Array.from([0.6, 0.8]);
    const right = [{ u, hu: so.hvp(u), name: 'u' }];
    const wrong = [{ u, hu: so.hvp(u).map((h) => 2 * h), name: 'u' }];
    expect(library.secondOrderCheck(so.fn, right).passed).toBe(true);
    expect(library.secondOrderCheck(so.fn, wrong).passed).toBe(false);
    expect(library.checkSecondOrder(so.fn, wrong)).toEqual(library.secondOrderCheck(so.fn, wrong));
    expect(library.secondOrderCheck('sum(x.^3)', { x: [1, -2] }).passed).toBe(true);
  });

  it('a point on a kink is reported as a kink, not as a wrong second derivative', () => {
    const r = hessian('relu(x)^2 + abs(y)*y', { x: 0, y: 0 });
    expect(r.check?.kinks.length).toBeGreaterThan(0);
    expect(r.check?.passed).toBe(true);
  });

  it('inputs above --max-hessian are refused before anything is allocated, pointing to --hvp', () => {
    const err = (() => {
      try {
        hessian('sum(x.^2)', { x: new Array(5000).fill(1) });
      } catch (e) {
        return e as AgError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(AgError);
    expect(err!.code).toBe('limit');
    expect(err!.message).toMatch(/5000 input entries would be 5000 × 5000; the limit is 4000 input entries \(--max-hessian\)/);
    expect(err!.hint).toMatch(/--hvp x=\.\.\./);
    expect(() => hessian('sum(x.^2)', { x: new Array(2500).fill(1) }, { limits: { maxMemory: 50e6 } })).toThrow(
      /2500 × 2500 Hessian would need about 143 MiB; the limit is 47\.7 MiB \(--max-memory\)/,
    );
  });
});

describe('hessian: relative figures where both sides are ~0', () => {
  it("det(X)'s zero Hessian entries pass by atol and are counted, not reported as a 100% relative error", () => {
    const X = randn(3, 3) as number[][];
    const r = hessian('det(X)', { X }, { engine: 'js' });
    expect(r.check?.passed).toBe(true);
    // ∂²det/∂X[i,j]∂X[i,k] = 0 exactly; rounding leaves ~1e-16 on either side, so those entries pass by atol
    expect(r.check?.byAtol).toBeGreaterThan(0);
    expect(r.check?.maxRelError).toBeLessThan(1e-6);
    // H − Hᵀ of ~1e-16 is within atol: no relative figure to speak of
    expect(r.symmetry.maxRelDiff).toBeLessThan(1e-6);
    const text = renderHessian(r, { digits: 6, color: new Chalk({ level: 0 }) });
    expect(text).toMatch(/max rel err \d\.\de-\d+; \d+ entries only within atol/);
    expect(text).not.toMatch(/relative [12]\.0e0|max rel err 1\.0e0/);
  });
});
