import { inlineCase, type RawExpected } from './cases/load.js';
import type { CheckOptions, CheckResult } from './check/fd.js';
import { compileCase, judge, Located, type FailureKind } from './cases/run.js';
import type { EngineChoice } from './engine/select.js';
import { limitsFrom, type Limits } from './limits.js';
import { grad, toTensors, type Shown } from './grad.js';
import type { Nested } from './parse/values.js';
import type { Tensor } from './tensor.js';

export interface GradcheckOptions extends CheckOptions {
  /** check only these variables */
  wrt?: string[];
  engine?: EngineChoice;
  /**
   * also compare autodiff with these: numbers / nested arrays, or formulas in the variables
   * (hand-derived answers); `gradient` may name named steps (∂f/∂q), `steps` gives their values
   */
  expect?: { value?: number | string; gradient?: Record<string, Nested | string | (number | string)[]>; steps?: Record<string, Nested | string | (number | string)[]> };
  /** throw a GradcheckError naming the failing entries instead of returning a failed result */
  throwOnFail?: boolean;
  /** the resource limits (src/limits.ts); the defaults for any not given */
  limits?: Limits | Partial<Limits>;
}

export interface GradcheckFailure {
  kind: FailureKind;
  /** `∂f/∂x`, `∂f/∂W1[3,7]`, `f` */
  entry: string;
  /** in plain words, with both numbers and the point */
  message: string;
  yours?: number;
  truth?: number;
  fd?: number;
}

export interface GradcheckResult {
  passed: boolean;
  formula: string;
  point: Record<string, Shown>;
  value: number;
  /** reverse mode */
  gradient: Record<string, Nested>;
  /** finite differences (when every entry was differenced) */
  finiteDifference?: Record<string, Nested>;
  check: CheckResult | null;
  failures: GradcheckFailure[];
  warnings: string[];
}

/** Thrown by gradcheck with `throwOnFail`: the message names each failing entry with both numbers. */
export class GradcheckError extends Error {
  constructor(readonly result: GradcheckResult) {
    super(`gradcheck failed for ${result.formula}:\n${result.failures.map((f) => `  ${f.message}`).join('\n')}`);
    this.name = 'GradcheckError';
  }
}

/**
 * A gradient check for test suites: autodiff against finite differences at one point,
 * and against expected values or formulas when given.
 *
 *   expect(gradcheck('(x+y)*sin(x)', { x: 1, y: 2 }).passed).toBe(true);
 *   gradcheck('sum((W*x).^2)', { W, x }, { expect: { gradient: { x: "2*W'*(W*x)" } }, throwOnFail: true });
 *
 * A formula that cannot run throws its AgError (code, message, span), as grad does.
 */
export function gradcheck(formula: string, values: Record<string, Tensor | Nested>, options: GradcheckOptions = {}): GradcheckResult {
  const vals = toTensors(values);
  const spec = inlineCase(formula, {
    expect: options.expect?.gradient as Record<string, RawExpected> | undefined,
    expectValue: options.expect?.value,
    expectSteps: options.expect?.steps as Record<string, RawExpected> | undefined,
    wrt: options.wrt,
  });
  spec.file = '<gradcheck>';
  try {
    const c = compileCase(spec, { seed: options.seed, rtol: options.rtol, atol: options.atol, eps: options.eps, method: options.method, engine: options.engine, limits: limitsFrom(options.limits) });
    const r = grad(formula, vals, { ...c.grad, fdMax: options.fdMax, directions: options.directions, sample: options.sample });
    const failures = judge(c, vals, r).map(({ kind, entry, message, yours, truth, fd }) => ({ kind, entry, message, yours, truth, fd }));
    const result: GradcheckResult = {
      passed: failures.length === 0,
      formula,
      point: r.point,
      value: r.value,
      gradient: r.gradient,
      ...(r.check?.finiteDifference ? { finiteDifference: r.check.finiteDifference } : {}),
      check: r.check,
      failures,
      warnings: r.warnings.map((w) => w.message),
    };
    if (!result.passed && options.throwOnFail) throw new GradcheckError(result);
    return result;
  } catch (e) {
    throw e instanceof Located ? e.error : e;
  }
}
