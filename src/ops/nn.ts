import type { Shape } from '../tensor.js';
import type { OpDef } from './types.js';

/**
 * softmax, logsoftmax and logsumexp work along the last axis: over a vector, or over
 * each row of a matrix (a batch of logits). All are shifted by the row maximum, so
 * large logits do not overflow.
 */
function rows(shape: Shape): [number, number] {
  return shape.length === 2 ? [shape[0], shape[1]] : [1, shape.length === 1 ? shape[0] : 1];
}

function needTensor([a]: Shape[]): Shape {
  if (a.length === 0) throw new Error('needs a vector or a matrix, not a scalar');
  return a;
}

/** log Σ exp over each row. */
function rowLse(a: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, a[i * c + j]);
    if (m === -Infinity || !Number.isFinite(m)) {
      out[i] = m;
      continue;
    }
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(a[i * c + j] - m);
    out[i] = m + Math.log(s);
  }
  return out;
}

function softmaxOf(a: Float64Array, shape: Shape): Float64Array {
  const [r, c] = rows(shape);
  const lse = rowLse(a, r, c);
  const s = new Float64Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) s[i * c + j] = Math.exp(a[i * c + j] - lse[i]);
  return s;
}

/** Per row: Σ_j g_j (or Σ_j g_j·s_j when `w`). */
function rowSums(g: Float64Array, r: number, c: number, w?: Float64Array): Float64Array {
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i] += g[i * c + j] * (w ? w[i * c + j] : 1);
  return out;
}

export const softmax: OpDef = {
  name: 'softmax',
  family: 'nn',
  arity: [1, 1],
  shape: needTensor,
  forward([a], _attrs, out) {
    out.set(softmaxOf(a.data, a.shape));
  },
  // ∂L/∂a = s ⊙ (g − Σ g⊙s)
  vjp([a], o, g) {
    const [r, c] = rows(a.shape);
    const s = o.data;
    const gs = rowSums(g, r, c, s);
    return [s.map((v, k) => v * (g[k] - gs[Math.floor(k / c)]))];
  },
  jvp([a], o, [da]) {
    const [r, c] = rows(a.shape);
    const s = o.data;
    const ds = rowSums(da!, r, c, s);
    return s.map((v, k) => v * (da![k] - ds[Math.floor(k / c)]));
  },
  local: () => ['s*(g - sum(g.*s))'],
};

export const logsoftmax: OpDef = {
  name: 'logsoftmax',
  family: 'nn',
  arity: [1, 1],
  shape: needTensor,
  forward([a], _attrs, out) {
    const [r, c] = rows(a.shape);
    const lse = rowLse(a.data, r, c);
    for (let k = 0; k < a.data.length; k++) out[k] = a.data[k] - lse[Math.floor(k / c)];
  },
  // ∂L/∂a = g − softmax(a)·Σ g
  vjp([a], o, g) {
    const [r, c] = rows(a.shape);
    const gsum = rowSums(g, r, c);
    return [o.data.map((v, k) => g[k] - Math.exp(v) * gsum[Math.floor(k / c)])];
  },
  jvp([a], o, [da]) {
    const [r, c] = rows(a.shape);
    const sm = o.data.map(Math.exp);
    const ds = rowSums(da!, r, c, sm);
    return da!.map((v, k) => v - ds[Math.floor(k / c)]);
  },
  local: () => ['g - softmax(a)*sum(g)'],
};

export const logsumexp: OpDef = {
  name: 'logsumexp',
  family: 'nn',
  arity: [1, 1],
  shape: ([a]) => (needTensor([a]).length === 2 ? [a[0]] : []),
  forward([a], _attrs, out) {
    const [r, c] = rows(a.shape);
    out.set(rowLse(a.data, r, c));
  },
  // ∂/∂a = softmax(a)
  vjp([a], _o, g) {
    const [, c] = rows(a.shape);
    return [softmaxOf(a.data, a.shape).map((v, k) => v * g[Math.floor(k / c)])];
  },
  jvp([a], _o, [da]) {
    const [r, c] = rows(a.shape);
    return rowSums(da!, r, c, softmaxOf(a.data, a.shape));
  },
  local: () => ['softmax(a)'],
};

export const NN: OpDef[] = [softmax, logsoftmax, logsumexp];
