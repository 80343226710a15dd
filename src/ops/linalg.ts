import { shapeStr, type Shape } from '../tensor.js';
import type { OpDef } from './types.js';

/**
 * C = A·B for row-major A [m,k] and B [k,n], accumulating into C when `acc`.
 * tA/tB read A or B transposed (as stored [k,m] / [n,k]), so the backward pass
 * needs no transpose copies.
 */
export function gemm(
  m: number, n: number, k: number,
  A: Float64Array, tA: boolean, B: Float64Array, tB: boolean,
  C: Float64Array, acc = false,
): void {
  if (!acc) C.fill(0, 0, m * n);
  // B transposed: a dot product per entry, both operands contiguous
  if (tB) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        const bj = j * k;
        if (tA) for (let p = 0; p < k; p++) s += A[p * m + i] * B[bj + p];
        else {
          const ai = i * k;
          for (let p = 0; p < k; p++) s += A[ai + p] * B[bj + p];
        }
        C[i * n + j] += s;
      }
    }
    return;
  }
  // rows of B scaled and added into a row of C, four at a time (a quarter of the C traffic)
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    let p = 0;
    for (; p < k4; p += 4) {
      const a0 = tA ? A[p * m + i] : A[i * k + p];
      const a1 = tA ? A[(p + 1) * m + i] : A[i * k + p + 1];
      const a2 = tA ? A[(p + 2) * m + i] : A[i * k + p + 2];
      const a3 = tA ? A[(p + 3) * m + i] : A[i * k + p + 3];
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) C[ci + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
    }
    for (; p < k; p++) {
      const a = tA ? A[p * m + i] : A[i * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
    }
  }
}

/** A [m,k] · B [k,n] seen as matrices: vectors are rows on the left, columns on the right. */
function dims(a: Shape, b: Shape): { m: number; k: number; n: number; out: Shape } {
  const [m, k] = a.length === 2 ? a : [1, a[0]];
  const [k2, n] = b.length === 2 ? b : [b[0], 1];
  if (k !== k2) throw new Error(`inner dimensions differ (${k} and ${k2})`);
  const out: number[] = [];
  if (a.length === 2) out.push(m);
  if (b.length === 2) out.push(n);
  return { m, k, n, out };
}

// mathjs `*` between tensors: matrix·matrix, matrix·vector, vector·matrix, vector·vector (dot)
export const matmul: OpDef = {
  name: 'matmul',
  family: 'linalg',
  arity: [2, 2],
  label: 'matmul',
  shape([a, b]) {
    if (a.length === 0 || b.length === 0) throw new Error('matmul needs two tensors');
    return dims(a, b).out;
  },
  forward([a, b], _attrs, out) {
    const { m, k, n } = dims(a.shape, b.shape);
    gemm(m, n, k, a.data, false, b.data, false, out);
  },
  vjp([a, b], _o, g, _attrs, need) {
    const { m, k, n } = dims(a.shape, b.shape);
    let ga: Float64Array | null = null;
    let gb: Float64Array | null = null;
    // dA = G·Bᵀ, dB = Aᵀ·G
    if (need[0]) gemm(m, k, n, g, false, b.data, true, (ga = new Float64Array(m * k)));
    if (need[1]) gemm(k, n, m, a.data, true, g, false, (gb = new Float64Array(k * n)));
    return [ga, gb];
  },
  jvp([a, b], out, [da, db]) {
    const { m, k, n } = dims(a.shape, b.shape);
    const r = new Float64Array(out.data.length);
    if (da) gemm(m, n, k, da, false, b.data, false, r, true);
    if (db) gemm(m, n, k, a.data, false, db, false, r, true);
    return r;
  },
  local: () => ["g*b'", "a'*g"],
};

