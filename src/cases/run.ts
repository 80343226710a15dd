import { freeVariables } from '../parse/free.js';
import { closest } from '../graph/suggest.js';
import type { EngineChoice } from '../engine/select.js';
import { AgError, type Span } from '../errors.js';
import { grad, pointOf as shownPoint, type GradOptions, type GradResult, type Shown, type Warning } from '../grad.js';
import { folderOf } from '../io/read.js';
import type { FileScope } from '../io/scope.js';
import { limitsFrom, withDeadline, type Limits } from '../limits.js';
import { MAX_SHOWN, shorten } from '../safe-text.js';
import { isFunctionName } from '../ops/index.js';
import type { Program, Stmt } from '../parse/ast.js';
import { parseProgram } from '../parse/parse.js';
import { fromNested, type Nested } from '../parse/values.js';
import { parseAt, valueOf } from '../values.js';
import { DEFAULT_SEED, Rng } from '../random.js';
import { err } from '../number-format.js';
import { scalar, subscript, type Tensor } from '../tensor.js';
import { MAX_FILE_ATOL, MAX_FILE_RTOL, type CaseSpec, type RawExpected } from './load.js';
import { compare, counterexample, distinct, fitsShape, partial, pointText, shapeMismatch, verdictWords, type AnswerForm, type Rule } from '../check/compare.js';
import { nameMistake, transposed, type Factor, type Mistake, type MistakeCode } from '../check/mistakes.js';
import { DEFAULT_MIN_DIGITS } from '../check/precision.js';
import { compileExpected, evaluateExpected, evaluateProgram, outerProductHint, type Expected } from './expect.js';
import type { FdMethod } from '../check/fd.js';
import { DEFAULT_ATOL, DEFAULT_RTOL } from '../check/tolerance.js';

/** Where variables without a value are drawn from, unless `ranges:` says otherwise. */
export const DEFAULT_RANGE: [number, number] = [-3, 3];
/** Random evaluation points per case when values are drawn at random (samples:). */
export const DEFAULT_SAMPLES = 5;
/** Random draws per wanted point before giving up on finding points where f is finite. */
const TRIES_PER_POINT = 20;

/** Settings from the command line: a case's own settings (and its file's defaults) win. */
export interface RunOptions {
  seed?: number;
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: FdMethod;
  /** random evaluation points per case (--samples) */
  samples?: number;
  /** the fewest significant digits a number answer is judged at */
  minDigits?: number;
  engine?: EngineChoice;
  /** the resource limits; each case runs under its own --timeout */
  limits?: Limits;
  /** `@file` references in case files may name any file (default: only inside the case file's folder tree) */
  allowFiles?: boolean;
  /** the largest rtol and atol a case file may set (the command line may raise them) */
  maxRtol?: number;
  maxAtol?: number;
}

export type CaseStatus = 'pass' | 'fail' | 'error';

export type FailureKind = 'gradient' | 'value' | 'step' | 'shape' | 'autodiff' | 'nonfinite';

/** One thing a case got wrong, with the first point where it was wrong. */
export interface CaseFailure {
  kind: FailureKind;
  /** `∂f/∂x`, `∂f/∂W1[3,7]`, `f`, `q` */
  entry: string;
  /** the counterexample in plain words (with the mistake, when one is recognised) */
  message: string;
  /** the usual mistake it is, when recognised at every point where the answer was wrong */
  mistake?: MistakeCode;
  /** the field of the case it is about (`expect.gradient.x`, `f`) and its line */
  field: string;
  line: number;
  point: Record<string, Shown>;
  yours?: number;
  truth?: number;
  fd?: number;
  /** at how many of the judged points it was wrong */
  failedPoints: number;
}

/** Why a case could not run, pointing at the field (and into the formula) it is about. */
export interface CaseError {
  code: string;
  message: string;
  field: string;
  line: number;
  /** column in the case file, when the error points into a formula whose place is known */
  col?: number;
  /** the text the span points into */
  source?: string;
  span?: Span;
  hint?: string;
}

/** Grade points: what a case (or a problem) earned of what it was worth. */
export interface Score {
  earned: number;
  max: number;
}

export interface CaseResult {
  file: string;
  index: number;
  name: string;
  line: number;
  f: string;
  status: CaseStatus;
  variables: string[];
  /** random evaluation points judged (1 when every value is fixed) */
  samples: number;
  seed: number;
  /** what was compared besides autodiff against finite differences: `value`, `gradient.x`, `steps.q` */
  expected: string[];
  failures: CaseFailure[];
  error?: CaseError;
  warnings: string[];
  /** grade points (points:, default 1), split evenly over what the case expects */
  score: Score;
  /** wall time of the case in milliseconds */
  ms: number;
}

