import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/core/engine/native.js';
import { attack, expectNoTrace } from './harness.js';

/** Class 8: no environment variable or input crashes the native engine. */
describe('native engine inputs are validated', () => {
  for (const threads of ['100000', '-5', '1e9', 'abc', '99999999999999999999']) {
    it(`AUTOGRAD_THREADS=${threads}: runs (capped or ignored), never SIGABRT`, () => {
      const r = attack(['grad', 'sum(W.^2)', '--at', 'W=randn(60,60)', '--engine', 'native'], { env: { AUTOGRAD_THREADS: threads } });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
      expectNoTrace(r);
    });
  }

  it('doctor reports the capped thread count', () => {
    const r = attack(['doctor'], { env: { AUTOGRAD_THREADS: '100000' } });
    expect(r.stdout).toMatch(/threads\s+64 for the finite-difference loop/);
  });

  it('a C++ exception reaches JavaScript as an error with a code, never an abort', () => {
    const a = nativeAddon();
    if (!a) return;
    // a tape description the engine refuses, and a handle that is not one
    expect(() => a.compile({} as never)).toThrow(/must be a|compile/);
    expect(() => a.forward({}, new Float64Array(1))).toThrow(/not a compiled tape/);
  });
});