export const transpose: OpDef = {
  name: 'transpose',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (a.length === 2 ? [a[1], a[0]] : a),
  forward([a], _attrs, out) {
    transposeInto(a.shape, a.data, out);
  },
  vjp([a], o, g) {
    const r = new Float64Array(g.length);
    transposeInto(o.shape, g, r);
    return [a.shape.length === 2 ? r : g.slice()];
  },
  jvp([a], _o, [da]) {
    const r = new Float64Array(da!.length);
    transposeInto(a.shape, da!, r);
    return r;
  },
  local: () => ["g'"],
};

function transposeInto(shape: Shape, src: Float64Array, dst: Float64Array): void {
  if (shape.length < 2) {
    dst.set(src);
    return;
  }
  const [m, n] = shape;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) dst[j * m + i] = src[i * n + j];
}

export const dot: OpDef = {
  name: 'dot',
  family: 'linalg',
  arity: [2, 2],
  shape([a, b]) {
    if (a.length !== 1 || b.length !== 1 || a[0] !== b[0]) throw new Error('dot needs two vectors of the same length');
    return [];
  },
  forward([a, b], _attrs, out) {
    let s = 0;
    for (let k = 0; k < a.data.length; k++) s += a.data[k] * b.data[k];
    out[0] = s;
  },
  vjp([a, b], _o, g, _attrs, need) {
    return [need[0] ? b.data.map((v) => v * g[0]) : null, need[1] ? a.data.map((v) => v * g[0]) : null];
  },
  jvp([a, b], _o, [da, db]) {
    let t = 0;
    for (let k = 0; k < a.data.length; k++) t += (da ? da[k] * b.data[k] : 0) + (db ? a.data[k] * db[k] : 0);
    return Float64Array.of(t);
  },
  local: () => ['b', 'a'],
};

export const trace: OpDef = {
  name: 'trace',
  family: 'linalg',
  arity: [1, 1],
  shape([a]) {
    if (a.length !== 2 || a[0] !== a[1]) throw new Error(`trace needs a square matrix, not ${shapeStr(a)}`);
    return [];
  },
  forward([a], _attrs, out) {
    const n = a.shape[0];
    let s = 0;
    for (let i = 0; i < n; i++) s += a.data[i * n + i];
    out[0] = s;
  },
  vjp([a], _o, g) {
    const n = a.shape[0];
    const r = new Float64Array(n * n);
    for (let i = 0; i < n; i++) r[i * n + i] = g[0];
    return [r];
  },
  jvp([a], _o, [da]) {
    const n = a.shape[0];
    let t = 0;
    for (let i = 0; i < n; i++) t += da![i * n + i];
    return Float64Array.of(t);
  },
  local: () => ['I'],
};

/** diag(v) builds a diagonal matrix; diag(A) reads the main diagonal. */
export const diag: OpDef = {
  name: 'diag',
  family: 'linalg',
  arity: [1, 1],
  shape([a]) {
    if (a.length === 1) return [a[0], a[0]];
    if (a.length === 2) return [Math.min(a[0], a[1])];
    throw new Error('diag needs a vector or a matrix');
  },
  forward([a], _attrs, out) {
    diagMove(a.shape, a.data, out, true);
  },
  vjp([a], _o, g) {
    const r = new Float64Array(a.data.length);
    diagMove(a.shape, r, g, false);
    return [r];
  },
  jvp([a], out, [da]) {
    const r = new Float64Array(out.data.length);
    diagMove(a.shape, da!, r, true);
    return r;
  },
  local: () => ['diag'],
};

/** Copy between the argument's entries and the result's along the diagonal, either way. */
function diagMove(argShape: Shape, arg: Float64Array, res: Float64Array, toResult: boolean): void {
  if (argShape.length === 1) {
    const n = argShape[0];
    for (let i = 0; i < n; i++) {
      if (toResult) res[i * n + i] = arg[i];
      else arg[i] = res[i * n + i];
    }
  } else {
    const [m, n] = argShape;
    for (let i = 0; i < Math.min(m, n); i++) {
      if (toResult) res[i] = arg[i * n + i];
      else arg[i * n + i] = res[i];
    }
  }
}

export const LINALG: OpDef[] = [matmul, transpose, dot, trace, diag];