/** An AgError and the field of the case it belongs to. */
export class Located extends Error {
  constructor(
    readonly field: string,
    readonly error: AgError,
  ) {
    super(error.message);
  }
}

function located<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AgError) throw new Located(field, e);
    throw e;
  }
}

/** One graded quantity: f's value, a gradient (of a variable or a named step), a named step's value. */
export interface Answer {
  /** `value`, `gradient.x`, `steps.q` (as an answer key's parts: names it) */
  part: string;
  /** where the answer is in its file: `expect.gradient.x` */
  field: string;
  kind: 'value' | 'gradient' | 'step';
  /** `f`, the variable or the step */
  name: string;
  /** `f`, `∂f/∂x`, `q` */
  what: string;
  expected: Expected;
}

/** A case parsed and ready to run at points. */
export interface Compiled {
  spec: CaseSpec;
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
  rule: Rule;
  grad: GradOptions;
  seed: number;
  warnings: string[];
  /**
   * Answers compiled so far, by their text: grading judges many submissions against one
   * problem, and students write the same formulas (`2*(W*x)*x'`), so each is parsed once.
   */
  compiledAnswers?: Map<string, Expected | AgError>;
}

/** `value`, `gradient.x`, `steps.q`: a part of a case or problem. */
export function partOf(kind: Answer['kind'], name: string): string {
  return kind === 'value' ? 'value' : kind === 'gradient' ? `gradient.${name}` : `steps.${name}`;
}

export function compileCase(spec: CaseSpec, o: RunOptions = {}): Compiled {
  const c = compileFormula(spec, o);
  const ex = spec.expect;
  if (ex?.value !== undefined) c.answers.push(compileAnswer(c, 'value', 'f', ex.value, 'expect.value'));
  for (const [name, raw] of Object.entries(ex?.gradient ?? {})) c.answers.push(compileAnswer(c, 'gradient', name, raw, `expect.gradient.${name}`));
  for (const [name, raw] of Object.entries(ex?.steps ?? {})) c.answers.push(compileAnswer(c, 'step', name, raw, `expect.steps.${name}`));
  wantTruths(c, c.answers);
  return c;
}

/** A case's formula and settings, without its answers (an answer key's problem is one). */
export function compileFormula(spec: CaseSpec, o: RunOptions = {}): Compiled {
  if (spec.problem) throw new Located(spec.problem.key, new AgError('bad-value', spec.problem.message, { hint: spec.problem.hint }));
  const limits = limitsFrom(o.limits);
  // a case file cannot loosen its own judgement without bound; the command line can
  if (spec.file !== '<inline>') {
    const caps = { rtol: o.maxRtol ?? MAX_FILE_RTOL, atol: o.maxAtol ?? MAX_FILE_ATOL };
    for (const k of ['rtol', 'atol'] as const) {
      const v = spec[k];
      if (v !== undefined && v > caps[k]) {
        throw new Located(k, new AgError('bad-value', `${k}: ${v} is above ${caps[k]}, the most a case file may set`, { hint: `a looser ${k} can only be given on the command line (--max-${k})` }));
      }
    }
  }
  const program = located('f', () => parseProgram(spec.f, { isFunction: isFunctionName, limits }));
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
    rule: { ...tol, minDigits: spec.minDigits ?? o.minDigits ?? DEFAULT_MIN_DIGITS },
    seed,
    grad: { ...tol, wrt: spec.wrt, eps: spec.eps ?? o.eps, method: spec.method ?? o.method, seed, engine: o.engine, edges: false, forwardMode: false, limits },
    warnings: [],
  };
}

/**
 * Which quantity a part names, checked against the formula: `gradient.<name>` a variable
 * or a named step, `steps.<name>` a named step. Throws Located at `field`.
 */
