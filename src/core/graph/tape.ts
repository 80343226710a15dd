import type { Span } from '../errors.js';
import type { Attrs, OpDef } from '../ops/types.js';
import type { Shape, Tensor } from '../tensor.js';

/**
 * The tape: nodes in topological order. Inputs (variables) and constants are nodes
 * too, so every edge of the lecture pictures exists here. Values live in one
 * Float64Array arena: node i occupies [offset, offset + size).
 */
export interface TapeNode {
  id: number;
  op: string;
  inputs: number[];
  shape: Shape;
  size: number;
  offset: number;
  attrs: Attrs;
  /** display label: `x`, `q` (a named step), `sin`, `add#2`, `3` (a constant) */
  label: string;
  /** where in the formula it came from (absent for generated nodes) */
  span?: Span;
  /** the name of the step that computes it (`q` in `q = x + y`) */
  name?: string;
  /** true when the node's value depends on a differentiable input */
  active: boolean;
  /** the inline-function expansion that made this node (its text is in that function's body) */
  call?: CallSite;
  /** the node is this call's value (named after the call's text, `sigma(w*x + b)`) */
  callRoot?: CallSite;
}

/** One expansion of an inline function, like `sigma(w*x + b)` with `sigma(t) = 1/(1+exp(-t))`. */
export interface CallSite {
  fn: string;
  params: string[];
  /** the argument nodes, one per parameter (-1 where pruned: the body never used it) */
  args: number[];
  /** where the call is written */
  span: Span;
  /** the expansion the call is written in, when it is inside another function's body */
  parent?: CallSite;
}

export interface TapeInput {
  name: string;
  node: number;
  shape: Shape;
}

export interface Tape {
  source: string;
  nodes: TapeNode[];
  output: number;
  /** variables with respect to which we differentiate, in order of first appearance */
  inputs: TapeInput[];
  /** variables used only as integer indices (their values are baked into the tape) */
  indexVars: string[];
  /** total length of the value arena */
  arenaSize: number;
  /** inline-function parameters whose body never reads them, and what each call passed (source text) */
  unusedParams?: UnusedParam[];
  /** a step or variable of the formula that shadows a constant or function of the same name, in words */
  shadowed?: string[];
  /** a call written in a form that reads two ways (max(A, 2): elementwise here, a dimension in MATLAB), in words */
  notation?: string[];
}

export interface UnusedParam {
  fn: string;
  param: string;
  arg: string;
}

/** A fresh arena (or `arena`, tape.arenaSize entries) with every input and constant written in. */
export function makeArena(tape: Tape, values: Record<string, Tensor>, arena: Float64Array = new Float64Array(tape.arenaSize)): Float64Array {
  for (const n of tape.nodes) {
    if (n.op === 'const' && n.attrs.value) arena.set(n.attrs.value.data, n.offset);
  }
  for (const inp of tape.inputs) {
    const node = tape.nodes[inp.node];
    arena.set(values[inp.name].data, node.offset);
  }
  return arena;
}

export function view(arena: Float64Array, n: TapeNode): Float64Array {
  return arena.subarray(n.offset, n.offset + n.size);
}

/** Constants and index lists up to this many entries are shared by value; larger ones are not compared. */
export const SHARE_ENTRIES = 4096;

/**
 * The one key by which both tape writers (formula lowering, graph/build.ts, and gradient
 * appending, graph/append.ts) share identical nodes: the op, its inputs and every
 * attribute, written out generically (sorted by name, none listed here), so a new
 * attribute can never merge two different nodes. null: the node is never shared
 * (an input, or an attribute of more than `maxEntries` entries, or one that cannot be written out).
 */
export function nodeKey(op: string, inputs: readonly number[], attrs: Attrs, maxEntries = SHARE_ENTRIES): string | null {
  if (op === 'input') return null;
  // the commonest node, a scalar constant, written out as the general rule below would write it
  const value = attrs.value;
  if (op === 'const' && value && value.shape.length === 0 && value.data.length === 1 && isTensorOnly(attrs, value)) {
    return scalarConstKey(value.data[0]);
  }
  // no attributes (most nodes of a formula): the op and its inputs
  let any = false;
  for (const _ in attrs) {
    any = true;
    break;
  }
  if (!any) return `${op}(${inputs.join(',')})`;
  const parts: string[] = [];
  for (const name of Object.keys(attrs).sort()) {
    const v = attrKey(attrs[name], maxEntries);
    if (v === null) return null;
    if (v !== undefined) parts.push(`${name}=${v}`);
  }
  return `${op}(${inputs.join(',')})${parts.length ? `{${parts.join(';')}}` : ''}`;
}

