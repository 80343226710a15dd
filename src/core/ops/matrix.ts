import { checkDeadlineWork } from '../limits.js';
import { shapeStr, type Shape, type Tensor } from '../tensor.js';
import type { GraphNode, GraphOps, OpDef } from './types.js';

/**
 * Matrix functions: det, logdet, inv, adj (the adjugate) and solve(A, b) = A⁻¹b, through an LU factorization
 * with partial pivoting (row-major, Doolittle, the pivot the largest entry of its column
 * below the diagonal — LAPACK's dgetrf order for one block, so the native engine's
 * built-in LU gives the same numbers). A matrix with a zero pivot is singular: det is 0,
 * logdet -Infinity, and inv and solve are NaN entry by entry (the non-finite diagnosis
 * says "singular" for them, not the NaNs that follow).
 *
 * Their derivatives, each stated once as graph rules (the Matrix Cookbook, eqs. 49–51, 59):
 *   d det(A)    = tr(adj(A) dA)              ∂/∂A = g · adj(A)ᵀ   (= g · det(A) · A⁻ᵀ, and finite where A is singular)
 *   d adj(A)    = adj(A) tr(A⁻¹ dA) − A⁻¹ dA adj(A)   (from adj(A) = det(A)·A⁻¹)
 *   d logdet(A) = tr(A⁻¹ dA)                 ∂/∂A = g · A⁻ᵀ
 *   d inv(A)    = −A⁻¹ dA A⁻¹                ∂/∂A = −A⁻ᵀ g A⁻ᵀ
 *   x = solve(A, b):  dx = A⁻¹ (db − dA x)   ∂/∂b = solve(Aᵀ, g),  ∂/∂A = −(∂/∂b) xᵀ
 */

export interface Lu {
  /** L below the diagonal (unit diagonal implied) and U on and above it, row-major n×n */
  lu: Float64Array;
  /** row i of LU is row perm[i] of A */
  perm: Int32Array;
  /** +1 or −1: the sign the row swaps give the determinant */
  sign: number;
  /** a pivot was exactly 0 */
  singular: boolean;
}

/** LU with partial pivoting of the n×n matrix `a` (not changed). */
export function luFactor(a: Float64Array, n: number): Lu {
  const lu = a.slice();
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  let sign = 1;
  let singular = false;
  for (let k = 0; k < n; k++) {
    checkDeadlineWork((n - k) * (n - k));
    let p = k;
    let best = Math.abs(lu[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j];
        lu[k * n + j] = lu[p * n + j];
        lu[p * n + j] = t;
      }
      const t = perm[k];
      perm[k] = perm[p];
      perm[p] = t;
      sign = -sign;
    }
    const pivot = lu[k * n + k];
    if (pivot === 0 || Number.isNaN(pivot)) {
      singular = true;
      continue;
    }
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] /= pivot);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] -= f * lu[k * n + j];
    }
  }
  return { lu, perm, sign, singular };
}

/** The n×m right-hand sides `b` (row-major) solved in place of `x`: A x = b, from A's LU. */
export function luSolve(f: Lu, n: number, b: Float64Array, m: number, x: Float64Array): void {
  const { lu, perm } = f;
  if (f.singular) {
    x.fill(Number.NaN);
    return;
  }
  for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) x[i * m + c] = b[perm[i] * m + c];
  checkDeadlineWork(2 * n * n * m);
  // L y = P b (unit diagonal), then U x = y
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = lu[i * n + k];
      if (l !== 0) for (let c = 0; c < m; c++) x[i * m + c] -= l * x[k * m + c];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const u = lu[i * n + k];
      if (u !== 0) for (let c = 0; c < m; c++) x[i * m + c] -= u * x[k * m + c];
    }
    const d = lu[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] /= d;
  }
}

/** A⁻¹ into `out` (n×n) from A's LU: the identity solved for (NaN everywhere when A is singular). */
function luInverse(f: Lu, n: number, out: Float64Array): void {
  const eye = new Float64Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  luSolve(f, n, eye, n, out);
}

