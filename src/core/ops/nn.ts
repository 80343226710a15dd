import { shapeStr, type Shape } from '../tensor.js';
import type { Attrs, GraphNode, GraphOps, OpDef } from './types.js';

/**
 * softmax, logsoftmax and logsumexp work along one axis (`attrs.axis`, 0-based; mathjs's
 * one-based dimension in formulas): down the columns (0) or along the rows (1). Without
 * one, a vector [n] is one lane and a matrix [m,n] is a batch of rows (a row [1,n] is one
 * lane, as its vector). A column [n,1] without an axis is refused: a softmax along its
 * length-1 side would be a silent softmax over one entry. logsumexp keeps the dimension
 * it reduces, as sum does: [m,1] along the rows, [1,n] down the columns. All are shifted
 * by the lane's maximum, so large logits do not overflow.
 */

/**
 * The axis to work along, or why there is none: `error` completes "the argument …",
 * `fix` is the one-based dimension that would fit.
 */
export function nnAxis(shape: Shape, axis: number | undefined): { axis: number } | { error: string; fix?: number } {
  if (shape.length === 0) return { error: 'is a scalar; it needs a vector or a matrix' };
  if (shape.length === 1) {
    if (axis === undefined || axis === 0) return { axis: 0 };
    return { error: `is a vector, a column [${shape[0]}]: along dimension ${axis + 1} each entry would be alone`, fix: 1 };
  }
  const [m, n] = shape;
  if (axis === undefined) {
    // the default (each row of a batch) would be a softmax over one entry for a column; a row is one lane either way
    if (n === 1 && m > 1)
      return { error: `is a column ${shapeStr(shape)}: without a dimension a matrix is taken row by row, and each row here has one entry`, fix: 1 };
    return { axis: 1 };
  }
  if (axis !== 0 && axis !== 1) return { error: `has no dimension ${axis + 1} (1 runs down the columns, 2 along the rows)` };
  if (shape[axis] === 1 && m * n > 1) {
    return { error: `is ${shapeStr(shape)}: along dimension ${axis + 1} each ${axis === 0 ? 'column' : 'row'} has one entry`, fix: 2 - axis };
  }
  return { axis };
}

function axisOf(shape: Shape, attrs: Attrs): number {
  const r = nnAxis(shape, attrs.axis);
  if ('error' in r) throw new Error(`the argument ${r.error}`);
  return r.axis;
}

/**
 * The lanes the op works along: `count` lanes of `len` entries; entry j of lane i is at
 * i·gs + j·es (rows: gs = n, es = 1; columns: gs = 1, es = n).
 */
interface Lanes {
  count: number;
  len: number;
  gs: number;
  es: number;
}

function lanes(shape: Shape, attrs: Attrs): Lanes {
  if (shape.length < 2) return { count: 1, len: shape[0] ?? 1, gs: 0, es: 1 };
  const [m, n] = shape;
  return axisOf(shape, attrs) === 0 ? { count: n, len: m, gs: 1, es: n } : { count: m, len: n, gs: n, es: 1 };
}

/** The lane of every entry. */
function laneOf(L: Lanes, size: number): Int32Array {
  const of = new Int32Array(size);
  for (let i = 0; i < L.count; i++) for (let j = 0; j < L.len; j++) of[i * L.gs + j * L.es] = i;
  return of;
}

/** log Σ exp over each lane. */
function laneLse(a: Float64Array, L: Lanes): Float64Array {
  const out = new Float64Array(L.count);
  for (let i = 0; i < L.count; i++) {
    let m = -Infinity;
    for (let j = 0; j < L.len; j++) m = Math.max(m, a[i * L.gs + j * L.es]);
    if (m === -Infinity || !Number.isFinite(m)) {
      out[i] = m;
      continue;
    }
    let s = 0;
    for (let j = 0; j < L.len; j++) s += Math.exp(a[i * L.gs + j * L.es] - m);
    out[i] = m + Math.log(s);
  }
  return out;
}

