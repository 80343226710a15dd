import { AgError, gradcheck, type FunctionGradcheckOptions, type InputValues } from './index.js';
import { renderFunctionCheck } from './report/gradcheck.js';

/**
 * `autograd-cli/vitest`: a gradient matcher for vitest's and jest's `expect.extend`.
 *
 *   import { expect } from 'vitest';
 *   import { toHaveCorrectGradient } from 'autograd-cli/vitest';
 *   expect.extend({ toHaveCorrectGradient });
 *
 *   expect(loss).toHaveCorrectGradient({ at: { W, x }, grad: lossGrad });
 *   expect(layer).toHaveCorrectGradient({ at: { W, x }, vjp: layerVjp, rtol: 1e-6 });
 *
 * The options are gradcheck's (grad, vjp, jvp, reference, tolerances, wrt), with the
 * point as `at`. The failure message is the check's report: every input's verdict, the
 * worst entries named (W[3,7]) with both numbers, what could not be judged.
 *
 * Types: add the matcher to vitest's Assertion once in a .d.ts of your tests:
 *
 *   import type { GradientMatchers } from 'autograd-cli/vitest';
 *   declare module 'vitest' { interface Assertion<T = any> extends GradientMatchers<T> {} }
 */

export interface GradientExpectation<V extends InputValues = InputValues> extends FunctionGradcheckOptions<V> {
  /** the point: the function's inputs */
  at: V;
}

/** The matcher's signature, for `declare module 'vitest'` (or jest's Matchers). */
export interface GradientMatchers<R = unknown> {
  toHaveCorrectGradient<V extends InputValues>(expectation: GradientExpectation<V>): R;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

export function toHaveCorrectGradient(this: { isNot?: boolean } | void, received: unknown, expectation: GradientExpectation): MatcherResult {
  const name = typeof received === 'function' ? received.name || 'f' : 'the value';
  if (typeof received !== 'function') {
    return { pass: false, message: () => `expect(…).toHaveCorrectGradient: expected a function, got ${received === null ? 'null' : typeof received}` };
  }
  if (!expectation || typeof expectation !== 'object' || !expectation.at) {
    return { pass: false, message: () => `expect(${name}).toHaveCorrectGradient({ at, grad }): give the point as at: { … }` };
  }
  const { at, ...options } = expectation;
  let r;
  try {
    r = gradcheck(received as (v: InputValues) => number, at, { ...options, throwOnFail: false });
  } catch (e) {
    // the check could not run (a wrong shape, a throwing function): never a pass, even under .not
    const why = e instanceof AgError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : e instanceof Error ? e.message : String(e);
    throw new Error(`expect(${name}).toHaveCorrectGradient: the check could not run: ${why}`);
  }
  const report = renderFunctionCheck(r);
  return {
    pass: r.passed,
    message: () =>
      r.passed ? `expected ${name}'s gradient to be wrong, but the check passed:\n${report}` : `expected ${name}'s gradient to be correct:\n${report}`,
  };
}

export const matchers = { toHaveCorrectGradient };
