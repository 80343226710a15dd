/**
 * Eigenvalues of a real symmetric matrix: Householder reduction to tridiagonal form,
 * then the implicit QL iteration with Wilkinson shifts (the EISPACK tred/tql pair).
 * O(n³) in plain loops; a Hessian of a few hundred entries takes milliseconds.
 */

/** Eigenvalues of the symmetric n×n matrix `a` (row-major; only its lower triangle is read), ascending. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`symmetricEigenvalues: ${a.length} entries for ${n}×${n}`);
  const A = a.slice();
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(A, n, d, e);
  tridiagonalQL(d, e, n);
  return d.sort();
}

/** Householder: A becomes tridiagonal, with diagonal d and subdiagonal e (e[i] couples i−1 and i). */
function tridiagonalize(A: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  const at = (i: number, j: number) => i * n + j;
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(A[at(i, k)]);
      if (scale === 0) e[i] = A[at(i, l)];
      else {
        for (let k = 0; k <= l; k++) {
          A[at(i, k)] /= scale;
          h += A[at(i, k)] * A[at(i, k)];
        }
        let f = A[at(i, l)];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        A[at(i, l)] = f - g;
        f = 0;
        // p = A·u/h, kept in e[0..l]
        for (let j = 0; j <= l; j++) {
          g = 0;
          for (let k = 0; k <= j; k++) g += A[at(j, k)] * A[at(i, k)];
          for (let k = j + 1; k <= l; k++) g += A[at(k, j)] * A[at(i, k)];
          e[j] = g / h;
          f += e[j] * A[at(i, j)];
        }
        const hh = f / (h + h);
        // A ← A − q·uᵀ − u·qᵀ with q = p − K·u, on the lower triangle
        for (let j = 0; j <= l; j++) {
          f = A[at(i, j)];
          g = e[j] - hh * f;
          e[j] = g;
          for (let k = 0; k <= j; k++) A[at(j, k)] -= f * e[k] + g * A[at(i, k)];
        }
      }
    } else e[i] = A[at(i, l)];
  }
  for (let i = 0; i < n; i++) d[i] = A[at(i, i)];
}

/** Implicit QL with shifts on the tridiagonal (d, e): d becomes the eigenvalues. */
function tridiagonalQL(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      // a negligible off-diagonal entry splits the matrix
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === 60) throw new Error('symmetricEigenvalues: the QL iteration did not converge');
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}
