import { expect } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { makeArena, view } from '../../src/core/graph/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { grad, prepare } from '../../src/subjects/formula/grad.js';

/** A printed derivative evaluated on its own, by the TypeScript engine, at `values`. */
export function evaluate(formula: string, values: Record<string, Tensor>): Float64Array {
  const tape = prepare(formula, values);
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  return view(arena, tape.nodes[tape.output]).slice();
}

/** A gradient as grad() gives it (a number or nested arrays), its entries in order. */
export function flat(v: unknown): number[] {
  return typeof v === 'number' ? [v] : ((v as unknown[]).flat(2) as number[]);
}

/** ∂f/∂v by reverse mode at `values`, its entries in order. */
export function reverseGradient(formula: string, values: Record<string, Tensor>, v: string): number[] {
  return flat(grad(formula, values, { check: false, forwardMode: false, edges: false }).gradient[v]);
}

/** The same entries, each to `rel` relative to 1 + |want| (one number stands for every entry, as in derive's check: a derivative 0); `what` names the comparison in a failure. */
export function expectEntries(got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-9, what = ''): void {
  if (got.length !== 1) expect(got.length, what).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const g = got.length === 1 ? got[0] : got[k];
    expect(Math.abs(g - want[k]), `${what} entry ${k}`).toBeLessThanOrEqual(rel * (1 + Math.abs(want[k])));
  }
}
