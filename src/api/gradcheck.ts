import type { CheckOptions, CheckResult, JacobianCheck } from '../verify/fd.js';
import { perInput } from '../verify/fd.js';
import { runSync, type AsyncEvaluator, type Evaluator, type FunctionUnderTest, type InputSpec } from '../verify/evaluator.js';
import { checkFunction, outputRows, type FunctionCheck, type JvpCheck, type ReferenceCheck, type Screen } from '../verify/function.js';
import { DEFAULT_FD_MAX } from '../verify/tolerance.js';
import { precisionText, type Precision } from '../verify/dtype.js';
import { nested, shapeText, type ValueLike } from '../verify/forms.js';
import { jsFunction, readInputs, type PointValues } from '../subjects/code/js-function.js';
import { findings, uncertainties, type Finding } from '../verify/words.js';
import { codeMistakes, type CodeMistake } from '../verify/mistakes.js';
import { tapeReference } from '../verify/tape.js';
import { compileCheck, Located } from '../subjects/formula/check/compile.js';
import { judge, judgeSample, type FailureKind } from '../subjects/formula/check/judge.js';
import { jacobianAt, pointResult, wantsJacobian } from '../subjects/formula/check/jacobian-point.js';
import { stepTruths } from '../subjects/formula/check/point.js';
import { selectEngine, type EngineChoice } from '../core/engine/select.js';
import { AgError } from '../core/errors.js';
import { makeArena } from '../core/graph/tape.js';
import { limitsFrom, withDeadline, type Limits } from '../core/limits.js';
import { grad, prepare, toTensors, type Shown } from '../subjects/formula/grad.js';
import type { Nested } from '../core/parse/values.js';
import type { Tensor } from '../core/tensor.js';

export interface GradcheckOptions extends CheckOptions {
  /** check only these variables */
  wrt?: string[];
  engine?: EngineChoice;
  /**
   * also compare autodiff with these: numbers / nested arrays, or formulas in the variables
   * (hand-derived answers); `gradient` may name named steps (∂f/∂q), `steps` gives their values
   */
  expect?: {
    value?: number | string;
    gradient?: Record<string, Nested | string | (number | string)[]>;
    steps?: Record<string, Nested | string | (number | string)[]>;
    /** a vector f's Jacobian with respect to a variable: [m, n] for f of shape [m] and x of shape [n], [m] for a scalar x */
    jacobian?: Record<string, Nested | string | (number | string)[]>;
  };
  /** 2: also check the second derivatives (gradgradcheck): Hessian-vector products along random directions against differences of the gradient */
  order?: 1 | 2;
  /** throw a GradcheckError naming the failing entries instead of returning a failed result */
  throwOnFail?: boolean;
  /** the resource limits (src/core/limits.ts); the defaults for any not given */
  limits?: Limits | Partial<Limits>;
}

export interface GradcheckFailure {
  /** formula checks: what kind of mistake; function checks: `gradient` (against finite differences), `nonfinite`, `jvp`, `reference` */
  kind: FailureKind | Finding['kind'];
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
  /** reverse mode (empty for a vector f) */
  gradient: Record<string, Nested>;
  /** with expect.jacobian: f's Jacobian, row i the gradient of f[i], the variables' entries in order (f's value is NaN then) */
  jacobian?: number[][];
  /** finite differences (when every entry was differenced) */
  finiteDifference?: Record<string, Nested>;
  check: CheckResult | null;
  failures: GradcheckFailure[];
  warnings: string[];
}

