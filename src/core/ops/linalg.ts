import { checkDeadlineWork } from '../limits.js';
import { shapeStr, type Shape, type Tensor } from '../tensor.js';
import type { OpDef } from './types.js';

/**
 * C = A·B for row-major A [m,k] and B [k,n], accumulating into C when `acc`.
 * tA/tB read A or B transposed (as stored [k,m] / [n,k]), so the backward pass
 * needs no transpose copies. IEEE special values at every size, as the native engine
 * (native/src/gemm.cc): no zero entry is skipped (0·Inf = NaN), and an entry that comes
 * out non-finite is computed again by `dotExact`, which does not depend on the order of the sum.
 * The run's --timeout is checked row by row (src/core/limits.ts checkDeadlineWork): one product
 * can take minutes.
 */
export function gemm(m: number, n: number, k: number, A: Float64Array, tA: boolean, B: Float64Array, tB: boolean, C: Float64Array, acc = false): void {
  if (acc) {
    // the product is formed apart, so each of its entries can be judged on its own
    const p = new Float64Array(m * n);
    gemm(m, n, k, A, tA, B, tB, p);
    for (let j = 0; j < m * n; j++) C[j] += p[j];
    return;
  }
  gemmFast(m, n, k, A, tA, B, tB, C);
  let special = false;
  for (let j = 0; j < m * n && !special; j++) special = !Number.isFinite(C[j]);
  if (!special) return;
  // an entry is computed again only where finite products could overflow: elsewhere a
  // non-finite entry comes from Inf or NaN inputs alone, and every order sums those alike
  const rowMax = new Float64Array(m);
  const colMax = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) rowMax[i] = finiteMax(rowMax[i], tA ? A[p * m + i] : A[i * k + p]);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) colMax[j] = finiteMax(colMax[j], tB ? B[j * k + p] : B[p * n + j]);
  const redo = (i: number, j: number) => !Number.isFinite(C[i * n + j]) && rowMax[i] * colMax[j] * k >= OVERFLOW_SAFE;
  // dotExact's sum of the products with an Inf or NaN factor, a row of C at a time: the
  // non-finite entries of op(A)'s row against all of op(B)'s row p, and op(B)'s non-finite
  // entries against the row's finite ones (such sums are ±Inf or NaN in any order)
  const bSpecial: number[][] = Array.from({ length: k }, () => []);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) if (!Number.isFinite(tB ? B[j * k + p] : B[p * n + j])) bSpecial[p].push(j);
  const sp = new Float64Array(n);
  const has = new Uint8Array(n);
  for (let i = 0; i < m; i++) {
    let any = false;
    for (let j = 0; j < n && !any; j++) any = redo(i, j);
    if (!any) continue;
    // a row's recompute is up to k·n multiply-adds
    checkDeadlineWork(n * k);
    sp.fill(0);
    has.fill(0);
    for (let p = 0; p < k; p++) {
      const a = tA ? A[p * m + i] : A[i * k + p];
      if (!Number.isFinite(a)) {
        for (let j = 0; j < n; j++) sp[j] += a * (tB ? B[j * k + p] : B[p * n + j]);
        has.fill(1);
      } else {
        for (const j of bSpecial[p]) {
          sp[j] += a * (tB ? B[j * k + p] : B[p * n + j]);
          has[j] = 1;
        }
      }
    }
    for (let j = 0; j < n; j++) {
      if (redo(i, j)) C[i * n + j] = has[j] ? sp[j] : dotExact(k, A, tA ? i : i * k, tA ? m : 1, B, tB ? j * k : j, tB ? 1 : n);
    }
  }
}

/** Below this, k products of at most rowMax·colMax each cannot overflow, however summed. */
const OVERFLOW_SAFE = 1e308;
const finiteMax = (m: number, x: number) => (Number.isFinite(x) && Math.abs(x) > m ? Math.abs(x) : m);