function softmaxOf(a: Float64Array, L: Lanes): Float64Array {
  const lse = laneLse(a, L);
  const s = new Float64Array(a.length);
  for (let i = 0; i < L.count; i++) {
    for (let j = 0; j < L.len; j++) {
      const k = i * L.gs + j * L.es;
      s[k] = Math.exp(a[k] - lse[i]);
    }
  }
  return s;
}

/** Per lane: Σ_j g_j (or Σ_j g_j·w_j when `w`). */
function laneSums(g: Float64Array, L: Lanes, w?: Float64Array): Float64Array {
  const out = new Float64Array(L.count);
  for (let i = 0; i < L.count; i++) {
    for (let j = 0; j < L.len; j++) {
      const k = i * L.gs + j * L.es;
      out[i] += g[k] * (w ? w[k] : 1);
    }
  }
  return out;
}

/**
 * Each entry's lane sum of x as graph ops, shaped to broadcast against x: a vector's sum
 * is a scalar, a column sum (axis 0) a row, a row sum (axis 1) a column.
 */
function laneSumGraph(G: GraphOps, x: GraphNode, shape: Shape, attrs: Attrs): GraphNode {
  if (shape.length < 2) return G.sum(x);
  const axis = axisOf(shape, attrs);
  const s = G.sum(x, axis);
  return axis === 0 ? s : G.reshape(s, [shape[0], 1]);
}

/** A per-lane value (logsumexp's output or its gradient) spread back over the lanes of `shape`. */
function perLaneGraph(G: GraphOps, v: GraphNode, shape: Shape, attrs: Attrs): GraphNode {
  if (shape.length < 2 || axisOf(shape, attrs) === 0) return v;
  return G.reshape(v, [shape[0], 1]);
}

function sameShape([a]: Shape[], attrs: Attrs): Shape {
  axisOf(a, attrs);
  return a;
}

export const softmax: OpDef = {
  name: 'softmax',
  family: 'nn',
  arity: [1, 1],
  shape: sameShape,
  forward([a], attrs, out) {
    out.set(softmaxOf(a.data, lanes(a.shape, attrs)));
  },
  // ∂L/∂a = s ⊙ (g − Σ g⊙s)
  vjp([a], o, g, attrs) {
    const L = lanes(a.shape, attrs);
    const s = o.data;
    const gs = laneSums(g, L, s);
    const of = laneOf(L, s.length);
    return [s.map((v, k) => v * (g[k] - gs[of[k]]))];
  },
  jvp([a], o, [da], attrs) {
    const L = lanes(a.shape, attrs);
    const s = o.data;
    const ds = laneSums(da!, L, s);
    const of = laneOf(L, s.length);
    return s.map((v, k) => v * (da![k] - ds[of[k]]));
  },
  vjpGraph: (G, [a], s, g, attrs) => [G.mul(s, G.sub(g, laneSumGraph(G, G.mul(g, s), G.shape(a), attrs)))],
  jvpGraph: (G, [a], s, [da], attrs) => (da === null ? null : G.mul(s, G.sub(da, laneSumGraph(G, G.mul(da, s), G.shape(a), attrs)))),
  local: (_n, attrs, shapes) => [`s.*(g - ${laneSum('g.*s', attrs, shapes)})`],
};

