import { shapeStr, sizeOf, type Shape, type Tensor } from '../tensor.js';
import { branchWeight } from './broadcast.js';
import type { Attrs, GraphNode, GraphOps, OpDef } from './types.js';

/**
 * Reductions. sum/mean/prod take an optional axis (mathjs's one-based dim is turned
 * into a 0-based `axis` by the graph builder); the others reduce every entry.
 */

/**
 * For axis reductions of a matrix: output entry of each input entry. The reduced
 * dimension is kept (MATLAB's and the papers' convention): a column sum (axis 0) of
 * [m,n] is the row [1,n], a row sum (axis 1) the column [m,1], so `A - sum(A, 2)`
 * subtracts each row's sum from that row, never a vector read as a row.
 */
function reduceMap(shape: Shape, axis: number | undefined): { outShape: Shape; of: (k: number) => number } {
  if (axis === undefined || shape.length < 2) return { outShape: [], of: () => 0 };
  const [m, n] = shape;
  return axis === 0 ? { outShape: [1, n], of: (k) => k % n } : { outShape: [m, 1], of: (k) => Math.floor(k / n) };
}

function axisShape([s]: Shape[], attrs: Attrs): Shape {
  if (attrs.axis !== undefined && s.length < 2) throw new Error(`a dimension can only be given for a matrix, not ${shapeStr(s)}`);
  return reduceMap(s, attrs.axis).outShape;
}

function collect(a: Tensor, attrs: Attrs, vals: Float64Array, outLen: number): Float64Array {
  const { of } = reduceMap(a.shape, attrs.axis);
  const r = new Float64Array(outLen);
  for (let k = 0; k < vals.length; k++) r[of(k)] += vals[k];
  return r;
}

const count = (a: Tensor, outLen: number) => a.data.length / outLen;

/**
 * Each entry of a (shape `shape`) gets the entry of the reduced
 * `g` it went into. A column sum (axis 0) is a row that broadcasts down the columns; a
 * row sum (axis 1) is a column, spread along the rows by an outer product with ones.
 */
export function spreadGraph(G: GraphOps, g: GraphNode, shape: Shape, axis: number | undefined): GraphNode {
  const ones = G.constant({ shape, data: new Float64Array(sizeOf(shape)).fill(1) });
  if (axis === 1 && shape.length === 2) return G.mul(ones, G.reshape(g, [shape[0], 1]));
  return G.mul(ones, g);
}

/** The reduction itself, applied to x (a tangent's reduction). */
const collectGraph = (G: GraphOps, x: GraphNode, attrs: Attrs) => G.sum(x, attrs.axis);

export const sum: OpDef = {
  name: 'sum',
  family: 'reduce',
  arity: [1, 1],
  shape: axisShape,
  forward([a], attrs, out) {
    out.set(collect(a, attrs, a.data, out.length));
  },
  vjpGraph: (G, [a], _o, g, attrs) => [spreadGraph(G, g, G.shape(a), attrs.axis)],
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : collectGraph(G, da, attrs)),
};

export const mean: OpDef = {
  name: 'mean',
  family: 'reduce',
  arity: [1, 1],
  shape: axisShape,
  forward([a], attrs, out) {
    const c = count(a, out.length);
    const s = collect(a, attrs, a.data, out.length);
    for (let i = 0; i < out.length; i++) out[i] = s[i] / c;
  },
  vjpGraph(G, [a], out, g, attrs) {
    const c = sizeOf(G.shape(a)) / sizeOf(G.shape(out));
    return [G.mul(spreadGraph(G, g, G.shape(a), attrs.axis), G.shapeNumber(1 / c))];
  },
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : G.op('mean', [da], attrs)),
};

/**
 * The product of all entries of its lane but each one, exact where entries are 0 (s/a is not): gather, for every
 * entry, the other entries of its lane into a row, and take each row's product.
 */