/** det from an LU: the sign of the row swaps times U's diagonal (0 when singular). */
export function luDet(f: Lu, n: number): number {
  if (f.singular) return 0;
  let d = f.sign;
  for (let i = 0; i < n; i++) d *= f.lu[i * n + i];
  return d;
}

/** log det from an LU, summed as logs (no overflow for large matrices): NaN for a negative det, −Infinity when singular. */
export function luLogDet(f: Lu, n: number): number {
  if (f.singular) return Number.NEGATIVE_INFINITY;
  let s = 0;
  let sign = f.sign;
  for (let i = 0; i < n; i++) {
    const u = f.lu[i * n + i];
    if (u < 0) sign = -sign;
    s += Math.log(Math.abs(u));
  }
  return sign < 0 ? Number.NaN : s;
}

/**
 * The adjugate of the n×n matrix `a` into `out`: det(A)·A⁻¹ where A is invertible; where
 * it is not (a zero pivot), from the cofactors, adj(A)[j,i] = (−1)^(i+j)·det(A without row i
 * and column j), n² determinants of order n−1 (at most n⁵/3 multiply-adds, deadline-checked).
 */
export function adjugate(a: Float64Array, n: number, out: Float64Array): void {
  const f = luFactor(a, n);
  if (!f.singular) {
    luInverse(f, n, out);
    const d = luDet(f, n);
    for (let k = 0; k < n * n; k++) out[k] *= d;
    return;
  }
  if (n === 1) {
    out[0] = 1;
    return;
  }
  const m = n - 1;
  const minor = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let k = 0;
      for (let r = 0; r < n; r++) {
        if (r === i) continue;
        for (let c = 0; c < n; c++) if (c !== j) minor[k++] = a[r * n + c];
      }
      out[j * n + i] = ((i + j) % 2 ? -1 : 1) * luDet(luFactor(minor, m), m);
    }
  }
}

/** The order n of an n×n matrix; a number is 1×1. */
const order = (a: Tensor): number => (a.shape.length === 0 ? 1 : a.shape[0]);

function square(name: string, a: Shape): number {
  if (a.length === 2 && a[0] === a[1]) return a[0];
  if (a.length === 0) return 1;
  throw new Error(`${name} needs a square matrix, not ${shapeStr(a)}`);
}

const inverse = (G: GraphOps, a: GraphNode) => G.op('inv', [a]);
/** tr(X·Y) for square X, Y of the same size, as graph ops: Σ X ⊙ Yᵀ */
const traceOfProduct = (G: GraphOps, x: GraphNode, y: GraphNode) => G.sum(G.mul(x, G.transpose(y)));

export const det: OpDef = {
  name: 'det',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (square('det', a), []),
  forward([a], _attrs, out) {
    const n = order(a);
    out[0] = luDet(luFactor(a.data, n), n);
  },
  // ∂ det(A)/∂A = adj(A)ᵀ (= det(A)·A⁻ᵀ where A is invertible; finite where it is not)
  vjpGraph: (G, [a], _out, g) => [G.mul(g, G.transpose(G.op('adj', [a])))],
  // d det(A) = tr(adj(A) dA)
  jvpGraph: (G, [a], _out, [da]) => (da === null ? null : traceOfProduct(G, G.op('adj', [a]), da)),
};

