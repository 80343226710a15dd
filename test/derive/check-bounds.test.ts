import { describe, expect, it } from 'vitest';
import { crossCheckTensor } from '../../src/subjects/formula/derive/check.js';
import { AgError } from '../../src/core/errors.js';
import { limitsFrom, withDeadline } from '../../src/core/limits.js';
import type { Tensor } from '../../src/core/tensor.js';

/**
 * The cross-check's own bounds: each random point is counted against --max-memory beside
 * the values given before it is drawn, the deadline is looked at between points, and a
 * limit met at any point is that limit, never "a bug in autograd-cli".
 */
const MiB = 1024 ** 2;
const ones = (...shape: number[]): Tensor => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(1) });

function thrown(fn: () => unknown): AgError {
  try {
    fn();
  } catch (e) {
    return e as AgError;
  }
  throw new Error('did not throw');
}

describe("derive's cross-check is bounded", () => {
  const values = { W: ones(1000, 1000) };
  const check = (maxMemory: number) => crossCheckTensor('sum(W)', { W: '1' }, values, { wrt: ['W'], indexVars: [], limits: limitsFrom({ maxMemory }) });

  it('a random point that would not fit beside the values given is refused by --max-memory', () => {
    // the values given: W, its arena, adjoint and temporaries, about 32 MB; a random point holds another W besides them
    const e = thrown(() => check(36 * MiB));
    expect(e).toBeInstanceOf(AgError);
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/would need about [\d.]+ MiB; the limit is 36 MiB \(--max-memory\)/);
    // with room for one point at a time (never all of them at once) it judges all five
    const r = check(64 * MiB);
    expect(r.passed).toBe(true);
    expect(r.points).toHaveLength(5);
  });

  it('a timeout inside the cross-check is the timeout, not a bug report', () => {
    // a deadline already past when the check starts (it used to become "does not evaluate at the values given … a bug")
    const e = thrown(() => withDeadline(1e-6, () => check(Infinity)));
    expect(e).toBeInstanceOf(AgError);
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/the run took longer than 0\.000001 s and was stopped \(--timeout\)/);
    expect(e.hint ?? '').not.toMatch(/bug/);
  });
});
