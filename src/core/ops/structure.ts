import { sameShape, shapeStr, sizeOf, type Shape } from '../tensor.js';
import type { OpDef } from './types.js';

/** Leaves: inputs (variables) and constants carry their value in the arena already. */
const leaf = (name: string): OpDef => ({
  name,
  family: 'leaf',
  arity: [0, 0],
  shape: (_i, attrs) => (attrs.value?.shape ?? []) as Shape,
  forward(_ins, attrs, out) {
    if (attrs.value) out.set(attrs.value.data);
  },
  vjp: () => [],
  jvp: (_ins, out) => new Float64Array(out.data.length),
  local: () => [],
});
export const input = leaf('input');
export const constant = leaf('const');

/**
 * Indexing (`v[i]`, `A[i,:]`, `v[2:4]`): the builder resolves the indices to a
 * gather table (output entry k reads input entry gather[k]); the backward pass
 * scatter-adds, so repeated indices accumulate.
 */
export const subset: OpDef = {
  name: 'subset',
  family: 'structure',
  arity: [1, 1],
  label: 'index',
  shape: (_i, attrs) => attrs.outShape as Shape,
  forward([a], attrs, out) {
    const gi = attrs.gather!;
    for (let k = 0; k < gi.length; k++) out[k] = a.data[gi[k]];
  },
  vjp([a], _o, g, attrs) {
    const gi = attrs.gather!;
    const r = new Float64Array(a.data.length);
    for (let k = 0; k < gi.length; k++) r[gi[k]] += g[k];
    return [r];
  },
  jvp(_ins, _o, [da], attrs) {
    const gi = attrs.gather!;
    return Float64Array.from(gi, (j) => da![j]);
  },
  // scatter-add as gathers: entry j of a reads back the r-th output entry that read it, for each r
  vjpGraph(G, [a], _o, g, attrs) {
    const gi = attrs.gather!;
    const shape = G.shape(a);
    const size = sizeOf(shape);
    const readers: number[][] = Array.from({ length: size }, () => []);
    gi.forEach((j, k) => readers[j].push(k));
    let total: number | null = null;
    const rounds = Math.max(...readers.map((r) => r.length));
    for (let r = 0; r < rounds; r++) {
      const from = Int32Array.from(readers, (ks) => ks[r] ?? 0);
      const mask = Float64Array.from(readers, (ks) => (ks[r] === undefined ? 0 : 1));
      let part = G.op('subset', [g], { gather: from, outShape: shape });
      // entries read fewer times get exactly 0 (not 0·g, which is NaN where g is not finite)
      if (mask.some((m) => m === 0)) part = G.op('select', [G.constant({ shape, data: mask }), part, G.constant(0)]);
      total = total === null ? part : G.add(total, part);
    }
    return [total];
  },
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : G.op('subset', [da], attrs)),
  local: () => ['1 at the index'],
};

/** Array literals `[x, y^2, x*y]` and `[[a,b],[c,d]]`: stack equal-shaped items along a new first axis. */
export const stack: OpDef = {
  name: 'stack',
  family: 'structure',
  arity: [1, Infinity],
  label: 'array',
  shape(ins) {
    const first = ins[0];
    for (const s of ins) {
      if (!sameShape(s, first)) throw new Error(`the items have different shapes (${shapeStr(first)} and ${shapeStr(s)})`);
    }
    if (first.length >= 2) throw new Error('arrays of matrices (rank 3) are not supported');
    return [ins.length, ...first];
  },
  forward(ins, _attrs, out) {
    let o = 0;
    for (const t of ins) {
      out.set(t.data, o);
      o += t.data.length;
    }
  },
  vjp(ins, _o, g, _attrs, need) {
    let o = 0;
    return ins.map((t, i) => {
      const part = need[i] ? g.slice(o, o + t.data.length) : null;
      o += t.data.length;
      return part;
    });
  },
  jvp(ins, out, dots) {
    const r = new Float64Array(out.data.length);
    let o = 0;
    ins.forEach((t, i) => {
      if (dots[i]) r.set(dots[i]!, o);
      o += t.data.length;
    });
    return r;
  },
  // each item's slice of g
  vjpGraph(G, ins, _o, g, _attrs, need) {
    let o = 0;
    return ins.map((t, i) => {
      const shape = G.shape(t);
      const size = sizeOf(shape);
      const part = need[i] ? G.op('subset', [g], { gather: Int32Array.from({ length: size }, (_, k) => o + k), outShape: shape }) : null;
      o += size;
      return part;
    });
  },
  jvpGraph(G, ins, _o, dots) {
    if (dots.every((d) => d === null)) return null;
    return G.op(
      'stack',
      dots.map((d, i) => d ?? G.constant({ shape: G.shape(ins[i]), data: new Float64Array(sizeOf(G.shape(ins[i]))) })),
    );
  },
  local: (n) => Array.from({ length: n }, () => '1'),
};

export const STRUCTURE: OpDef[] = [input, constant, subset, stack];