/** adj(A), the adjugate (classical adjoint): the transposed cofactor matrix, det(A)·A⁻¹ where A is invertible. */
export const adj: OpDef = {
  name: 'adj',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (square('adj', a), a),
  forward([a], _attrs, out) {
    adjugate(a.data, order(a), out);
  },
  // ⟨G, d adj(A)⟩ = ⟨G, adj(A)⟩·tr(A⁻¹dA) − tr(adj(A)·Gᵀ·A⁻¹dA): ∂/∂A = ⟨G, adj(A)⟩·A⁻ᵀ − A⁻ᵀ·G·adj(A)ᵀ
  // (a scalar's adjugate is the constant 1)
  vjpGraph(G, [a], out, g) {
    if (G.shape(out).length === 0) return [G.mul(g, G.constant(0))];
    const it = G.transpose(inverse(G, a));
    return [G.sub(G.mul(G.sum(G.mul(g, out)), it), G.matmul(G.matmul(it, g), G.transpose(out)))];
  },
  // d adj(A) = adj(A)·tr(A⁻¹dA) − A⁻¹·dA·adj(A)
  jvpGraph(G, [a], out, [da]) {
    if (da === null) return null;
    if (G.shape(out).length === 0) return G.mul(da, G.constant(0));
    const ai = inverse(G, a);
    return G.sub(G.mul(out, traceOfProduct(G, ai, da)), G.matmul(G.matmul(ai, da), out));
  },
};

export const logdet: OpDef = {
  name: 'logdet',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (square('logdet', a), []),
  forward([a], _attrs, out) {
    const n = order(a);
    out[0] = luLogDet(luFactor(a.data, n), n);
  },
  // ∂ log det(A)/∂A = A⁻ᵀ
  vjpGraph: (G, [a], _o, g) => [G.mul(g, G.transpose(inverse(G, a)))],
  jvpGraph: (G, [a], _o, [da]) => (da === null ? null : traceOfProduct(G, inverse(G, a), da)),
};

export const inv: OpDef = {
  name: 'inv',
  family: 'linalg',
  arity: [1, 1],
  shape: ([a]) => (square('inv', a), a),
  forward([a], _attrs, out) {
    const n = order(a);
    luInverse(luFactor(a.data, n), n, out);
  },
  // ∂/∂A = −A⁻ᵀ·G·A⁻ᵀ (a scalar's inverse: −g/a²)
  vjpGraph(G, _ins, out, g) {
    const t = G.transpose(out);
    return [G.neg(G.shape(out).length === 0 ? G.mul(G.mul(t, g), t) : G.matmul(G.matmul(t, g), t))];
  },
  // d inv(A) = −A⁻¹·dA·A⁻¹
  jvpGraph: (G, _ins, out, [da]) => (da === null ? null : G.neg(G.shape(out).length === 0 ? G.mul(G.mul(out, da), out) : G.matmul(G.matmul(out, da), out))),
};

/** solve(A, b): b a vector [n] or a matrix [n,k] of right-hand sides; the result has b's shape. */
export const solve: OpDef = {
  name: 'solve',
  family: 'linalg',
  arity: [2, 2],
  shape([a, b]) {
    const n = square('solve', a);
    const rows = b.length === 0 ? 1 : b[0];
    if (rows !== n) throw new Error(`solve(A, b) needs b with ${n} rows for A ${shapeStr(a)}, not ${shapeStr(b)}`);
    return b;
  },
  forward([a, b], _attrs, out) {
    const n = order(a);
    const m = b.shape.length === 2 ? b.shape[1] : 1;
    luSolve(luFactor(a.data, n), n, b.data, m, out);
  },
  // x = A⁻¹b: ∂/∂b = solve(Aᵀ, g), ∂/∂A = −(∂/∂b)·xᵀ
  vjpGraph(G, [a, _b], out, g, _attrs, need) {
    const gb = G.op('solve', [G.transpose(a), g]);
    const ga = need[0] ? G.neg(G.shape(out).length === 0 ? G.mul(gb, out) : G.matmul(gb, G.transpose(out))) : null;
    return [ga, need[1] ? gb : null];
  },
  // dx = A⁻¹(db − dA·x)
  jvpGraph(G, [a, _b], out, [da, db]) {
    const ax = da === null ? null : G.shape(out).length === 0 ? G.mul(da, out) : G.matmul(da, out);
    const rhs = ax === null ? db : db === null ? G.neg(ax) : G.sub(db, ax);
    return rhs === null ? null : G.op('solve', [a, rhs]);
  },
};

export const MATRIX: OpDef[] = [det, logdet, inv, adj, solve];
