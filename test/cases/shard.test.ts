import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShard, shardSlice } from '../../src/homework/cases/shard.js';

describe('--shard i/n', () => {
  it('parses i/n and refuses anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    expect(() => parseShard('0/3')).toThrow('--shard 0/3: the part must be from 1 to 3');
    expect(() => parseShard('4/3')).toThrow('--shard 4/3: the part must be from 1 to 3');
    expect(() => parseShard('1/0')).toThrow(/must be from 1 to 1/);
    expect(() => parseShard('half')).toThrow('--shard should look like 2/4 (the second of four parts), not "half"');
  });

  it('the shards run every case exactly once, in order, with sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }), (len, count) => {
        const items = Array.from({ length: len }, (_, i) => i);
        const parts = Array.from({ length: count }, (_, i) => shardSlice(items, { index: i + 1, count }));
        expect(parts.flat()).toEqual(items);
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // deterministic: the same list gives the same part
        expect(shardSlice(items, { index: count, count })).toEqual(parts[count - 1]);
      }),
    );
  });
});