export function checkPart(c: Compiled, kind: Answer['kind'], name: string, field: string): void {
  const { spec, variables, stepNames } = c;
  const f = fieldName(spec, field);
  const defs = c.steps.flatMap((s) => (s.k === 'def' ? [s.name] : []));
  const fail = (message: string, hint?: string) => {
    throw new Located(field, new AgError('bad-value', `${f}: ${message}`, { hint }));
  };
  if (kind === 'gradient') {
    if (defs.includes(name)) fail(`${name} is an inline function, not a step`, `name the call to grade it, like s = ${name}(...); then answer gradient.s`);
    if (c.indexNames.includes(name)) fail(`${name} is used as an index, so it has no gradient`);
    if (!variables.includes(name) && !stepNames.includes(name)) {
      const names = [...variables, ...stepNames];
      fail(`the formula has no variable or named step ${name}`, names.length ? `its variables are ${variables.join(', ') || 'none'}${stepNames.length ? `; its named steps ${stepNames.join(', ')}` : ''}` : undefined);
    }
    if (variables.includes(name) && spec.wrt && !spec.wrt.includes(name)) fail(`${name} is not differentiated (${fieldName(spec, 'wrt')} ${spec.wrt.join(', ')})`);
  } else if (kind === 'step') {
    if (!stepNames.includes(name)) {
      fail(`the formula has no named step ${name}`, stepNames.length ? `its named steps are ${stepNames.join(', ')}` : 'name a step in the formula, like q = x + y; f = q*z');
    }
  }
}

/** One answer, parsed and checked against the formula. Throws Located at `field`. */
export function compileAnswer(c: Compiled, kind: Answer['kind'], name: string, raw: RawExpected, field: string): Answer {
  checkPart(c, kind, name, field);
  const what = kind === 'value' ? 'f' : kind === 'gradient' ? `∂f/∂${name}` : name;
  const expected = located(field, () => cached(c.compiledAnswers, `${field}\u0000${JSON.stringify(raw)}`, () => compileExpected(raw, fieldName(c.spec, field), c.steps, c.grad.limits as Limits)));
  return { part: partOf(kind, name), field, kind, name, what, expected };
}

/** `make()` once per key: its value, or the AgError it threw, kept in `memo` (when there is one). */
function cached<T extends object>(memo: Map<string, T | AgError> | undefined, key: string, make: () => T): T {
  if (!memo) return make();
  let hit = memo.get(key);
  if (hit === undefined) {
    try {
      hit = make();
    } catch (e) {
      if (!(e instanceof AgError)) throw e;
      hit = e;
    }
    memo.set(key, hit);
  }
  if (hit instanceof AgError) throw hit;
  return hit;
}

/** A formula answer's value at a sample, evaluated once per sample for every answer written the same way. */
function answerAt(e: Expected, s: Sample, limits: Limits): Tensor {
  if (e.kind === 'numbers') return e.tensor;
  s.answers ??= new Map();
  return cached(s.answers, e.text, () => evaluateExpected(e, s.values, limits));
}

/** Ask the runs for what these parts need: the gradients of named steps, the values of named steps. */
export function wantTruths(c: Compiled, parts: { kind: Answer['kind']; name: string }[]): void {
  const stepGrads = parts.filter((a) => a.kind === 'gradient' && !c.variables.includes(a.name)).map((a) => a.name);
  if (stepGrads.length) c.grad.steps = [...new Set([...(c.grad.steps ?? []), ...stepGrads])];
  c.stepValues = [...new Set([...c.stepValues, ...parts.filter((a) => a.kind === 'step').map((a) => a.name)])];
}

/** A field as the user wrote it: `expect.gradient.x:` in a file, `--expect x` on the command line. */
function fieldName(spec: CaseSpec, key: string): string {
  if (spec.file !== '<inline>') return `${key}`;
  const [head, ...rest] = key.split('.');
  const name = rest.at(-1) ?? '';
  if (head === 'expect') return key === 'expect.value' ? '--expect-value' : `--expect ${name}`;
  if (head === 'ranges') return `--range ${name}`;
  return `--${head}`;
}