function prodExceptGraph(G: GraphOps, a: GraphNode, attrs: Attrs): GraphNode {
  const shape = G.shape(a);
  const size = sizeOf(shape);
  const { of } = reduceMap(shape, attrs.axis);
  const others: number[][] = Array.from({ length: size }, () => []);
  for (let k = 0; k < size; k++) for (let j = 0; j < size; j++) if (j !== k && of(j) === of(k)) others[k].push(j);
  const len = others[0].length;
  if (len === 0) return G.constant({ shape, data: new Float64Array(size).fill(1) });
  const rows = G.op('subset', [a], { gather: Int32Array.from(others.flat()), outShape: [size, len] });
  return G.reshape(G.op('prod', [rows], { axis: 1 }), shape);
}

export const prod: OpDef = {
  name: 'prod',
  family: 'reduce',
  arity: [1, 1],
  shape: axisShape,
  forward([a], attrs, out) {
    const { of } = reduceMap(a.shape, attrs.axis);
    out.fill(1);
    for (let k = 0; k < a.data.length; k++) out[of(k)] *= a.data[k];
  },
  vjpGraph: (G, [a], _o, g, attrs) => [G.mul(spreadGraph(G, g, G.shape(a), attrs.axis), prodExceptGraph(G, a, attrs))],
  jvpGraph: (G, [a], _o, [da], attrs) => (da === null ? null : collectGraph(G, G.mul(prodExceptGraph(G, a, attrs), da), attrs)),
};

/**
 * max/min of all entries, or along `attrs.axis` keeping it (MATLAB's max(A, [], d)): the
 * gradient goes to the entry that wins its lane; ties split it evenly (as torch.amax/amin).
 */
function extremum(name: 'max' | 'min', better: (x: number, y: number) => boolean): OpDef {
  /** each lane's winner (NaN wins, as Math.max); `strict`: ignore NaN, for the branch code */
  const winners = (a: Tensor, attrs: Attrs, outLen: number, strict: boolean): Float64Array => {
    const { of } = reduceMap(a.shape, attrs.axis);
    const s = new Float64Array(outLen);
    const seen = new Uint8Array(outLen);
    for (let k = 0; k < a.data.length; k++) {
      const i = of(k);
      if (!seen[i] || better(a.data[k], s[i]) || (!strict && Number.isNaN(a.data[k]))) s[i] = a.data[k];
      seen[i] = 1;
    }
    return s;
  };
  return {
    name: `${name}All`,
    family: 'reduce',
    arity: [1, 1],
    label: name,
    kink: `${name} at a tie`,
    shape: axisShape,
    forward([a], attrs, out) {
      out.set(winners(a, attrs, out.length, false));
    },
    // the winners of each lane share its g evenly: (a == s) / #winners
    vjpGraph: (G, [a], o, g, attrs) => [G.mul(g, winnersGraph(G, a, o, attrs.axis))],
    jvpGraph: (G, [a], o, [da], attrs) => (da === null ? null : G.sum(G.mul(winnersGraph(G, a, o, attrs.axis), da), attrs.axis)),
    branch([a], attrs) {
      // which entries win: a tie, or a step that changes the winner, shows up here
      const { of, outShape } = reduceMap(a.shape, attrs.axis);
      const s = winners(a, attrs, sizeOf(outShape), true);
      let code = 0;
      for (let k = 0; k < a.data.length; k++) if (a.data[k] === s[of(k)]) code += branchWeight(k);
      return code;
    },
  };
}

/** Where each lane's winner is, shared evenly among its ties: (a == s) / Σ(a == s) along the lane. */
function winnersGraph(G: GraphOps, a: GraphNode, s: GraphNode, axis: number | undefined): GraphNode {
  const won = G.op('equal', [a, s]);
  return G.div(won, G.sum(won, axis));
}

export const maxAll = extremum('max', (x, y) => x > y);
export const minAll = extremum('min', (x, y) => x < y);

/** Below this, a point counts as near a point-kink (the 2-norm at the origin). */
export const NEAR_ZERO = 1e-3;

