import type { Shape, Tensor } from '../tensor.js';

/** The name of argument j in local formulas: a, b, c, d, then a5, a6, … (max and min take any number). */
export const argName = (j: number): string => (j < 4 ? 'abcd'[j] : `a${j + 1}`);
/** argName's inverse: the argument a name stands for (-1 for none). */
export const argIndex = (name: string): number => (/^a\d+$/.test(name) ? Number(name.slice(1)) - 1 : 'abcd'.indexOf(name));
/** Every argument name and the output s in a local formula. */
export const LOCAL_NAME = /\b(?:[abcds]|a\d+)\b/g;

/** Per-node attributes fixed when the graph is built (constant values, index positions, norm kind …). */
export interface Attrs {
  /** const: the value */
  value?: Tensor;
  /** subset: for each output entry, the flat input entry it reads */
  gather?: Int32Array;
  /** norm: 1, 2, Infinity or 'fro' */
  ord?: number | 'fro';
  /**
   * sum/mean/prod: reduce along this 0-based axis (undefined: all entries);
   * softmax/logsoftmax/logsumexp: work along it (undefined: a vector's only axis, a matrix's rows)
   */
  axis?: number;
  /** stack: output shape is given */
  [k: string]: unknown;
}

export type ShapeFn = (inputs: Shape[], attrs: Attrs) => Shape;

/** A node of a graph being built: its id in the tape. */
export type GraphNode = number;

/**
 * What a graph rule builds with. The op table states its derivative rules against this
 * and knows nothing of what runs them: appended to a tape with shapes inferred, nodes
 * shared and constants folded (graph/append.ts), computed now (ops/eager.ts), or
 * printed as formula text (ops/text.ts).
 */
export interface GraphOps {
  shape(x: GraphNode): Shape;
  /** any op of the table */
  op(name: string, inputs: GraphNode[], attrs?: Attrs): GraphNode;
  constant(v: number | Tensor): GraphNode;
  /** a number that counts entries of these shapes (mean's 1/N): the derivative written with it holds for them only */
  shapeNumber(v: number): GraphNode;
  add(a: GraphNode, b: GraphNode): GraphNode;
  sub(a: GraphNode, b: GraphNode): GraphNode;
  /** elementwise (broadcasting) product */
  mul(a: GraphNode, b: GraphNode): GraphNode;
  div(a: GraphNode, b: GraphNode): GraphNode;
  neg(a: GraphNode): GraphNode;
  matmul(a: GraphNode, b: GraphNode): GraphNode;
  transpose(a: GraphNode): GraphNode;
  /** sum of every entry, or along a 0-based axis of a matrix */
  sum(a: GraphNode, axis?: number): GraphNode;
  /** x read as a tensor of `shape`, by the elementwise ops' broadcasting rules */
  broadcastTo(x: GraphNode, shape: Shape): GraphNode;
  /** the same entries in another shape of the same size ([n] ↔ [n,1] ↔ [1,n], [] ↔ [1]) */
  reshape(a: GraphNode, shape: Shape): GraphNode;
  /** a scalar partial derivative formula in a, b, c and s (an elementwise rule's `local`), applied entry by entry */
  formula(text: string, names: Record<string, GraphNode>): GraphNode;
}

/**
 * Reverse mode as graph ops: one contribution per input (null where nothing flows or
 * `need[i]` is false). A contribution may be shaped like the
 * output for a broadcast input; the gradient builder sums it back onto the input.
 */
export type VjpGraph = (G: GraphOps, ins: GraphNode[], out: GraphNode, g: GraphNode, attrs: Attrs, need: boolean[]) => (GraphNode | null)[];
/** Forward mode as graph ops: the output tangent given the input tangents (null = 0); null when it is 0. */
export type JvpGraph = (G: GraphOps, ins: GraphNode[], out: GraphNode, dots: (GraphNode | null)[], attrs: Attrs) => GraphNode | null;

/**
 * One op of the table. Every rule lives here and nowhere else: the engines are loops
 * that know nothing about any op.
 */
export interface OpDef {
  name: string;
  /** family, for grouping in docs and the native parity test */
  family: 'elementwise' | 'reduce' | 'linalg' | 'nn' | 'structure' | 'compare' | 'leaf';
  arity: readonly [number, number];
  /** output shape, or throws a plain Error whose message the builder turns into a ShapeError */
  shape: ShapeFn;
  forward(ins: Tensor[], attrs: Attrs, out: Float64Array): void;
  /**
   * The derivative, stated once, as compositions of table ops (tinygrad's gradient.py is
   * the model): reverse mode (one contribution per input, null where `need[i]` is false or
   * nothing flows; a contribution may be shaped like the output for a broadcast input,
   * summed back onto the input's shape by the caller) and forward mode. Every other form
   * is derived from these by running them against another GraphOps: appended as tape
   * (graph/append.ts: Hessians, derive, the native engine), computed now (ops/eager.ts: the
   * TypeScript engine, local values), or printed (ops/text.ts: the local derivative people
   * read). Leaves have none.
   */
  vjpGraph?: VjpGraph;
  jvpGraph?: JvpGraph;
  /**
   * Where the op is not differentiable: a code per branch the point is on (sign of
   * the argument, which operand wins a max …). A finite-difference step that changes
   * any code crossed a kink. Undefined for smooth ops.
   */
  branch?(ins: Tensor[], attrs: Attrs): number;
  /** Words for the kink, e.g. "abs at 0". */
  kink?: string;
  /** The output carries no derivative (comparisons, sign, round …). */
  constantOutput?: boolean;
  /** short label used for nodes: `add`, `mul`, `sin` */
  label?: string;
}
