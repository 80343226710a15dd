import { describe, expect, it } from 'vitest';
import { symmetricEigenvalues } from '../../src/subjects/formula/eigen.js';
import { Rng } from '../../src/core/random.js';

/** The symmetric eigen-solver on matrices with known spectra, and on random ones against invariants. */
describe('symmetricEigenvalues', () => {
  it('diagonal, 1×1, 2×2 and a zero matrix', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(3, 0, 0, 0, -1, 0, 0, 0, 2), 3))).toEqual([-1, 2, 3]);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(5), 1))).toEqual([5]);
    const two = symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2);
    expect(two[0]).toBeCloseTo(1, 14);
    expect(two[1]).toBeCloseTo(3, 14);
    expect(Array.from(symmetricEigenvalues(new Float64Array(16), 4))).toEqual([0, 0, 0, 0]);
  });

  it('the second-difference matrix: λ_k = 2 − 2cos(kπ/(n+1))', () => {
    for (const n of [3, 10, 57]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        a[i * n + i] = 2;
        if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
      }
      const got = symmetricEigenvalues(a, n);
      const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
      got.forEach((v, k) => expect(Math.abs(v - want[k]), `n=${n} λ${k}`).toBeLessThan(1e-12));
    }
  });

  it('random symmetric matrices: trace, Frobenius norm and Q·diag(λ)·Qᵀ of a known Q', () => {
    const rng = new Rng(5);
    for (const n of [2, 5, 30, 120]) {
      // A = Q diag(λ) Qᵀ with Q a product of Householder reflections, λ known
      const lambda = Array.from({ length: n }, () => rng.normal() * 3).sort((x, y) => x - y);
      const A = new Float64Array(n * n);
      for (let i = 0; i < n; i++) A[i * n + i] = lambda[i];
      for (let r = 0; r < 3; r++) {
        const v = Float64Array.from({ length: n }, () => rng.normal());
        const vv = v.reduce((s, x) => s + x * x, 0);
        // A ← (I − 2vvᵀ/vᵀv) A (I − 2vvᵀ/vᵀv)
        const Av = new Float64Array(n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Av[i] += A[i * n + j] * v[j];
        const vAv = v.reduce((s, x, i) => s + x * Av[i], 0);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += (-2 * (Av[i] * v[j] + v[i] * Av[j])) / vv + (4 * vAv * v[i] * v[j]) / (vv * vv);
      }
      const got = symmetricEigenvalues(A, n);
      got.forEach((v, k) => expect(Math.abs(v - lambda[k]), `n=${n} λ${k}: ${v} vs ${lambda[k]}`).toBeLessThan(1e-10 * (1 + Math.abs(lambda[k]))));
    }
  });
});