export const logsoftmax: OpDef = {
  name: 'logsoftmax',
  family: 'nn',
  arity: [1, 1],
  shape: sameShape,
  forward([a], attrs, out) {
    const L = lanes(a.shape, attrs);
    const lse = laneLse(a.data, L);
    const of = laneOf(L, a.data.length);
    for (let k = 0; k < a.data.length; k++) out[k] = a.data[k] - lse[of[k]];
  },
  // ∂L/∂a = g − softmax(a)·Σ g
  vjp([a], o, g, attrs) {
    const L = lanes(a.shape, attrs);
    const gsum = laneSums(g, L);
    const of = laneOf(L, g.length);
    return [o.data.map((v, k) => g[k] - Math.exp(v) * gsum[of[k]])];
  },
  jvp([a], o, [da], attrs) {
    const L = lanes(a.shape, attrs);
    const sm = o.data.map(Math.exp);
    const ds = laneSums(da!, L, sm);
    const of = laneOf(L, sm.length);
    return da!.map((v, k) => v - ds[of[k]]);
  },
  // g − exp(s)·Σg; the tangent ȧ − Σ exp(s)·ȧ
  vjpGraph: (G, [a], s, g, attrs) => [G.sub(g, G.mul(G.op('exp', [s]), laneSumGraph(G, g, G.shape(a), attrs)))],
  jvpGraph: (G, [a], s, [da], attrs) => (da === null ? null : G.sub(da, laneSumGraph(G, G.mul(G.op('exp', [s]), da), G.shape(a), attrs))),
  local: (_n, attrs, shapes) => [`g - softmax(a${dimArg(attrs, shapes)}).*${laneSum('g', attrs, shapes)}`],
};

export const logsumexp: OpDef = {
  name: 'logsumexp',
  family: 'nn',
  arity: [1, 1],
  // one value per lane: a vector gives a scalar, a matrix a column [m,1] (one per row) or a row [1,n]
  shape([a], attrs) {
    const axis = axisOf(a, attrs);
    if (a.length < 2) return [];
    return axis === 0 ? [1, a[1]] : [a[0], 1];
  },
  forward([a], attrs, out) {
    out.set(laneLse(a.data, lanes(a.shape, attrs)));
  },
  // ∂/∂a = softmax(a)
  vjp([a], _o, g, attrs) {
    const L = lanes(a.shape, attrs);
    const of = laneOf(L, a.data.length);
    return [softmaxOf(a.data, L).map((v, k) => v * g[of[k]])];
  },
  jvp([a], _o, [da], attrs) {
    const L = lanes(a.shape, attrs);
    return laneSums(da!, L, softmaxOf(a.data, L));
  },
  // softmax(a) along the same lanes, times each lane's g
  vjpGraph: (G, [a], _o, g, attrs) => [G.mul(G.op('softmax', [a], attrs), perLaneGraph(G, g, G.shape(a), attrs))],
  jvpGraph(G, [a], _o, [da], attrs) {
    if (da === null) return null;
    const shape = G.shape(a);
    const t = G.mul(G.op('softmax', [a], attrs), da);
    return shape.length < 2 ? G.sum(t) : G.sum(t, axisOf(shape, attrs));
  },
  local: (_n, attrs, shapes) => [`softmax(a${dimArg(attrs, shapes)})`],
};

/** `, 1` or `, 2` for a matrix, as the formula would write its axis; nothing for a vector. */
function dimArg(attrs: Attrs, shapes: Shape[] | undefined): string {
  const shape = shapes?.[0];
  if (shape?.length === 2) return `, ${axisOf(shape, attrs) + 1}`;
  return attrs.axis === undefined ? '' : `, ${attrs.axis + 1}`;
}

/**
 * Each entry's lane sum of `x`, as a formula that is literally right with vectors as
 * columns: a column sum (dimension 1) is a row that broadcasts down the columns; a row
 * sum (dimension 2) is a column, spread along the rows by an outer product with ones.
 */
function laneSum(x: string, attrs: Attrs, shapes: Shape[] | undefined): string {
  const shape = shapes?.[0];
  if (shape?.length === 2 && axisOf(shape, attrs) === 1) return `(sum(${x}, 2)*ones(1, ${shape[1]}))`;
  return `sum(${x}${dimArg(attrs, shapes)})`;
}

export const NN: OpDef[] = [softmax, logsoftmax, logsumexp];
