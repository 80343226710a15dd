import { jsEngine } from '../../src/core/engine/js.js';
import { makeArena, view } from '../../src/core/graph/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { prepare } from '../../src/subjects/formula/grad.js';

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
