import { AgError } from '../errors.js';
import type { Tape } from '../graph/tape.js';
import { jsEngine } from './js.js';
import { loadNative } from './native.js';
import type { Engine } from './types.js';

export type EngineChoice = 'auto' | 'js' | 'native';

/** Ops a gradient tape holds that a formula's tape need not: upstream × partial, and indexing's reverse. */
const DERIVATIVE_OPS = ['gmul', 'scatter'];

/**
 * `auto` loads the native engine only for tapes with at least this much work (see
 * tapeWork): loading the addon and OpenBLAS costs 13–25 ms, more than the TypeScript
 * engine spends on a lecture example, its finite-difference check included.
 */
export const NATIVE_WORK = 50_000;

/**
 * A tape's work for a gradient and its check, in entry-operations: every node's size
 * (a matrix product counts m·k·n), times one pass per input entry plus one — forward
 * mode and the finite differences each pass over the tape about once per input entry.
 */
export function tapeWork(tape: Tape): number {
  let perPass = 0;
  for (const n of tape.nodes) {
    if (n.op === 'matmul') {
      const [a, b] = n.inputs.map((i) => tape.nodes[i]);
      perPass += a.size * (b.shape.length === 2 ? b.shape[1] : 1);
    } else {
      perPass += n.size;
    }
  }
  const entries = tape.inputs.reduce((s, i) => s + tape.nodes[i.node].size, 0);
  return perPass * (entries + 1);
}

/**
 * `js` and `native` as asked. `auto`: the TypeScript engine for small tapes (work under
 * NATIVE_WORK, without loading the addon), else native when it is built and implements
 * every op of the tape, else the TypeScript engine.
 */
export function selectEngine(choice: EngineChoice, tape: Tape): Engine {
  if (choice === 'js') return jsEngine;
  if (choice === 'auto' && tapeWork(tape) < NATIVE_WORK) return jsEngine;
  const { engine, reason } = loadNative();
  // the ops of the tape, and those its derivative tapes are made of beyond them
  const needed = [...tape.nodes.map((n) => n.op), ...DERIVATIVE_OPS];
  if (choice === 'native') {
    if (!engine) throw new AgError('engine', `--engine native: ${reason}`, { hint: 'use --engine js or --engine auto' });
    const missing = needed.filter((op) => !engine.ops.has(op));
    if (missing.length) throw new AgError('engine', `--engine native: the native engine does not implement ${[...new Set(missing)].join(', ')}`);
    return engine;
  }
  if (engine && needed.every((op) => engine.ops.has(op))) return engine;
  return jsEngine;
}
