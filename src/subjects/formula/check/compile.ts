import { AgError } from '../../../core/errors.js';
import type { EngineChoice } from '../../../core/engine/select.js';
import { parseFormula, type GradOptions } from '../grad.js';
import { limitsFrom, type Limits } from '../../../core/limits.js';
import type { Program, Stmt } from '../../../core/parse/ast.js';
import { freeVariables } from '../../../core/parse/free.js';
import { DEFAULT_SEED } from '../../../core/random.js';
import type { Rule } from '../../../verify/compare.js';
import type { FdMethod } from '../../../verify/fd.js';
import { DEFAULT_MIN_DIGITS } from '../../../verify/precision.js';
import { DEFAULT_ATOL, DEFAULT_RTOL } from '../../../verify/tolerance.js';
import { compileExpected, type Expected, type RawExpected } from './expect.js';

/**
 * A formula check compiled: the formula parsed, its settings decided (its own, then the
 * caller's), its answers parsed and checked against the formula's variables and named
 * steps. The library's gradcheck and homework's cases and answer keys are all this.
 * Errors point at the field they are about.
 */

/** Where something is in the file it came from: 1-based line, and the column where a formula's text starts when it can be known. */
export interface Pos {
  line: number;
  col?: number;
}

/** What is checked: a formula, its own settings, and the answers expected of it. */
export interface FormulaSpec {
  f: string;
  wrt?: string[];
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: FdMethod;
  seed?: number;
  /** the fewest significant digits a number answer is judged at (min_digits:, default 2) */
  minDigits?: number;
  /** a course's policy: a number written to at least this many decimal places is judged at the places written (min_decimals:) */
  minDecimals?: number;
  /** a course's policy: `strict` refuses a vector's gradient written as a row (default: a row or a column) */
  layout?: 'strict' | 'either';
  /** 2: the gradient's own derivatives are checked too (Hessian-vector products against differences of the gradient; order:) */
  order?: 1 | 2;
  /** answers: the value, gradients of variables and named steps (∂f/∂q), the values of named steps, second derivatives */
  expect?: {
    value?: RawExpected;
    gradient?: Record<string, RawExpected>;
    steps?: Record<string, RawExpected>;
    hessian?: Record<string, Record<string, RawExpected>>;
    /** a vector f's Jacobian with respect to a variable: [m, n] for f of shape [m] and x of shape [n], [m] for a scalar x */
    jacobian?: Record<string, RawExpected>;
  };
  /** where each field is (`f`, `expect.gradient.x`, `order`), when it came from a file; and the line of the whole */
  pos?: Record<string, Pos>;
  line?: number;
}

/** The caller's settings: the spec's own win. */
export interface FormulaCheckOptions {
  seed?: number;
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: FdMethod;
  /** the fewest significant digits a number answer is judged at */
  minDigits?: number;
  engine?: EngineChoice;
  /** 2: check the second derivatives too (a spec's order wins) */
  order?: 1 | 2;
  limits?: Limits;
  /** a check without an answer may pass though finite differences judged nothing */
  allowUnjudged?: boolean;
  /**
   * What to do when finite differences judged nothing and there is no answer (default:
   * the options the reason names, which a library caller has); a case file's author moves its point instead
   */
  unjudgedAdvice?: string;
  /** a field as its writer wrote it (`--expect x` on a command line); default the key itself */
  fieldName?: (key: string) => string;
}

/** An AgError and the field of the check it belongs to. */
export class Located extends Error {
  constructor(
    readonly field: string,
    readonly error: AgError,
  ) {
    super(error.message);
  }
}

export function located<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AgError) throw new Located(field, e);
    throw e;
  }
}

/** One graded quantity: f's value, a gradient (of a variable or a named step), a named step's value. */
export interface Answer {
  /** `value`, `gradient.x`, `steps.q`, `hessian.x.y`, `jacobian.x` (as an answer key's parts: names it) */
  part: string;
  /** where the answer is in its file: `expect.gradient.x` */
  field: string;
  kind: 'value' | 'gradient' | 'step' | 'hessian' | 'jacobian';
  /** `f`, the variable or the step; for a second derivative ∂²f/∂x∂y, x */
  name: string;
  /** for a second derivative ∂²f/∂x∂y, y */
  by?: string;
  /** `f`, `∂f/∂x`, `q`, `∂²f/∂x∂y` */
  what: string;
  expected: Expected;
}

