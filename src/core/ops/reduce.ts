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

/** Each input entry gets the upstream gradient of the output entry it went into, times w(k). */
function spread(a: Tensor, g: Float64Array, attrs: Attrs, w: (k: number) => number): Float64Array {
  const { of } = reduceMap(a.shape, attrs.axis);
  const r = new Float64Array(a.data.length);
  for (let k = 0; k < r.length; k++) r[k] = g[of(k)] * w(k);
  return r;
}

function collect(a: Tensor, attrs: Attrs, vals: Float64Array, outLen: number): Float64Array {
  const { of } = reduceMap(a.shape, attrs.axis);
  const r = new Float64Array(outLen);
  for (let k = 0; k < vals.length; k++) r[of(k)] += vals[k];
  return r;
}

const count = (a: Tensor, outLen: number) => a.data.length / outLen;

/**
 * Graph form of `spread`: each entry of a (shape `shape`) gets the entry of the reduced
 * `g` it went into. A column sum (axis 0) is a row that broadcasts down the columns; a
 * row sum (axis 1) is a column, spread along the rows by an outer product with ones.
 */
export function spreadGraph(G: GraphOps, g: GraphNode, shape: Shape, axis: number | undefined): GraphNode {
  const ones = G.constant({ shape, data: new Float64Array(sizeOf(shape)).fill(1) });
  if (axis === 1 && shape.length === 2) return G.mul(ones, G.reshape(g, [shape[0], 1]));
  return G.mul(ones, g);
}

/** Graph form of `collect`: the reduction itself, applied to x. */
const collectGraph = (G: GraphOps, x: GraphNode, attrs: Attrs) => G.sum(x, attrs.axis);

export const sum: OpDef = {
  name: 'sum',
  family: 'reduce',
  arity: [1, 1],
  shape: axisShape,
  forward([a], attrs, out) {
    out.set(collect(a, attrs, a.data, out.length));
  },
  vjp([a], _o, g, attrs) {
    return [spread(a, g, attrs, () => 1)];
  },
  jvp([a], out, [da], attrs) {
    return collect(a, attrs, da!, out.data.length);
  },
  vjpGraph: (G, [a], _o, g, attrs) => [spreadGraph(G, g, G.shape(a), attrs.axis)],
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : collectGraph(G, da, attrs)),
  local: () => ['1'],
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
  vjp([a], out, g, attrs) {
    const c = count(a, out.data.length);
    return [spread(a, g, attrs, () => 1 / c)];
  },
  jvp([a], out, [da], attrs) {
    const c = count(a, out.data.length);
    return collect(a, attrs, da!, out.data.length).map((v) => v / c);
  },
  vjpGraph(G, [a], out, g, attrs) {
    const c = sizeOf(G.shape(a)) / sizeOf(G.shape(out));
    return [G.mul(spreadGraph(G, g, G.shape(a), attrs.axis), G.constant(1 / c))];
  },
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : G.op('mean', [da], attrs)),
  local: () => ['1/n'],
};

/** Product of all entries but k, without dividing (exact when entries are zero). */
function prodExcept(a: Tensor, attrs: Attrs): Float64Array {
  const { of } = reduceMap(a.shape, attrs.axis);
  const r = new Float64Array(a.data.length);
  for (let k = 0; k < r.length; k++) {
    let p = 1;
    for (let j = 0; j < r.length; j++) if (j !== k && of(j) === of(k)) p *= a.data[j];
    r[k] = p;
  }
  return r;
}

/**
 * prodExcept as graph ops, exact where entries are 0 (s/a is not): gather, for every
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
  vjp([a], _o, g, attrs) {
    const p = prodExcept(a, attrs);
    return [spread(a, g, attrs, (k) => p[k])];
  },
  jvp([a], out, [da], attrs) {
    const p = prodExcept(a, attrs);
    return collect(
      a,
      attrs,
      p.map((v, k) => v * da![k]),
      out.data.length,
    );
  },
  vjpGraph: (G, [a], _o, g, attrs) => [G.mul(spreadGraph(G, g, G.shape(a), attrs.axis), prodExceptGraph(G, a, attrs))],
  jvpGraph: (G, [a], _o, [da], attrs) => (da === null ? null : collectGraph(G, G.mul(prodExceptGraph(G, a, attrs), da), attrs)),
  local: () => ['s/a'],
};

/**
 * max/min of all entries: the gradient goes to the entry that wins; ties split it
 * evenly (as torch.amax/amin).
 */
function extremum(name: 'max' | 'min', better: (x: number, y: number) => boolean): OpDef {
  const winners = (a: Float64Array, s: number) => {
    const w = new Float64Array(a.length);
    let c = 0;
    for (let k = 0; k < a.length; k++) if (a[k] === s) (w[k] = 1), c++;
    for (let k = 0; k < a.length; k++) w[k] /= c;
    return w;
  };
  return {
    name: `${name}All`,
    family: 'reduce',
    arity: [1, 1],
    label: name,
    kink: `${name} at a tie`,
    shape: () => [],
    forward([a], _attrs, out) {
      let s = a.data[0];
      for (let k = 1; k < a.data.length; k++) if (better(a.data[k], s) || Number.isNaN(a.data[k])) s = a.data[k];
      out[0] = s;
    },
    vjp([a], o, g) {
      const w = winners(a.data, o.data[0]);
      return [w.map((v) => v * g[0])];
    },
    jvp([a], o, [da]) {
      const w = winners(a.data, o.data[0]);
      let t = 0;
      for (let k = 0; k < w.length; k++) if (w[k]) t += w[k] * da![k];
      return Float64Array.of(t);
    },
    // the winners share g evenly: (a == s) / #winners
    vjpGraph: (G, [a], o, g) => [G.mul(g, winnersGraph(G, a, o))],
    jvpGraph: (G, [a], o, [da]) => (da === null ? null : G.sum(G.mul(winnersGraph(G, a, o), da))),
    local: () => [`a == s ? 1 : 0`],
    branch([a]) {
      // which entries win: a tie, or a step that changes the winner, shows up here
      let s = a.data[0];
      for (let k = 1; k < a.data.length; k++) if (better(a.data[k], s)) s = a.data[k];
      let code = 0;
      for (let k = 0; k < a.data.length; k++) if (a.data[k] === s) code += branchWeight(k);
      return code;
    },
  };
}