/** Thrown by gradcheck with `throwOnFail`: the message names each failing entry with both numbers. */
export class GradcheckError extends Error {
  constructor(readonly result: GradcheckResult | FunctionGradcheckResult) {
    const named = 'mistakes' in result ? result.mistakes.map((m) => `  ${m.words}`) : [];
    super(
      `gradcheck failed for ${'formula' in result ? result.formula : result.name}:\n${[...result.failures.map((f) => `  ${f.message}`), ...named].join('\n')}`,
    );
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
export function gradcheck(formula: string, values: Record<string, Tensor | Nested>, options?: GradcheckOptions): GradcheckResult;
export function gradcheck<V extends InputValues>(fn: (values: V) => ValueLike, inputs: V, options: FunctionGradcheckOptions<V>): FunctionGradcheckResult;
export function gradcheck(
  subject: string | ((values: never) => unknown),
  values: Record<string, unknown>,
  options: GradcheckOptions | FunctionGradcheckOptions = {},
): GradcheckResult | FunctionGradcheckResult {
  if (typeof subject === 'function') return gradcheckFunction(subject, values as InputValues, options as FunctionGradcheckOptions<never>);
  if (typeof subject !== 'string')
    throw new AgError(
      'usage',
      `gradcheck takes a formula (a string) or a function, not ${subject === null ? 'null' : Array.isArray(subject) ? 'an array' : typeof subject}`,
    );
  return gradcheckFormula(subject, values as Record<string, Tensor | Nested>, options as GradcheckOptions);
}

function gradcheckFormula(formula: string, values: Record<string, Tensor | Nested>, options: GradcheckOptions): GradcheckResult {
  const vals = toTensors(values);
  try {
    const c = compileCheck(
      { f: formula, wrt: options.wrt, expect: options.expect },
      {
        seed: options.seed,
        rtol: options.rtol,
        atol: options.atol,
        eps: options.eps,
        method: options.method,
        order: options.order,
        engine: options.engine,
        limits: limitsFrom(options.limits),
        allowUnjudged: options.allowUnjudged,
      },
    );
    // Jacobian answers: f is a vector, judged against its Jacobian as a case's are
    const jac = wantsJacobian(c) ? jacobianAt(c, vals) : undefined;
    const r = jac ? pointResult(jac) : grad(formula, vals, { ...c.grad, fdMax: options.fdMax, directions: options.directions, sample: options.sample });
    const found = jac ? judgeSample(c, { values: vals, r, steps: stepTruths(c, vals), jac }) : judge(c, vals, r);
    const failures: GradcheckFailure[] = found.map(({ kind, entry, message, yours, truth, fd }) => ({ kind, entry, message, yours, truth, fd }));
    const result: GradcheckResult = {
      passed: failures.length === 0,
      formula,
      point: r.point,
      value: r.value,
      gradient: r.gradient,
      ...(jac ? { jacobian: jac.jacobian } : {}),
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

/** Values as a function under test takes them: numbers, nested arrays, or {shape, data: Float64Array}. */
export type InputValues = Record<string, ValueLike>;
/** A gradient as grad/vjp return it: one entry per differentiated input, in its form. */
export type GradientValues = Record<string, ValueLike>;

export interface FunctionGradcheckOptions<V extends InputValues = InputValues> extends CheckOptions {
  /** the gradient of a scalar fn at the values, one entry per input (fn.grad when not given) */
  grad?: (values: V) => GradientValues;
  /** the gradient of cotangent · fn (a tensor fn: checked with random cotangents; fn.vjp when not given) */
  vjp?: (values: V, cotangent: ValueLike) => GradientValues;
  /** J·tangents, fn's output shape: checked along random directions against differences (fn.jvp when not given) */
  jvp?: (values: V, tangents: V) => ValueLike;
  /** above fdMax, the directional check is a screen: when it disagrees, every entry (up to max(2000, fdMax)) is differenced after it, so the wrong ones are named (gradcheck --exec does this above 256 entries) */
  escalate?: boolean;
  /** a formula in the inputs' names for the same function: its autodiff (this project's engines) is the truth, exact to rounding; finite differences still run */
  reference?: string;
  /** the tolerance against the reference (default rtol 1e-9, atol 1e-12: it differs from your code by rounding only) */
  referenceTolerance?: { rtol?: number; atol?: number };
  /** check only these inputs (the others are passed as given) */
  wrt?: string[];
  engine?: EngineChoice;
  throwOnFail?: boolean;
  limits?: Limits | Partial<Limits>;
  /** the function's name in messages (default fn.name, else f) */
  name?: string;
}

export interface FunctionGradcheckResult {
  passed: boolean;
  /** the function's name */
  name: string;
  /** gradient: a scalar fn; jacobian: every entry of a small Jacobian; projection: a random uᵀfn */
  mode: FunctionCheck['mode'];
  point: Record<string, Nested>;
  value: Nested;
  /** yours: the gradient, or the vjp of `cotangent` (the Jacobian's first row in jacobian mode is not shown) */
  gradient?: Record<string, Nested>;
  cotangent?: Nested;
  finiteDifference?: Record<string, Nested>;
  check: CheckResult | null;
  jacobian: JacobianCheck | null;
  jvp: JvpCheck | null;
  reference: Omit<ReferenceCheck, 'truth'> | null;
  failures: GradcheckFailure[];
  warnings: string[];
  evaluations: number;
  /** the directional screen that came first, when it disagreed and every entry was differenced after it (programs over a pipe) */
  screen?: Screen;
  /** the pattern of a failed input's error, where it has one: `{ input: 'W', code: 'transposed', words: 'your ∂f/∂W is the transpose of the true value' }` */
  mistakes: CodeMistake[];
  /** the precision the function was checked in, and whether it was declared or detected */
  precision?: Precision;
}

/**
 * A JS function under test: its value by calling it, the derivative under test from
 * grad / vjp (and jvp), finite differences on the function itself with the formula
 * path's step rules and tolerances; with `reference`, a formula's autodiff as the truth.
 *
 *   gradcheck(loss, { W, x }, { grad: lossGrad, throwOnFail: true });
 *   gradcheck(layer, { W, x }, { vjp: layerVjp, jvp: layerJvp });
 */
function gradcheckFunction(fn: (values: never) => unknown, inputs: InputValues, options: FunctionGradcheckOptions<never>): FunctionGradcheckResult {
  const limits = limitsFrom(options.limits);
  return withDeadline(limits.timeout, () => {
    const own = fn as unknown as Record<string, unknown>;
    const side = <K extends 'grad' | 'vjp' | 'jvp'>(k: K) =>
      (options[k] ?? (typeof own[k] === 'function' ? own[k] : undefined)) as FunctionGradcheckOptions<never>[K];
    const name = options.name ?? (fn.name || 'f');
    if ((options as { order?: number }).order === 2) {
      throw new AgError(
        'usage',
        `gradcheck(${name}, …, { order: 2 }) checks second derivatives of a formula only: a function's second derivatives would need its Hessian-vector products`,
        {
          hint: "give the formula (gradcheck('…', values, { order: 2 })), or check your function's gradient as a function of its own: gradcheck(grad, …) with its vjp",
        },
      );
    }
    const sides = { grad: side('grad'), vjp: side('vjp'), jvp: side('jvp') };
    if (!sides.grad && !sides.vjp) {
      throw new AgError(
        'usage',
        `gradcheck(${name}, …) needs the derivative under test: grad(values) for a scalar function or vjp(values, cotangent) for a tensor one, as options or as ${name}.grad / ${name}.vjp`,
      );
    }
    const pv = readInputs(inputs, options.wrt);
    const {
      fn: f,
      evaluator,
      value,
    } = jsFunction(
      guard(fn, `${name}(values)`),
      pv,
      {
        grad: sides.grad && guard(sides.grad, 'grad(values)'),
        vjp: sides.vjp && guard(sides.vjp, 'vjp(values, cotangent)'),
        jvp: sides.jvp && guard(sides.jvp, 'jvp(values, tangents)'),
      },
      name,
    );
    const pre = options.reference !== undefined ? addReference(evaluator, options.reference, pv, f, value.shape, options, limits) : [];
    const rows = outputRows(name, value.shape);
    const r = runSync(checkFunction(f, rows, { ...options, jvp: !!sides.jvp, reference: options.reference !== undefined }), evaluator);
    return functionResult(r, {
      name,
      pv,
      f,
      valueShape: value.shape,
      rows,
      side: sides.vjp && !(sides.grad && f.outputs === 1) ? 'vjp' : 'gradient',
      pre,
      throwOnFail: options.throwOnFail,
      fdMax: options.fdMax,
      escalate: options.escalate,
    });
  });
}

/** A user's function that throws: an AgError naming the call (the check cannot go on). */
function guard<A extends unknown[], R>(g: (...a: A) => R, what: string): (...a: A) => R {
  return (...a: A) => {
    try {
      return g(...a);
    } catch (e) {
      if (e instanceof AgError) throw e;
      throw new AgError('bad-value', `${what} threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

/**
 * `reference`: the formula's tape at the point answers reference requests (its vjp by
 * the engine, exact to rounding). Its value must be the function's: a reference for a
 * different function would make every entry look wrong.
 */
export function addReference(
  evaluator: Evaluator | AsyncEvaluator,
  formula: string,
  pv: PointValues,
  f: FunctionUnderTest,
  shape: readonly number[],
  options: { engine?: EngineChoice },
  limits: Limits,
): Finding[] {
  const values = inputTensors(pv);
  const tape = prepare(formula, values, { wrt: pv.wrt.map((s) => s.name), limits });
  const engine = selectEngine(options.engine ?? 'auto', tape);
  const arena = makeArena(tape, values);
  engine.forward(tape, arena);
  const out = tape.nodes[tape.output];
  if (out.size !== f.outputs)
    throw new AgError('shape', `the reference formula has shape ${shapeText(out.shape)}, but the function returns shape ${shapeText(shape)}`, {
      source: formula,
    });
  evaluator.reference = tapeReference(engine, tape, arena, pv.wrt);
  const mine = arena.subarray(out.offset, out.offset + out.size);
  const wrong: Finding[] = [];
  const i = f.value ? f.value.findIndex((v, k) => !(Math.abs(v - mine[k]) <= 1e-7 + 1e-5 * Math.max(Math.abs(v), Math.abs(mine[k])))) : -1;
  if (i >= 0) {
    const at = outputRows('f', shape)[i];
    wrong.push({
      kind: 'reference',
      entry: at,
      message: `${at}: the function gives ${f.value![i]}, the reference formula ${mine[i]}: they are not the same function, so the reference cannot judge its derivative`,
      yours: f.value![i],
      truth: mine[i],
    });
  }
  return wrong;
}

/** Every input at the point as a tensor, by name. */
function inputTensors(pv: PointValues): Record<string, Tensor> {
  const values: Record<string, Tensor> = Object.create(null);
  for (const n of pv.names) values[n] = { shape: pv.flats[n].shape, data: pv.flats[n].data };
  return values;
}

/** The result object of a function check: per-input values, the verdict in words. */
export function functionResult(
  r: FunctionCheck,
  o: {
    name: string;
    pv: PointValues;
    f: FunctionUnderTest;
    valueShape: readonly number[];
    rows: string[];
    side: string;
    pre?: Finding[];
    throwOnFail?: boolean;
    fdMax?: number;
    escalate?: boolean;
  },
): FunctionGradcheckResult {
  const { pv, f } = o;
  const found = [...(o.pre ?? []), ...findings(r, pv.wrt, o.rows, o.side)];
  const unjudged = r.check?.unjudgedReason ?? r.jacobian?.unjudgedReason;
  const precision = r.check?.precision ?? r.jacobian?.precision;
  // a value that is not finite at the point leaves nothing to difference: say that, not how to make the differences judge
  const bad = f.value ? f.value.findIndex((v) => !Number.isFinite(v)) : -1;
  if (bad >= 0) {
    const at = f.value!.length === 1 ? 'f' : (o.rows[bad] ?? `f[${bad}]`);
    found.push({
      kind: 'nonfinite',
      entry: at,
      message: `the function's value is not finite at the point (${at} = ${f.value![bad]}): nothing can be checked there; choose a point where it is defined`,
      yours: f.value![bad],
      truth: NaN,
    });
  } else if (unjudged && !(r.check ?? r.jacobian)!.passed) found.push({ kind: 'unjudged', entry: 'f', message: unjudged, yours: NaN, truth: NaN });
  const warnings = r.check ? uncertainties(r.check, `your ${o.side}`, 'function').map((w) => w.message) : [];
  if (precision && precision.dtype !== 'float64') warnings.push(`checked in ${precisionText(precision)}: steps, noise and tolerance sized for it`);
  if (unjudged && (r.check ?? r.jacobian)!.passed) warnings.push(`${unjudged.replace(/ — .*/, '')}; accepted (allowUnjudged)`);
  if (r.jacobian?.unjudgedCount)
    warnings.push(
      `finite differences cannot judge ${r.jacobian.unjudgedCount} Jacobian entr${r.jacobian.unjudgedCount > 1 ? 'ies' : 'y'} (${r.jacobian.unjudged.map((e) => `∂${e.row}/∂${e.column}`).join(', ')}${r.jacobian.unjudgedCount > r.jacobian.unjudged.length ? ', …' : ''}): ${r.jacobian.unjudged[0]?.note ?? 'the differences are too noisy'}`,
    );
  if (r.jvp)
    for (const e of r.jvp.entries.filter((x) => x.status === 'kink' || x.status === 'noisy'))
      warnings.push(`your jvp at ${e.entry}: finite differences cannot judge here (${e.note ?? e.status})`);
  if (r.check?.mode === 'directional') {
    const what = `${f.point.length} input entries: checked ${r.check.directions?.length ?? 0} random directions and ${r.check.entries.length} sampled entries instead of all`;
    warnings.push(
      o.escalate && r.check.passed
        ? `${what} (more than fdMax ${o.fdMax}): they agree; a disagreement would have differenced every entry`
        : `${what} (more than fdMax ${o.fdMax ?? DEFAULT_FD_MAX})`,
    );
  }
  if (r.screen)
    warnings.push(
      `screened first along ${r.screen.directions} random directions and ${r.screen.sampled} sampled entries (${r.screen.evaluations} evaluations): ${r.screen.found}, so every entry was differenced`,
    );
  const point: Record<string, Nested> = Object.create(null);
  for (const n of pv.names) point[n] = nested(pv.flats[n].shape, pv.flats[n].data);
  const result: FunctionGradcheckResult = {
    passed: r.passed && !(o.pre ?? []).length,
    name: o.name,
    mode: r.mode,
    point,
    value: nested(o.valueShape, f.value!),
    ...(r.mode !== 'jacobian' ? { gradient: perInput(pv.wrt, r.analytic) } : {}),
    ...(r.cotangent && r.mode === 'projection' ? { cotangent: nested(o.valueShape, r.cotangent) } : {}),
    ...(r.check?.finiteDifference ? { finiteDifference: r.check.finiteDifference } : {}),
    check: r.check,
    jacobian: r.jacobian,
    jvp: r.jvp,
    reference: r.reference && { passed: r.reference.passed, of: r.reference.of, variables: r.reference.variables },
    failures: found.map(({ kind, entry, message, yours, truth }) => ({ kind, entry, message, yours, truth })),
    mistakes: codeMistakes(r, pv.wrt, inputTensors(pv), f.outputs),
    warnings,
    evaluations: r.evaluations,
    ...(r.screen ? { screen: r.screen } : {}),
    ...(precision ? { precision } : {}),
  };
  if (!result.passed && o.throwOnFail) throw new GradcheckError(result);
  return result;
}

export type { InputSpec };