/** A check parsed and ready to run at points. */
export interface Compiled<S extends FormulaSpec = FormulaSpec> {
  spec: S;
  program: Program;
  /** the formula's free variables (not indices) */
  variables: string[];
  /** the formula's named steps (`q` of `q = x + y`) */
  stepNames: string[];
  /** names used only inside index brackets (`y` of `p[y]`) */
  indexNames: string[];
  /** f's statements other than the output expression: answers may use its steps and inline functions */
  steps: Stmt[];
  answers: Answer[];
  /** named steps whose values are judged (their truth is computed at every point) */
  stepValues: string[];
  /** variables whose Jacobians are graded without answers compiled yet (an answer key's parts): f is a vector, its Jacobian the truth */
  jacobians?: string[];
  /** 2: the gradient's own derivatives are checked at every point too */
  order: 1 | 2;
  rule: Rule;
  grad: GradOptions;
  seed: number;
  warnings: string[];
  /** see FormulaCheckOptions */
  unjudgedAdvice?: string;
  fieldName: (key: string) => string;
  /**
   * Answers compiled so far, by their text: grading judges many submissions against one
   * problem, and students write the same formulas (`2*(W*x)*x'`), so each is parsed once.
   */
  compiledAnswers?: Map<string, Expected | AgError>;
}

/** `value`, `gradient.x`, `steps.q`, `hessian.x.y`: a part of a case or problem. */
export function partOf(kind: Answer['kind'], name: string, by?: string): string {
  if (kind === 'jacobian') return `jacobian.${name}`;
  return kind === 'value' ? 'value' : kind === 'gradient' ? `gradient.${name}` : kind === 'hessian' ? `hessian.${name}.${by}` : `steps.${name}`;
}

/** `∂f/∂x`, `∂²f/∂x∂y`, `∂²f/∂x²`: the quantity an answer is about, as written on paper. */
export function whatOf(kind: Answer['kind'], name: string, by?: string): string {
  if (kind === 'value') return 'f';
  if (kind === 'gradient' || kind === 'jacobian') return `∂f/∂${name}`;
  if (kind === 'hessian') return name === by ? `∂²f/∂${name}²` : `∂²f/∂${name}∂${by}`;
  return name;
}

/** A formula and its answers, compiled. */
export function compileCheck<S extends FormulaSpec>(spec: S, o: FormulaCheckOptions = {}): Compiled<S> {
  const c = compileFormula(spec, o);
  const ex = spec.expect;
  if (ex?.value !== undefined) c.answers.push(compileAnswer(c, 'value', 'f', ex.value, 'expect.value'));
  for (const [name, raw] of Object.entries(ex?.gradient ?? {})) c.answers.push(compileAnswer(c, 'gradient', name, raw, `expect.gradient.${name}`));
  for (const [name, raw] of Object.entries(ex?.steps ?? {})) c.answers.push(compileAnswer(c, 'step', name, raw, `expect.steps.${name}`));
  for (const [x, row] of Object.entries(ex?.hessian ?? {}))
    for (const [y, raw] of Object.entries(row)) c.answers.push(compileAnswer(c, 'hessian', x, raw, `expect.hessian.${x}.${y}`, y));
  for (const [name, raw] of Object.entries(ex?.jacobian ?? {})) c.answers.push(compileAnswer(c, 'jacobian', name, raw, `expect.jacobian.${name}`));
  if (c.answers.some((a) => a.kind === 'jacobian')) {
    const other = c.answers.find((a) => a.kind === 'gradient' || a.kind === 'hessian');
    if (other)
      throw new Located(
        other.field,
        new AgError('bad-value', `${c.fieldName(other.field)}: a case with Jacobian answers has a vector f, which has no ${other.kind}`, {
          hint: 'check the gradient or Hessian of a scalar formula in a case of its own',
        }),
      );
    if (c.order === 2)
      throw new Located(
        c.spec.pos?.order ? 'order' : 'f',
        new AgError('bad-value', 'order 2 checks the second derivatives of a scalar f; a case with Jacobian answers has a vector f'),
      );
  }
  wantTruths(c, c.answers);
  return c;
}

/** A formula and its settings, without its answers (an answer key's problem is one). */
export function compileFormula<S extends FormulaSpec>(spec: S, o: FormulaCheckOptions = {}): Compiled<S> {
  const limits = limitsFrom(o.limits);
  // parsed as grad parses it: grad at the points finds it parsed
  const program = located('f', () => parseFormula(spec.f, limits));
  const { variables, indexNames } = freeVariables(program);
  const steps = program.stmts.filter((s) => s.k !== 'expr');
  const seed = spec.seed ?? o.seed ?? DEFAULT_SEED;
  const tol = { rtol: spec.rtol ?? o.rtol ?? DEFAULT_RTOL, atol: spec.atol ?? o.atol ?? DEFAULT_ATOL };
  return {
    spec,
    program,
    variables,
    stepNames: [...new Set(steps.flatMap((s) => (s.k === 'assign' ? [s.name] : [])))],
    indexNames,
    steps,
    answers: [],
    stepValues: [],
    order: spec.order ?? o.order ?? 1,
    rule: {
      ...tol,
      minDigits: spec.minDigits ?? o.minDigits ?? DEFAULT_MIN_DIGITS,
      ...(spec.minDecimals !== undefined ? { minDecimals: spec.minDecimals } : {}),
    },
    seed,
    grad: {
      ...tol,
      wrt: spec.wrt,
      eps: spec.eps ?? o.eps,
      method: spec.method ?? o.method,
      seed,
      engine: o.engine,
      edges: false,
      forwardMode: false,
      limits,
      allowUnjudged: o.allowUnjudged,
    },
    warnings: [],
    ...(o.unjudgedAdvice !== undefined ? { unjudgedAdvice: o.unjudgedAdvice } : {}),
    fieldName: o.fieldName ?? ((key) => key),
  };
}

