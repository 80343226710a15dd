import type { Shape } from '../core/tensor.js';
import type { Precision } from './dtype.js';

/**
 * The seam between the check and the function under test. The finite-difference check,
 * the verdict and the reporters see only this: f's inputs and the point, its output
 * size, the output at a batch of perturbed points, and (where the function can give
 * them) branch codes, the magnitudes its evaluation went through, and the words for a
 * kink. A formula tape, a JS function and a program over a pipe all implement it.
 *
 * The check is written once, as a generator that yields requests and receives their
 * answers (`Ask`); `runSync` drives it against a synchronous function (a tape, a JS
 * function), `runAsync` against an asynchronous one (a program over a pipe). A tape
 * answers a whole batch in one engine call.
 */

/** One input of f: its name and shape; its entries sit at `offset` in the flat point. */
export interface InputSpec {
  name: string;
  shape: Shape;
  offset: number;
  size: number;
}

/**
 * A batch of points: point p is the base point with `delta[p]` added to flat entry
 * `coord[p]`, or, where coord[p] is -1, `delta[p]·direction` added to every entry.
 * (coord 0 with delta 0 is the base point itself.)
 */
export interface Batch {
  coord: Int32Array;
  delta: Float64Array;
  direction?: Float64Array;
}

/** f at each point of a batch: `outputs` values per point, and a branch code per point where f has them. */
export interface BatchValues {
  values: Float64Array;
  branches?: Float64Array;
}

/** What the check knows of f besides evaluating it. */
export interface FunctionUnderTest {
  inputs: InputSpec[];
  /** the point, flat, inputs concatenated in order */
  point: Float64Array;
  /** entries of f's output (1 for a scalar) */
  outputs: number;
  /** f at the point, when the function under test gave it before the check (its rounding scale is then known up front) */
  value?: Float64Array;
  /**
   * The largest magnitude computed on the way to f at the point, so ε·scale is the
   * rounding error of one evaluation: a tape's intermediates ((x + 1e10) − 1e10 is small,
   * but every evaluation of it is off by ~1e-6). Without it, the |f| values seen.
   */
  scale?: number;
  /**
   * the precision f computes in (a function check: declared, or detected from its values;
   * absent for a formula, which runs in float64 with its rounding known from the tape)
   */
  precision?: Precision;
  /** the words for a kink that a step of ±h on flat entry j crossed (a tape names the op) */
  kinkNote?(j: number, h: number): string;
}

/** Requests the check makes; the answer to each is in its comment. */
export type Request =
  /** → BatchValues */
  | { kind: 'evaluate'; batch: Batch }
  /** → Float64Array: Jᵀ·cotangent, flat like the point (the gradient for a scalar f and cotangent [1]) */
  | { kind: 'vjp'; cotangent: Float64Array }
  /** → Float64Array: J·tangent, `outputs` entries */
  | { kind: 'jvp'; tangent: Float64Array }
  /** → Float64Array: the reference's Jᵀ·cotangent (a formula's autodiff: the truth) */
  | { kind: 'reference'; cotangent: Float64Array };

/** A check, or part of one: yields requests, is sent their answers, returns T. */
export type Ask<T> = Generator<Request, T, unknown>;

export function* evaluate(batch: Batch): Ask<BatchValues> {
  return (yield { kind: 'evaluate', batch }) as BatchValues;
}

export function* vjp(cotangent: Float64Array): Ask<Float64Array> {
  return (yield { kind: 'vjp', cotangent }) as Float64Array;
}

export function* jvp(tangent: Float64Array): Ask<Float64Array> {
  return (yield { kind: 'jvp', tangent }) as Float64Array;
}

export function* reference(cotangent: Float64Array): Ask<Float64Array> {
  return (yield { kind: 'reference', cotangent }) as Float64Array;
}

/** What answers the requests, synchronously. Only `evaluate` is needed by the finite-difference check. */
export interface Evaluator {
  evaluate(batch: Batch): BatchValues;
  vjp?(cotangent: Float64Array): Float64Array;
  jvp?(tangent: Float64Array): Float64Array;
  reference?(cotangent: Float64Array): Float64Array;
}

/** The same, answering with promises (a program over a pipe). */
export type AsyncEvaluator = { [K in keyof Evaluator]: Evaluator[K] extends ((...a: infer A) => infer R) | undefined ? (...a: A) => R | Promise<R> : never };

function answer<E extends Evaluator | AsyncEvaluator>(ev: E, r: Request): unknown {
  switch (r.kind) {
    case 'evaluate':
      return ev.evaluate(r.batch);
    case 'vjp':
      return need(ev.vjp, 'vjp').call(ev, r.cotangent);
    case 'jvp':
      return need(ev.jvp, 'jvp').call(ev, r.tangent);
    case 'reference':
      return need(ev.reference, 'reference').call(ev, r.cotangent);
  }
}

function need<F>(f: F | undefined, what: string): F {
  if (!f) throw new Error(`the check asked for ${what}, which this function does not give`);
  return f;
}

/** Run a check against a synchronous function. */
export function runSync<T>(check: Ask<T>, ev: Evaluator): T {
  let step = check.next();
  while (!step.done) step = check.next(answer(ev, step.value));
  return step.value;
}

/** Run a check against a function that answers with promises. */
export async function runAsync<T>(check: Ask<T>, ev: AsyncEvaluator): Promise<T> {
  let step = check.next();
  while (!step.done) step = check.next(await answer(ev, step.value));
  return step.value;
}
