import { describe, expect, it } from 'vitest';
import { limitsOf } from '../../src/cli/common.js';
import { checkDeadlineNow, startCommandClock, TimeoutError, withDeadline } from '../../src/core/limits.js';

/**
 * `--timeout` bounds a whole command: `grad` reads its `--at` values and then runs, and
 * each phase opens its own deadline; the command's clock, started when its limits are
 * read, is kept by both, so the two phases share one budget instead of each having all of it.
 * `check` and `grade` time each case or problem on its own (`each`).
 */
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('one clock for a whole command', () => {
  it('a later phase keeps the command deadline, though it asks for the full --timeout again', () => {
    startCommandClock(0.05);
    sleep(80);
    expect(() => withDeadline(60, () => checkDeadlineNow())).toThrow(TimeoutError);
    // the message names the command's --timeout
    expect(() => withDeadline(60, () => checkDeadlineNow())).toThrow(/longer than 0\.05 s/);
    startCommandClock(Infinity);
    expect(withDeadline(60, () => (checkDeadlineNow(), 'ran'))).toBe('ran');
  });

  it('the CLI starts it when it reads the limits; check and grade (each case, each problem) do not', () => {
    limitsOf({ timeout: 0.05 });
    sleep(80);
    expect(() => withDeadline(60, () => checkDeadlineNow())).toThrow(TimeoutError);
    limitsOf({ timeout: 0.05 }, 'each');
    sleep(80);
    expect(withDeadline(60, () => (checkDeadlineNow(), 'ran'))).toBe('ran');
    // --timeout 0: no clock at all
    limitsOf({ timeout: 0 });
    sleep(20);
    expect(withDeadline(Infinity, () => (checkDeadlineNow(), 'ran'))).toBe('ran');
  });
});