function hasRandomValues(spec: CaseSpec): boolean {
  const rand = /\brandn?\s*\(/;
  return spec.atText.some((t) => rand.test(t)) || Object.values(spec.at).some((v) => typeof v === 'string' && rand.test(v));
}

/**
 * Where a case's `@file` references resolve: the case file's folder, and without
 * --allow-files only inside it (the command line's own case resolves as the command line does).
 */
export function caseScope(spec: CaseSpec, o: RunOptions): FileScope {
  if (spec.file === '<inline>' || spec.file === '<gradcheck>') return {};
  const dir = folderOf(spec.file);
  return { base: dir, sandbox: o.allowFiles ? undefined : dir };
}

/** The values of point number k: fixed ones, redrawn random expressions, and variables drawn from their ranges. */
function drawValues(c: Compiled, k: number, rng: Rng, random: boolean, o: RunOptions): Record<string, Tensor> {
  const { spec } = c;
  const limits = c.grad.limits as Limits;
  const scope = caseScope(spec, o);
  const values: Record<string, Tensor> = Object.create(null);
  let held = 0;
  if (spec.atText.length) {
    const given = located('at', () => parseAt(spec.atText, { seed: c.seed + k, limits, scope }));
    for (const name of Object.keys(given)) {
      values[name] = given[name];
      held += given[name].data.length;
    }
  }
  for (const name of Object.keys(spec.at)) {
    const raw = spec.at[name];
    values[name] = located(`at.${name}`, () => (typeof raw === 'string' ? valueOf(name, raw, rng, limits, held, scope) : fromNested(raw, `at: ${name}`)));
    held += values[name].data.length;
  }
  if (random) {
    for (const v of c.variables) {
      if (v in values) continue;
      const [lo, hi] = spec.ranges[v] ?? DEFAULT_RANGE;
      values[v] = scalar(lo + (hi - lo) * rng.next());
    }
  }
  return values;
}

const flat = (n: Nested): number[] => (typeof n === 'number' ? [n] : (n.flat(2) as number[]));

/** A gradient as grad gives it (nested arrays) as a tensor of the variable's shape; no check of its entries. */
function tensorOf(n: Nested): Tensor {
  if (typeof n === 'number') return scalar(n);
  if (Array.isArray(n[0])) return { shape: [n.length, (n[0] as number[]).length], data: Float64Array.from(flat(n)) };
  return { shape: [n.length], data: Float64Array.from(n as number[]) };
}

/** One point of a case: its values, autodiff's result there, and the named steps' values asked for. */
export interface Sample {
  values: Record<string, Tensor>;
  r: GradResult;
  steps: Record<string, Tensor>;
  /** the graph's local derivatives here (computed when a wrong answer needs them) */
  factors?: Factor[];
  /** formula answers' values here, by their text (see answerAt) */
  answers?: Map<string, Tensor | AgError>;
}

/**
 * The points a case is judged at: drawn (or fixed) values, autodiff there (with the
 * named steps' gradients asked for), and the named steps' values. Random points where f
 * or its gradient is not finite are drawn again. Throws Located when no point is found.
 * `quiet`: autodiff's warnings of these kinds are not passed on.
 */
export function samplePoints(c: Compiled, o: RunOptions, quiet: Warning['code'][] = []): { samples: Sample[]; warnings: string[] } {
  const { spec } = c;
  const random = spec.random;
  const redraw = random || hasRandomValues(spec);
  const want = redraw ? (spec.samples ?? o.samples ?? DEFAULT_SAMPLES) : 1;
  const warnings = new Set<string>(c.warnings);
  for (const name of Object.keys(spec.ranges)) {
    if (!c.variables.includes(name)) warnings.add(`${fieldName(spec, `ranges.${name}`)}: the formula has no variable ${name}; the range is not used`);
  }
  if (redraw && spec.points !== undefined && spec.samples === undefined && spec.points !== 1) {
    warnings.add(`points: ${spec.points} is grade points; the number of random evaluation points is samples: (${want} here)`);
  }
  const rng = new Rng(c.seed);
  const samples: Sample[] = [];
  let skipped = 0;
  const tries = random ? want * TRIES_PER_POINT : want;
  for (let k = 0; k < tries && samples.length < want; k++) {
    const values = drawValues(c, k, rng, random, o);
    const r = located('f', () => grad(spec.f, values, c.grad));
    if (random && !finiteAt(r)) {
      skipped++;
      continue;
    }
    samples.push({ values, r, steps: stepTruths(c, values) });
    for (const w of r.warnings) if (w.code !== 'nonfinite' && !quiet.includes(w.code)) warnings.add(w.message);
  }
  if (samples.length === 0) {
    const ranges = c.variables.filter((v) => !(v in spec.at)).map((v) => `${v} in [${(spec.ranges[v] ?? DEFAULT_RANGE).join(', ')}]`);
    throw new Located('f', new AgError('bad-value', `f or its gradient is not finite at any of the ${skipped} random points tried (${ranges.join(', ')})`, {
      hint: `give ranges inside the formula's domain, e.g. ${spec.file === '<inline>' ? `--range ${c.variables[0] ?? 'x'}=[0.1,3]` : `ranges: { ${c.variables[0] ?? 'x'}: [0.1, 3] }`}`,
    }));
  }
  if (skipped) warnings.add(`${skipped} random point${skipped > 1 ? 's' : ''} skipped where f or its gradient is not finite`);
  if (samples.length < want) warnings.add(`only ${samples.length} of ${want} points found where f and its gradient are finite`);
  return { samples, warnings: [...warnings] };
}

/** The values of the named steps asked for, at a point: f's statements evaluated up to each step. */
function stepTruths(c: Compiled, values: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = Object.create(null);
  for (const name of c.stepValues) {
    const span = { start: 0, end: 0 };
    out[name] = located('f', () => evaluateProgram({ source: c.spec.f, stmts: [...c.steps, { k: 'expr', expr: { k: 'sym', name, span }, span }] }, values, c.grad.limits as Limits));
  }
  return out;
}

/** Something wrong at one point. */
export interface Finding {
  kind: FailureKind;
  /** aggregation key across points: one failure per kind and variable */
  key: string;
  entry: string;
  field: string;
  /** the counterexample, with the mistake when one was recognised */
  message: string;
  /** the counterexample alone */
  detail: string;
  mistake?: Mistake;
  yours?: number;
  truth?: number;
  fd?: number;
}

/**
 * Judge one point: the value is finite, autodiff agrees with finite differences, and
 * the expected answers (numbers or formulas) agree with autodiff.
 */
export function judge(c: Compiled, values: Record<string, Tensor>, r: GradResult): Finding[] {
  return judgeSample(c, { values, r, steps: stepTruths(c, values) });
}

function judgeSample(c: Compiled, s: Sample): Finding[] {
  const out = judgeAutodiff(c, s);
  if (out.some((f) => f.kind === 'nonfinite')) return out;
  for (const a of c.answers) {
    const v = judgeAnswer(c, a, s);
    if (!v.ok) out.push(v.finding);
  }
  return out;
}

function where(c: Compiled, s: Sample): string {
  return pointText(s.values, [...new Set([...c.variables, ...Object.keys(s.r.point)])]);
}

/** The truth itself at a point: f finite there, autodiff and finite differences agreeing. */
export function judgeAutodiff(c: Compiled, s: Sample): Finding[] {
  const { r } = s;
  const at = where(c, s);
  const out: Finding[] = [];
  const finding = (f: Omit<Finding, 'detail'>) => out.push({ ...f, detail: f.message });
  if (!Number.isFinite(r.value)) {
    const why = r.warnings.find((w) => w.code === 'nonfinite');
    finding({ kind: 'nonfinite', key: 'nonfinite', entry: 'f', field: 'f', message: `f is ${r.value} at ${at}${why ? ` (${why.message})` : ''}` });
    return out;
  }
  const chk = r.check;
  const reported = new Set<string>();
  for (const e of chk?.failures ?? []) {
    if (reported.has(e.variable)) continue;
    reported.add(e.variable);
    finding({
      kind: 'autodiff',
      key: `autodiff:${e.variable}`,
      entry: `∂f/∂${e.entry}`,
      field: 'f',
      message: `autodiff ∂f/∂${e.entry} = ${distinct(e.ad, e.fd)[0]} at ${at}, but finite differences give ${distinct(e.ad, e.fd)[1]} (abs err ${err(e.absError)}, rel err ${err(e.relError)}, rtol ${chk!.rtol}, atol ${chk!.atol})`,
      truth: e.ad,
      fd: e.fd,
    });
  }
  const dir = chk?.directions?.find((d) => d.status === 'fail');
  if (dir && !chk!.failures.length) {
    finding({ kind: 'autodiff', key: 'autodiff:direction', entry: '∇f·u', field: 'f', message: `autodiff and finite differences disagree along a random direction u at ${at}: ∇f·u = ${distinct(dir.ad, dir.fd)[0]}, finite differences give ${distinct(dir.ad, dir.fd)[1]}`, truth: dir.ad, fd: dir.fd });
  }
  return out;
}

/** The true value of an answer's quantity at a point. */
function truthOf(a: Answer, s: Sample): Tensor {
  if (a.kind === 'value') return scalar(s.r.value);
  if (a.kind === 'step') return s.steps[a.name];
  return tensorOf(s.r.gradient[a.name]);
}

/** How one answer fares at one point: right (with the rule that judged it), or a finding. */
export type Verdict = { ok: true; words: string } | { ok: false; finding: Finding };

export function judgeAnswer(c: Compiled, a: Answer, s: Sample): Verdict {
  const limits = c.grad.limits as Limits;
  const truth = truthOf(a, s);
  const yours = located(a.field, () => answerAt(a.expected, s, limits));
  const form: AnswerForm = a.expected.kind === 'numbers' ? { digits: a.expected.digits, literal: a.expected.literal } : {};
  const cmp = compare(yours, truth.data, truth.shape, c.rule, form);
  if (cmp.ok) return { ok: true, words: verdictWords(cmp, c.rule) };
  const at = where(c, s);
  const agrees = (y: Tensor, candidate: Tensor) => compare(y, candidate.data, candidate.shape, c.rule, form).ok;
  const key = a.part;
  const entryName = a.kind === 'gradient' ? `∂f/∂${a.name}` : a.name;
  if (cmp.shape) {
    const fix = shapeFix(a, yours, truth, agrees, s.values, limits);
    // the fix already says it: no words before the message
    const mistake: Mistake | undefined = fix.transposed ? { code: 'transposed', words: '' } : undefined;
    const detail = shapeMismatch(a.what, yours, a.kind === 'value' ? 'f' : a.name, truth.shape, at, fix.words);
    return { ok: false, finding: { kind: 'shape', key, entry: entryName, field: a.field, message: detail, detail, mistake } };
  }
  const entry = a.kind === 'gradient' ? partial(a.name, truth.shape, cmp.flat) : truth.shape.length ? `${a.name}${subscript(truth.shape, cmp.flat)}` : a.what;
  const chk = s.r.check;
  const fd = a.kind === 'gradient' && chk ? (chk.entries.find((e) => e.entry === a.name + subscript(truth.shape, cmp.flat)) ?? undefined) : null;
  const more = truth.data.length > 1 ? `; wrong in ${cmp.wrong} of ${truth.data.length} entries` : '';
  const detail = `${counterexample(entry, cmp.yours, cmp.truth, at, fd)}; ${verdictWords(cmp, c.rule)}${more}`;
  const mistake = nameMistake({
    what: a.what,
    yours,
    truth,
    agrees,
    others: othersOf(c, a, s),
    factors: a.kind === 'gradient' ? () => factorsAt(c, s) : undefined,
    fewDigits: cmp.few ? { written: cmp.digits, min: c.rule.minDigits ?? DEFAULT_MIN_DIGITS } : undefined,
    constantFactors: a.kind === 'gradient',
  }) ?? undefined;
  const kind: FailureKind = a.kind === 'value' ? 'value' : a.kind === 'step' ? 'step' : 'gradient';
  return { ok: false, finding: { kind, key, entry, field: a.field, message: withMistake(detail, mistake), detail, mistake, yours: cmp.yours, truth: cmp.truth, fd: fd?.fd } };
}

export function withMistake(detail: string, m: { words: string } | undefined): string {
  return m ? `${m.words} — ${detail}` : detail;
}

/** The likely fix for an answer of the wrong shape: transpose it, or an outer product where a dot product was written. */
function shapeFix(a: Answer, yours: Tensor, truth: Tensor, agrees: (y: Tensor, t: Tensor) => boolean, values: Record<string, Tensor>, limits: Limits): { words?: string; transposed: boolean } {
  const t = transposed(truth);
  if (fitsShape(yours.shape, t.shape)) {
    const right = agrees(yours, t);
    const gradient = a.kind === 'gradient' ? ` (a gradient has the shape of its variable)` : '';
    return { words: `${right ? 'it is the transpose of the true value' : 'transposed, and wrong besides'}${gradient}`, transposed: right };
  }
  if (yours.shape.length === 0 && truth.shape.length === 2) {
    const hint = outerProductHint(a.expected, values, limits);
    return { words: hint ? `for an outer product write ${hint}` : 'a column times a row, u*v\', is an outer product', transposed: false };
  }
  return { transposed: false };
}

/** The true values of the other quantities of the same kind at a point, for "swapped". */
function othersOf(c: Compiled, a: Answer, s: Sample): { what: string; truth: Tensor; yours?: Tensor }[] {
  const theirs = (name: string): Tensor | undefined => {
    const other = c.answers.find((b) => b.kind === a.kind && b.name === name);
    try {
      return other && answerAt(other.expected, s, c.grad.limits as Limits);
    } catch {
      return undefined;
    }
  };
  if (a.kind === 'gradient') return Object.keys(s.r.gradient).filter((n) => n !== a.name).map((n) => ({ what: `∂f/∂${n}`, truth: tensorOf(s.r.gradient[n]), yours: theirs(n) }));
  if (a.kind === 'step') return Object.keys(s.steps).filter((n) => n !== a.name).map((n) => ({ what: n, truth: s.steps[n], yours: theirs(n) }));
  return [];
}

/** The local derivative of every edge at the point (another run, with edges, only when a wrong answer asks). */
function factorsAt(c: Compiled, s: Sample): Factor[] {
  if (s.factors) return s.factors;
  let edges = s.r.edges;
  if (!edges.length) {
    try {
      edges = grad(c.spec.f, s.values, { ...c.grad, steps: undefined, edges: true, check: false, forwardMode: false }).edges;
    } catch {
      edges = [];
    }
  }
  s.factors = edges.flatMap((e) => {
    const v = e.localValue;
    if (v === null || (typeof v === 'object' && !Array.isArray(v))) return [];
    return [{ edge: `${e.fromLabel} → ${e.toLabel}`, local: e.local, value: tensorOf(v as Nested) }];
  });
  return s.factors;
}

/** Points split evenly over parts; a part earns its share when right. */
export function partScore(points: number, parts: number, right: number): number {
  return parts ? (points * right) / parts : 0;
}

/** Points as a gradebook keeps them: rounded to hundredths (a third of a point is 0.33). */
export function roundPoints(v: number): number {
  return Math.round(v * 100) / 100 + 0;
}

/** Run one case at all its points. Never throws: a case that cannot run is an error result. */
export function runCase(spec: CaseSpec, o: RunOptions = {}): CaseResult {
  const limits = limitsFrom(o.limits);
  return withDeadline(limits.timeout, () => runCaseNow(spec, { ...o, limits }));
}

function runCaseNow(spec: CaseSpec, o: RunOptions): CaseResult {
  const t0 = performance.now();
  const points = spec.points ?? 1;
  const result: CaseResult = {
    file: spec.file,
    index: spec.index,
    // a name is shown in every report: a formula of any length used as a name is shortened here, once
    name: shorten(spec.name, MAX_SHOWN),
    line: spec.line,
    f: spec.f,
    status: 'pass',
    variables: [],
    samples: 0,
    seed: spec.seed ?? o.seed ?? DEFAULT_SEED,
    expected: [],
    failures: [],
    warnings: [],
    score: { earned: 0, max: points },
    ms: 0,
  };
  try {
    const c = compileCase(spec, o);
    result.expected = c.answers.map((a) => a.part);
    sweep(c, o, result);
    result.status = result.failures.length ? 'fail' : 'pass';
    // the truth in doubt (autodiff against finite differences, a non-finite value) scores nothing
    const doubt = result.failures.some((f) => f.kind === 'autodiff' || f.kind === 'nonfinite');
    const wrong = new Set(result.failures.map((f) => f.field));
    const parts = c.answers.length || 1;
    const right = doubt ? 0 : c.answers.length ? c.answers.filter((a) => !wrong.has(a.field)).length : 1;
    result.score.earned = partScore(points, parts, right);
  } catch (e) {
    result.status = 'error';
    result.error = toCaseError(spec, e, result.variables);
  }
  result.ms = performance.now() - t0;
  return result;
}

function sweep(c: Compiled, o: RunOptions, result: CaseResult): void {
  const { samples, warnings } = samplePoints(c, o);
  result.samples = samples.length;
  result.variables = samples[0].r.variables.filter((v) => c.variables.includes(v) || !c.stepNames.includes(v));
  result.failures.push(...failuresOver(c.spec, samples, samples.map((s) => judgeSample(c, s))));
  result.warnings.push(...warnings);
}

/**
 * What was wrong over all the points, one failure per key: the words of the first point
 * where it was wrong, at how many points it was, and the mistake when the same mistake
 * explains every one of them. `findings[k]` are those at `samples[k]`.
 */
export function failuresOver(spec: CaseSpec, samples: Sample[], findings: Finding[][]): CaseFailure[] {
  const failures = new Map<string, CaseFailure & { detail: string; words?: string }>();
  findings.forEach((list, k) => {
    const s = samples[k];
    for (const f of list) {
      const seen = failures.get(f.key);
      if (seen) {
        seen.failedPoints++;
        if (seen.mistake !== f.mistake?.code) seen.mistake = undefined;
      } else {
        failures.set(f.key, { kind: f.kind, entry: f.entry, message: f.message, detail: f.detail, mistake: f.mistake?.code, words: f.mistake?.words, field: f.field, line: spec.pos[f.field]?.line ?? spec.line, point: shownPoint(s.values, Object.keys(s.r.point)), yours: f.yours, truth: f.truth, fd: f.fd, failedPoints: 1 });
      }
    }
  });
  return [...failures.values()].map(({ detail, words, ...f }) => {
    f.message = withMistake(detail, f.mistake && words ? { words } : undefined);
    if (!f.mistake) delete f.mistake;
    if (samples.length > 1) f.message += `${/; wrong in \d+ of \d+ entries$/.test(f.message) ? ',' : '; wrong'} at ${f.failedPoints} of ${samples.length} points`;
    return f;
  });
}

function finiteAt(r: GradResult): boolean {
  if (!Number.isFinite(r.value)) return false;
  return Object.values(r.gradient).every((g) => flat(g).every(Number.isFinite));
}

/** A case's error (an AgError, or Located at one of its fields) as a report shows it. */
export function toCaseError(spec: CaseSpec, e: unknown, variables: string[] = []): CaseError {
  const fieldKey = e instanceof Located ? e.field : 'f';
  const ag = e instanceof Located ? e.error : e instanceof AgError ? e : new AgError('engine', `internal error: ${e instanceof Error ? e.message : String(e)}`, { hint: 'this is a bug in autograd-cli; please report it with the case' });
  const pos = spec.pos[fieldKey] ?? spec.pos[fieldKey.split('.')[0]];
  const inline = spec.file === '<inline>';
  let message = ag.message;
  let hint = ag.hint;
  const unknown = fieldKey.startsWith('expect.') && ag.code === 'missing-value' ? /no value for the variable (\S+)/.exec(message)?.[1] : undefined;
  if (unknown !== undefined) {
    // a name in an answer that f does not have is a typo in the answer, not a missing value
    const guess = closest(unknown, [...new Set([...variables, ...Object.keys(spec.at)])]);
    message = `${unknown} is not a variable of f`;
    hint = guess ? `did you mean ${guess}?` : variables.length ? `the variables of f are ${variables.join(', ')}` : undefined;
  } else if (!inline) {
    message = message.replace(/^--at (\w+):/, 'at: $1:').replace(/^--wrt /, 'wrt: ');
    if (ag.code === 'missing-value') hint = `give it a value under at:, or draw it at random with at: random (or ranges:)`;
  }
  const out: CaseError = { code: ag.code, message, field: fieldKey, line: pos?.line ?? spec.line, ...(ag.source !== undefined ? { source: ag.source } : {}), ...(ag.span ? { span: ag.span } : {}), ...(hint ? { hint } : {}) };
  // a caret into the file: where the formula's text starts, plus the span, while it stays on that line
  if (pos?.col !== undefined && ag.span && ag.source !== undefined && !ag.source.slice(0, ag.span.start).includes('\n')) {
    const formulaField = fieldKey === 'f' || /^(expect|answers)\./.test(fieldKey);
    if (formulaField && ag.source === (fieldKey === 'f' ? spec.f : ag.source)) out.col = pos.col + ag.span.start;
  }
  return out;
}

/** A case file that could not be read or parsed (the run's exit code is then 2). */
export interface FileError {
  file: string;
  code: string;
  /** starts with file:line:col where known */
  message: string;
  line?: number;
  col?: number;
  /** the offending line of the file, and the column as a span into it */
  source?: string;
  span?: Span;
  hint?: string;
}

/** Everything a reporter needs: the results in case order, and what could not be loaded. */
export interface CheckReport {
  /** files whose cases are in this run (after --shard), in order; `<inline>` for a command-line case */
  files: string[];
  fileErrors: FileError[];
  cases: CaseResult[];
  summary: { total: number; passed: number; failed: number; errors: number; samples: number; ms: number; score: Score };
  shard?: { index: number; count: number };
}

export function summarize(files: string[], fileErrors: FileError[], cases: CaseResult[], ms: number, shard?: CheckReport['shard']): CheckReport {
  const count = (s: CaseStatus) => cases.filter((c) => c.status === s).length;
  const score = { earned: cases.reduce((s, c) => s + c.score.earned, 0), max: cases.reduce((s, c) => s + c.score.max, 0) };
  return {
    files,
    fileErrors,
    cases,
    summary: { total: cases.length, passed: count('pass'), failed: count('fail'), errors: count('error'), samples: cases.reduce((s, c) => s + c.samples, 0), ms, score },
    ...(shard ? { shard } : {}),
  };
}

/** 0 every case passed, 1 a case failed or could not run, 2 a file could not be read or parsed. */
export function exitCode(r: CheckReport): 0 | 1 | 2 {
  if (r.fileErrors.length) return 2;
  return r.summary.failed || r.summary.errors ? 1 : 0;
}
