import { AgError } from '../../core/errors.js';

/** `--shard i/n`: run the i-th of n parts (1-based), as vitest and jest do. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new AgError('usage', `--shard should look like 2/4 (the second of four parts), not "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new AgError('usage', `--shard ${text}: the part must be from 1 to ${Math.max(count, 1)}`);
  return { index, count };
}

/**
 * The cases of one shard: contiguous slices of the whole list (all files, in the order
 * given) whose sizes differ by at most one, so the n shards together run every case
 * exactly once and each shard's part depends only on the list, never on timing.
 */
export function shardSlice<T>(items: T[], s: Shard): T[] {
  const start = Math.floor(((s.index - 1) * items.length) / s.count);
  const end = Math.floor((s.index * items.length) / s.count);
  return items.slice(start, end);
}