/**
 * Which quantity a part names, checked against the formula: `gradient.<name>` a variable
 * or a named step, `steps.<name>` a named step. Throws Located at `field`.
 */
export function checkPart(c: Compiled, kind: Answer['kind'], name: string, field: string, by?: string): void {
  const { spec, variables, stepNames } = c;
  const f = c.fieldName(field);
  const defs = c.steps.flatMap((s) => (s.k === 'def' ? [s.name] : []));
  const fail = (message: string, hint?: string) => {
    throw new Located(field, new AgError('bad-value', `${f}: ${message}`, { hint }));
  };
  if (kind === 'gradient') {
    if (defs.includes(name)) fail(`${name} is an inline function, not a step`, `name the call to grade it, like s = ${name}(...); then answer gradient.s`);
    if (c.indexNames.includes(name)) fail(`${name} is used as an index, so it has no gradient`);
    if (!variables.includes(name) && !stepNames.includes(name)) {
      const names = [...variables, ...stepNames];
      fail(
        `the formula has no variable or named step ${name}`,
        names.length ? `its variables are ${variables.join(', ') || 'none'}${stepNames.length ? `; its named steps ${stepNames.join(', ')}` : ''}` : undefined,
      );
    }
    if (variables.includes(name) && spec.wrt && !spec.wrt.includes(name)) fail(`${name} is not differentiated (${c.fieldName('wrt')} ${spec.wrt.join(', ')})`);
  } else if (kind === 'hessian' || kind === 'jacobian') {
    for (const v of kind === 'hessian' ? [name, by ?? ''] : [name]) {
      if (c.indexNames.includes(v)) fail(`${v} is used as an index, so it has no derivative`);
      if (!variables.includes(v)) {
        const step = stepNames.includes(v)
          ? ` (${v} is a named step: ${kind === 'hessian' ? 'second derivatives' : 'Jacobians'} are taken with respect to variables)`
          : '';
        fail(`the formula has no variable ${v}${step}`, variables.length ? `its variables are ${variables.join(', ')}` : undefined);
      }
      if (spec.wrt && !spec.wrt.includes(v)) fail(`${v} is not differentiated (${c.fieldName('wrt')} ${spec.wrt.join(', ')})`);
    }
  } else if (kind === 'step') {
    if (!stepNames.includes(name)) {
      fail(
        `the formula has no named step ${name}`,
        stepNames.length ? `its named steps are ${stepNames.join(', ')}` : 'name a step in the formula, like q = x + y; f = q*z',
      );
    }
  }
}

/** One answer, parsed and checked against the formula. Throws Located at `field`. */
export function compileAnswer(c: Compiled, kind: Answer['kind'], name: string, raw: RawExpected, field: string, by?: string): Answer {
  checkPart(c, kind, name, field, by);
  const what = whatOf(kind, name, by);
  const expected = located(field, () =>
    cached(c.compiledAnswers, `${field}\u0000${JSON.stringify(raw)}`, () => compileExpected(raw, c.fieldName(field), c.steps, c.grad.limits as Limits)),
  );
  return { part: partOf(kind, name, by), field, kind, name, ...(by !== undefined ? { by } : {}), what, expected };
}

/**
 * `make()` once per key: its value, or the AgError it threw, kept in `memo` (when there is
 * one). A limit's error (--timeout above all) is not kept: it says what this run could
 * afford, not what the text is, so the next student who wrote the same text is tried again.
 */
export function cached<T extends object>(memo: Map<string, T | AgError> | undefined, key: string, make: () => T): T {
  if (!memo) return make();
  let hit = memo.get(key);
  if (hit === undefined) {
    try {
      hit = make();
    } catch (e) {
      if (!(e instanceof AgError) || e.code === 'limit') throw e;
      hit = e;
    }
    memo.set(key, hit);
  }
  if (hit instanceof AgError) throw hit;
  return hit;
}

/** Ask the runs for what these parts need: the gradients of named steps, the values of named steps. */
export function wantTruths(c: Compiled, parts: { kind: Answer['kind']; name: string }[]): void {
  const stepGrads = parts.filter((a) => a.kind === 'gradient' && !c.variables.includes(a.name)).map((a) => a.name);
  if (stepGrads.length) c.grad.steps = [...new Set([...(c.grad.steps ?? []), ...stepGrads])];
  c.stepValues = [...new Set([...c.stepValues, ...parts.filter((a) => a.kind === 'step').map((a) => a.name)])];
  const jacobians = parts.filter((a) => a.kind === 'jacobian').map((a) => a.name);
  if (jacobians.length) c.jacobians = [...new Set([...(c.jacobians ?? []), ...jacobians])];
}
