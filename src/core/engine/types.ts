import type { Tape } from '../graph/tape.js';

/** What flowed back along one edge: from the consumer `to` into its input `from`. */
export interface EdgeFlow {
  /** the consumer node */
  to: number;
  /** which of its inputs */
  input: number;
  /** the input node */
  from: number;
  /** downstream contribution ∂f/∂from through this edge, shaped like `from` */
  contribution: Float64Array;
}

export interface ReverseResult {
  /** adjoints ∂f/∂node, one arena-shaped buffer */
  adjoint: Float64Array;
  edges?: EdgeFlow[];
}

/**
 * An engine runs a tape. Values live in one arena (see graph/tape.ts): inputs and
 * constants are written in before `forward`, which fills in every other node.
 */
export interface Engine {
  readonly name: 'js' | 'native';
  /** the op names this engine implements */
  readonly ops: ReadonlySet<string>;
  forward(tape: Tape, arena: Float64Array): void;
  /**
   * Reverse mode. The output's adjoint starts as `seed` (default: 1 for a scalar
   * output; a vector-valued output needs a seed, e.g. e_i for row i of a Jacobian).
   * `edges` records every edge's contribution.
   */
  reverse(tape: Tape, arena: Float64Array, opts?: { edges?: boolean; seed?: Float64Array }): ReverseResult;
  /** forward mode: the output tangent for the given tangent of each tape input (null = 0) */
  jvp(tape: Tape, arena: Float64Array, dots: (Float64Array | null)[]): Float64Array;
  /**
   * The output at many perturbed points, for finite differences: point p is the tape's
   * inputs (concatenated in tape-input order) with `delta[p]` added to entry `coord[p]`,
   * or, where coord[p] is -1, `delta[p]·direction`. Returns f and a branch code per
   * point (see OpDef.branch): a code that differs from the base point's means the step
   * crossed a kink.
   */
  evaluate(tape: Tape, arena: Float64Array, coord: Int32Array, delta: Float64Array, direction?: Float64Array): { values: Float64Array; branches: Float64Array };
}
