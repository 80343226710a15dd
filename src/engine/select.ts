import { AgError } from '../errors.js';
import type { Tape } from '../graph/tape.js';
import { jsEngine } from './js.js';
import { loadNative } from './native.js';
import type { Engine } from './types.js';

export type EngineChoice = 'auto' | 'js' | 'native';

/** `auto`: native when it is loaded and implements every op of the tape, else js. */
export function selectEngine(choice: EngineChoice, tape: Tape): Engine {
  if (choice === 'js') return jsEngine;
  const { engine, reason } = loadNative();
  if (choice === 'native') {
    if (!engine) throw new AgError('engine', `--engine native: ${reason}`, { hint: 'use --engine js or --engine auto' });
    const missing = tape.nodes.map((n) => n.op).filter((op) => !engine.ops.has(op));
    if (missing.length) throw new AgError('engine', `--engine native: the native engine does not implement ${[...new Set(missing)].join(', ')}`);
    return engine;
  }
  if (engine && tape.nodes.every((n) => engine.ops.has(n.op))) return engine;
  return jsEngine;
}
