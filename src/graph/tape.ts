import type { Span } from '../errors.js';
import type { Attrs } from '../ops/types.js';
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
}

export interface UnusedParam {
  fn: string;
  param: string;
  arg: string;
}

/** A fresh arena with every input and constant written in. */
export function makeArena(tape: Tape, values: Record<string, Tensor>): Float64Array {
  const arena = new Float64Array(tape.arenaSize);
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