/**
 * Σ a_p·b_p (a from offset oa with stride sa, b likewise) as IEEE rounds the exact sum,
 * whatever the order: a product with an infinite or NaN factor is IEEE's (0·Inf = NaN,
 * +Inf and −Inf give NaN); finite products are summed scaled by powers of two (exactly),
 * so an overflow is ±Inf with the sign of the sum, never the NaN of +Inf − Inf nor the
 * sign of whichever partial sum overflowed first. PyTorch's float64 matmul agrees where
 * its FMA kernels happen to overflow with the sum's sign.
 */
export function dotExact(k: number, a: Float64Array, oa: number, sa: number, b: Float64Array, ob: number, sb: number): number {
  let special = 0;
  let anySpecial = false;
  let ma = 0;
  let mb = 0;
  for (let p = 0; p < k; p++) {
    const x = a[oa + p * sa];
    const y = b[ob + p * sb];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      special += x * y;
      anySpecial = true;
    } else {
      ma = Math.max(ma, Math.abs(x));
      mb = Math.max(mb, Math.abs(y));
    }
  }
  if (anySpecial) return special; // ±Inf or NaN: no finite product changes it
  const ea = ma > 1 ? exponent(ma) : 0;
  const eb = mb > 1 ? exponent(mb) : 0;
  const fa = 2 ** -ea;
  const fb = 2 ** -eb;
  let t = 0;
  for (let p = 0; p < k; p++) t += a[oa + p * sa] * fa * (b[ob + p * sb] * fb);
  return ldexp(ldexp(t, ea), eb);
}

/** t·2^e for 0 ≤ e ≤ 1024 (C's ldexp there): 2^1024 itself is not a double. */
const ldexp = (t: number, e: number) => (e > 1000 ? t * 2 ** (e - 1000) * 2 ** 1000 : t * 2 ** e);

/** frexp's exponent: x = f·2^e with 0.5 ≤ f < 1 (x > 1, finite). */
function exponent(x: number): number {
  let e = Math.floor(Math.log2(x)) + 1;
  // log2 may round across a power of two
  if (x >= 2 ** e) e++;
  else if (x < 2 ** (e - 1)) e--;
  return e;
}

