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
  // scatter-add: repeated indices accumulate
  vjpGraph: (G, [a], _o, g, attrs) => [G.op('scatter', [g], { gather: attrs.gather, outShape: G.shape(a) })],
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : G.op('subset', [da], attrs)),
};

/**
 * subset's reverse: output entry gather[k] adds input entry k (the rest are 0), so
 * repeated indices accumulate. Not a function of formulas; gradients are made of it.
 */
export const scatter: OpDef = {
  name: 'scatter',
  family: 'structure',
  arity: [1, 1],
  label: 'scatter',
  shape: (_i, attrs) => attrs.outShape as Shape,
  forward([a], attrs, out) {
    const gi = attrs.gather!;
    out.fill(0);
    for (let k = 0; k < gi.length; k++) out[gi[k]] += a.data[k];
  },
  vjpGraph: (G, [a], _o, g, attrs) => [G.op('subset', [g], { gather: attrs.gather, outShape: G.shape(a) })],
  jvpGraph: (G, _ins, _o, [da], attrs) => (da === null ? null : G.op('scatter', [da], attrs)),
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
};

export const STRUCTURE: OpDef[] = [input, constant, subset, scatter, stack];
