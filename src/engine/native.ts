import type { Engine } from './types.js';

/**
 * The native C++ engine, when its addon is built. Until then `loadNative` reports why
 * it is not available and `--engine auto` uses the TypeScript engine.
 */
export function loadNative(): { engine: Engine | null; reason: string } {
  return { engine: null, reason: 'the native engine is not built in this version' };
}