function gemmFast(m: number, n: number, k: number, A: Float64Array, tA: boolean, B: Float64Array, tB: boolean, C: Float64Array): void {
  C.fill(0, 0, m * n);
  // B transposed: a dot product per entry, both operands contiguous
  if (tB) {
    for (let i = 0; i < m; i++) {
      checkDeadlineWork(n * k);
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
    checkDeadlineWork(n * k);
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

/**
 * How `*` reads two tensors as matrices A [m,k] · B [k,n]. Vectors are columns, as on
 * paper, where that is the only reading that fits; otherwise mathjs's meaning stays:
 *
 *   [m,k]·[k,n] → [m,n]      [m,k]·[k] → [m]  (a column; [1,k]·[k] is 1×1 → a scalar)
 *   [k]·[k] → scalar (dot)   [k]·[k,n] → [n]  (mathjs: the vector read as a row)
 *   [m]·[1,n] → [m,n]        (the vector as the column it is: u*v' is an outer product)
 *
 * The data of a vector [m] is that of [m,1] and of [1,m], so every reading is the same
 * row-major product.
 */
export function matmulDims(a: Shape, b: Shape): { m: number; k: number; n: number; out: Shape } {
  if (a.length === 0 || b.length === 0) throw new Error('matmul needs two tensors');
  const inner = (k: number, k2: number) => {
    if (k !== k2) throw new Error(`inner dimensions differ (${k} and ${k2})`);
  };
  if (a.length === 1) {
    const k = a[0];
    if (b.length === 1) {
      inner(k, b[0]);
      return { m: 1, k, n: 1, out: [] };
    }
    const [r, n] = b;
    if (r === 1 && k !== 1) return { m: k, k: 1, n, out: [k, n] };
    inner(k, r);
    return { m: 1, k, n, out: [n] };
  }
  const [m, k] = a;
  if (b.length === 1) {
    inner(k, b[0]);
    return { m, k, n: 1, out: m === 1 ? [] : [m] };
  }
  inner(k, b[0]);
  return { m, k, n: b[1], out: [m, b[1]] };
}

export const matmul: OpDef = {
  name: 'matmul',
  family: 'linalg',
  arity: [2, 2],
  label: 'matmul',
  shape: ([a, b]) => matmulDims(a, b).out,
  forward([a, b], _attrs, out) {
    const { m, k, n } = matmulDims(a.shape, b.shape);
    gemm(m, n, k, a.data, false, b.data, false, out);
  },
  // the same as the local formulas below; a scalar g (dot, u'*v) multiplies entry by entry
  vjpGraph(G, [a, b], _o, g, _attrs, need) {
    const times = (x: number, y: number) => (G.shape(x).length === 0 || G.shape(y).length === 0 ? G.mul(x, y) : G.matmul(x, y));
    const [sa, sb] = [G.shape(a), G.shape(b)];
    if (sa.length === 1 && sb.length === 1) return [need[0] ? G.mul(g, b) : null, need[1] ? G.mul(g, a) : null];
    // v*B read as a row: ∂/∂v = B·g, ∂/∂B = v·gᵀ
    if (sa.length === 1 && sb.length === 2 && matmulDims(sa, sb).out.length === 1) {
      return [need[0] ? G.matmul(b, g) : null, need[1] ? G.matmul(a, G.transpose(g)) : null];
    }
    return [need[0] ? times(g, G.transpose(b)) : null, need[1] ? times(G.transpose(a), g) : null];
  },
  // d(A·B) = dA·B + A·dB
  jvpGraph(G, [a, b], _o, [da, db]) {
    const l = da === null ? null : G.matmul(da, b);
    const r = db === null ? null : G.matmul(a, db);
    return l === null ? r : r === null ? l : G.add(l, r);
  },
};

/** `v'` and `transpose(v)`: a matrix [m,n] becomes [n,m]; a vector [n] (a column) becomes the row [1,n]. */
export const transpose: OpDef = {
  name: 'transpose',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (a.length === 2 ? [a[1], a[0]] : a.length === 1 ? [1, a[0]] : a),
  forward([a], _attrs, out) {
    transposeInto(a.shape, a.data, out);
  },
  vjpGraph: (G, _ins, _o, g) => [G.transpose(g)],
  jvpGraph: (G, _ins, _o, [da]) => (da === null ? null : G.transpose(da)),
};

/** A vector's data reads the same as a column and as a row: transposing it moves nothing. */
function transposeInto(shape: Shape, src: Float64Array, dst: Float64Array): void {
  if (shape.length < 2 || shape[0] === 1 || shape[1] === 1) {
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
  vjpGraph: (G, [a, b], _o, g, _attrs, need) => [need[0] ? G.mul(g, b) : null, need[1] ? G.mul(g, a) : null],
  jvpGraph(G, [a, b], _o, [da, db]) {
    const l = da === null ? null : G.op('dot', [da, b]);
    const r = db === null ? null : G.op('dot', [a, db]);
    return l === null ? r : r === null ? l : G.add(l, r);
  },
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
  // ∂ trace(A)/∂A = I (off the diagonal exactly 0, whatever g is)
  vjpGraph: (G, [a], _o, g) => [G.op('gmul', [G.constant(identity(G.shape(a)[0])), g])],
  jvpGraph: (G, _ins, _o, [da]) => (da === null ? null : G.op('trace', [da])),
};

function identity(n: number): Tensor {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return { shape: [n, n], data };
}

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
  // diag(v) → the diagonal of g; diag(A) → g laid on the diagonal of an [m,n] matrix of zeros
  vjpGraph(G, [a], _o, g) {
    const sa = G.shape(a);
    if (sa.length === 1 || sa[0] === sa[1]) return [G.op('diag', [g])];
    const [m, n] = sa;
    const mask = G.constant(rectIdentity(m, n));
    // the diagonal runs down a wide matrix's rows (g as a column) and along a tall one's columns (g as a row)
    return [G.op('gmul', [mask, m < n ? G.reshape(g, [m, 1]) : g])];
  },
  jvpGraph: (G, _ins, _o, [da]) => (da === null ? null : G.op('diag', [da])),
};

function rectIdentity(m: number, n: number): Tensor {
  const data = new Float64Array(m * n);
  for (let i = 0; i < Math.min(m, n); i++) data[i * n + i] = 1;
  return { shape: [m, n], data };
}

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