/** The key of the scalar constant v, as nodeKey writes it: known before the constant's tensor is made. */
export function scalarConstKey(v: number): string {
  return `const(){value={data:[${Object.is(v, -0) ? '-0' : String(v)}];shape:[]}}`;
}

/** attrs is `{ value }` alone, and value a plain `{ shape, data }` with a Float64Array. */
function isTensorOnly(attrs: Attrs, value: Tensor): boolean {
  let n = 0;
  for (const _ in attrs) n++;
  let m = 0;
  for (const _ in value) m++;
  return n === 1 && m === 2 && value.data instanceof Float64Array && Object.getPrototypeOf(value) === Object.prototype;
}

/** An attribute value written out (undefined: absent; null: cannot be compared). */
function attrKey(v: unknown, maxEntries: number): string | undefined | null {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (ArrayBuffer.isView(v) || Array.isArray(v)) {
    const items = v as ArrayLike<unknown>;
    if (items.length > maxEntries) return null;
    let s = '[';
    for (let i = 0; i < items.length; i++) {
      const k = attrKey(items[i], maxEntries);
      if (k === null || k === undefined) return null;
      s += i ? `,${k}` : k;
    }
    return `${s}]`;
  }
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const name of Object.keys(o).sort()) {
      const k = attrKey(o[name], maxEntries);
      if (k === null) return null;
      if (k !== undefined) parts.push(`${name}:${k}`);
    }
    return `{${parts.join(';')}}`;
  }
  return null;
}

/**
 * The nodes that `roots` depend on, renumbered in the same topological order with a
 * packed arena (both tape writers prune with it). `ids` maps an old id to its new one (-1: dropped).
 */
export function compact(nodes: readonly TapeNode[], roots: Iterable<number>): { nodes: TapeNode[]; ids: Int32Array; arenaSize: number } {
  const live = new Uint8Array(nodes.length);
  for (const r of roots) live[r] = 1;
  for (let i = nodes.length - 1; i >= 0; i--) if (live[i]) for (const j of nodes[i].inputs) live[j] = 1;
  const ids = new Int32Array(nodes.length).fill(-1);
  const kept: TapeNode[] = [];
  let offset = 0;
  for (const n of nodes) {
    if (!live[n.id]) continue;
    ids[n.id] = kept.length;
    const inputs = n.inputs.map((j) => ids[j]);
    kept.push(tapeNode(n, kept.length, inputs, offset));
    offset += n.size;
  }
  return { nodes: kept, ids, arenaSize: offset };
}

/**
 * A node with every field of TapeNode its own, in one order, the optional ones undefined
 * where absent: every node of every tape then has one hidden class, and the engines'
 * loops over nodes read their fields at one place in memory instead of looking each up
 * among several layouts.
 */
export function tapeNode(n: Omit<TapeNode, 'id' | 'inputs' | 'offset'>, id: number, inputs: number[], offset: number): TapeNode {
  return {
    id,
    op: n.op,
    inputs,
    shape: n.shape,
    size: n.size,
    offset,
    attrs: n.attrs,
    label: n.label,
    span: n.span,
    name: n.name,
    active: n.active,
    call: n.call,
    callRoot: n.callRoot,
  };
}

/**
 * The shape of an `op` node with inputs of these shapes, by the op table's rule, for both
 * tape writers: `{ error }` when the op refuses them (each writer words it its own way:
 * a formula's error points at the formula, a derivative rule's is a bug in the table),
 * `rank` set when the result would have more than two dimensions.
 */
export function outputShape(def: OpDef, inputs: readonly Shape[], attrs: Attrs): { shape: Shape } | { error: string; rank?: true } {
  let shape: Shape;
  try {
    shape = def.shape(inputs as Shape[], attrs);
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (shape.length > 2)
    return { error: `${def.name} would make a tensor of rank ${shape.length}; only scalars, vectors and matrices are supported`, rank: true };
  return { shape };
}