/**
 * Norms of a vector (1, 2, Infinity) or a matrix ('fro', which is the 2-norm of all
 * entries); with `attrs.axis`, the 1-, 2- or ∞-norm of each lane of a matrix, keeping the
 * dimension (MATLAB's vecnorm, torch.linalg.vector_norm(dim, keepdim=True)).
 */
export const norm: OpDef = {
  name: 'norm',
  family: 'reduce',
  arity: [1, 1],
  kink: 'norm at 0 (or an |entry| tie for the ∞-norm)',
  shape([s], attrs) {
    const ord = attrs.ord ?? 2;
    if (attrs.axis !== undefined && ord === 'fro') throw new Error('a "fro" norm along a dimension is the 2-norm of each lane; write 2');
    if (attrs.axis === undefined && s.length === 2 && ord !== 'fro' && ord !== 2)
      throw new Error(`norm(A, ${String(ord)}) of a matrix is not supported; use "fro"`);
    return axisShape([s], attrs);
  },
  forward([a], attrs, out) {
    const ord = attrs.ord ?? 2;
    const d = a.data;
    const { of } = reduceMap(a.shape, attrs.axis);
    out.fill(0);
    if (ord === 1) for (let k = 0; k < d.length; k++) out[of(k)] += Math.abs(d[k]);
    else if (ord === Infinity) for (let k = 0; k < d.length; k++) out[of(k)] = Math.max(out[of(k)], Math.abs(d[k]));
    else {
      for (let k = 0; k < d.length; k++) out[of(k)] += d[k] * d[k];
      for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(out[i]);
    }
  },
  vjpGraph: (G, [a], o, g, attrs) => [G.mul(g, normPartialsGraph(G, a, o, attrs))],
  jvpGraph: (G, [a], o, [da], attrs) => (da === null ? null : G.sum(G.mul(normPartialsGraph(G, a, o, attrs), da), attrs.axis)),
  branch([a], attrs) {
    const ord = attrs.ord ?? 2;
    const { of, outShape } = reduceMap(a.shape, attrs.axis);
    const lanes = sizeOf(outShape);
    let code = 0;
    if (ord === Infinity) {
      const m = new Float64Array(lanes);
      a.data.forEach((v, k) => {
        m[of(k)] = Math.max(m[of(k)], Math.abs(v));
      });
      a.data.forEach((v, k) => {
        if (Math.abs(v) === m[of(k)]) code += branchWeight(k) * (v > 0 ? 2 : 1);
      });
      return code;
    }
    // the 1-norm bends wherever an entry crosses 0; the 2-norm only at a lane's origin, so
    // there the signs of the lane's entries tell a step that passes near it
    const near = new Uint8Array(lanes).fill(1);
    a.data.forEach((v, k) => {
      if (Math.abs(v) > NEAR_ZERO) near[of(k)] = 0;
    });
    a.data.forEach((v, k) => {
      if (ord === 1 || near[of(k)]) code += (Math.sign(v) + 2) * branchWeight(k);
    });
    return code;
  },
};

/** ∂‖a‖/∂a_k, lane by lane: sign(a); sign(a)·(|a| == s)/#ties where s ≠ 0; a/s where s ≠ 0 (at a = 0 the subgradient 0, as PyTorch). */
function normPartialsGraph(G: GraphOps, a: GraphNode, s: GraphNode, attrs: Attrs): GraphNode {
  const ord = attrs.ord ?? 2;
  if (ord === 1) return G.op('sign', [a]);
  if (ord === Infinity) {
    const won = G.op('equal', [G.op('abs', [a]), s]);
    return G.formula('s == 0 ? 0 : sign(a) * w / n', { a, s, w: won, n: G.sum(won, attrs.axis) });
  }
  return G.formula('s == 0 ? 0 : a / s', { a, s });
}

export const REDUCE: OpDef[] = [sum, mean, prod, maxAll, minAll, norm];
export { sizeOf };