function winnersGraph(G: GraphOps, a: GraphNode, s: GraphNode): GraphNode {
  const won = G.op('equal', [a, s]);
  return G.div(won, G.sum(won));
}

export const maxAll = extremum('max', (x, y) => x > y);
export const minAll = extremum('min', (x, y) => x < y);

/** Below this, a point counts as near a point-kink (the 2-norm at the origin). */
export const NEAR_ZERO = 1e-3;

/** Norms of a vector (1, 2, Infinity) or a matrix ('fro', which is the 2-norm of all entries). */
export const norm: OpDef = {
  name: 'norm',
  family: 'reduce',
  arity: [1, 1],
  kink: 'norm at 0 (or an |entry| tie for the ∞-norm)',
  shape([s], attrs) {
    const ord = attrs.ord ?? 2;
    if (s.length === 2 && ord !== 'fro' && ord !== 2) throw new Error(`norm(A, ${String(ord)}) of a matrix is not supported; use "fro"`);
    return [];
  },
  forward([a], attrs, out) {
    const ord = attrs.ord ?? 2;
    const d = a.data;
    let r = 0;
    if (ord === 1) for (let k = 0; k < d.length; k++) r += Math.abs(d[k]);
    else if (ord === Infinity) for (let k = 0; k < d.length; k++) r = Math.max(r, Math.abs(d[k]));
    else {
      for (let k = 0; k < d.length; k++) r += d[k] * d[k];
      r = Math.sqrt(r);
    }
    out[0] = r;
  },
  vjp([a], o, g, attrs) {
    return [normPartials(a, o.data[0], attrs).map((v) => v * g[0])];
  },
  jvp([a], o, [da], attrs) {
    const p = normPartials(a, o.data[0], attrs);
    let t = 0;
    for (let k = 0; k < p.length; k++) t += p[k] * da![k];
    return Float64Array.of(t);
  },
  vjpGraph: (G, [a], o, g, attrs) => [G.mul(g, normPartialsGraph(G, a, o, attrs))],
  jvpGraph: (G, [a], o, [da], attrs) => (da === null ? null : G.sum(G.mul(normPartialsGraph(G, a, o, attrs), da))),
  local(_n, attrs) {
    const ord = attrs.ord ?? 2;
    return [ord === 1 ? 'sign(a)' : ord === Infinity ? 'sign(a) at the largest |a|' : 'a/s'];
  },
  branch([a], attrs) {
    const ord = attrs.ord ?? 2;
    let code = 0;
    if (ord === Infinity) {
      let m = 0;
      for (const v of a.data) m = Math.max(m, Math.abs(v));
      a.data.forEach((v, k) => {
        if (Math.abs(v) === m) code += branchWeight(k) * (v > 0 ? 2 : 1);
      });
      return code;
    }
    // the 1-norm bends wherever an entry crosses 0; the 2-norm only at the origin, so there
    // the signs of the entries tell a step that passes near it
    let near = true;
    for (const v of a.data) if (Math.abs(v) > NEAR_ZERO) near = false;
    if (ord !== 1 && !near) return 0;
    a.data.forEach((v, k) => {
      code += (Math.sign(v) + 2) * branchWeight(k);
    });
    return code;
  },
};

/** ∂‖a‖/∂a_k; at a = 0 the subgradient 0, as PyTorch. */
function normPartials(a: Tensor, s: number, attrs: Attrs): Float64Array {
  const ord = attrs.ord ?? 2;
  const d = a.data;
  if (ord === 1) return d.map((v) => Math.sign(v));
  if (ord === Infinity) {
    let c = 0;
    for (const v of d) if (Math.abs(v) === s) c++;
    return d.map((v) => (Math.abs(v) === s && s !== 0 ? Math.sign(v) / c : 0));
  }
  return d.map((v) => (s === 0 ? 0 : v / s));
}

/** normPartials as graph ops: sign(a); sign(a)·(|a| == s)/#ties where s ≠ 0; a/s where s ≠ 0. */
function normPartialsGraph(G: GraphOps, a: GraphNode, s: GraphNode, attrs: Attrs): GraphNode {
  const ord = attrs.ord ?? 2;
  if (ord === 1) return G.op('sign', [a]);
  if (ord === Infinity) {
    const won = G.op('equal', [G.op('abs', [a]), s]);
    return G.formula('s == 0 ? 0 : sign(a) * w / sum(w)', { a, s, w: won });
  }
  return G.formula('s == 0 ? 0 : a / s', { a, s });
}

export const REDUCE: OpDef[] = [sum, mean, prod, maxAll, minAll, norm];
export { sizeOf };
