import { freeVariables } from '../parse/free.js';
import { closest } from '../graph/suggest.js';
import type { EngineChoice } from '../engine/select.js';
import { AgError, type Span } from '../errors.js';
import { grad, pointOf as shownPoint, type GradOptions, type GradResult, type Shown } from '../grad.js';
import { folderOf } from '../io/read.js';
import type { FileScope } from '../io/scope.js';
import { limitsFrom, withDeadline, type Limits } from '../limits.js';
import { MAX_SHOWN, shorten } from '../safe-text.js';
import { isFunctionName } from '../ops/index.js';
import type { Program } from '../parse/ast.js';
import { parseProgram } from '../parse/parse.js';
import { fromNested, type Nested } from '../parse/values.js';
import { parseAt, valueOf } from '../values.js';
import { DEFAULT_SEED, Rng } from '../random.js';
import { err } from '../number-format.js';
import { scalar, subscript, toNested, type Tensor } from '../tensor.js';
import { MAX_FILE_ATOL, MAX_FILE_RTOL, type CaseSpec } from './load.js';
import { compare, counterexample, distinct, partial, pointText, shapeMismatch } from '../check/compare.js';
import { compileExpected, evaluateExpected, type Expected } from './expect.js';
import type { FdMethod } from '../check/fd.js';
import { DEFAULT_ATOL, DEFAULT_RTOL, type Tolerance } from '../check/tolerance.js';

/** Where variables without a value are drawn from, unless `ranges:` says otherwise. */
export const DEFAULT_RANGE: [number, number] = [-3, 3];
/** Points per case when values are drawn at random. */
export const DEFAULT_POINTS = 5;
/** Random draws per wanted point before giving up on finding points where f is finite. */
const TRIES_PER_POINT = 20;

/** Settings from the command line: a case's own settings (and its file's defaults) win. */
export interface RunOptions {
  seed?: number;
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: FdMethod;
  points?: number;
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

export type FailureKind = 'gradient' | 'value' | 'shape' | 'autodiff' | 'nonfinite';

/** One thing a case got wrong, with the first point where it was wrong. */
export interface CaseFailure {
  kind: FailureKind;
  /** `∂f/∂x`, `∂f/∂W1[3,7]`, `f` */
  entry: string;
  /** the counterexample in plain words */
  message: string;
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

export interface CaseResult {
  file: string;
  index: number;
  name: string;
  line: number;
  f: string;
  status: CaseStatus;
  variables: string[];
  /** points judged */
  points: number;
  seed: number;
  /** what was compared besides autodiff against finite differences: `f` (the value) and variable names */
  expected: string[];
  failures: CaseFailure[];
  error?: CaseError;
  warnings: string[];
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

/** A case parsed and ready to run at points. */
export interface Compiled {
  spec: CaseSpec;
  program: Program;
  /** the formula's free variables (not indices) */
  variables: string[];
  value?: Expected;
  gradient: [string, Expected][];
  tol: Tolerance;
  grad: GradOptions;
  seed: number;
}

export function compileCase(spec: CaseSpec, o: RunOptions = {}): Compiled {
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
  const { variables } = freeVariables(program);
  const steps = program.stmts.filter((s) => s.k !== 'expr');
  const seed = spec.seed ?? o.seed ?? DEFAULT_SEED;
  const tol = { rtol: spec.rtol ?? o.rtol ?? DEFAULT_RTOL, atol: spec.atol ?? o.atol ?? DEFAULT_ATOL };
  const c: Compiled = {
    spec,
    program,
    variables,
    gradient: [],
    tol,
    seed,
    grad: { ...tol, wrt: spec.wrt, eps: spec.eps ?? o.eps, method: spec.method ?? o.method, seed, engine: o.engine, edges: false, forwardMode: false, limits },
  };
  const ex = spec.expect;
  if (ex?.value !== undefined) c.value = located('expect.value', () => compileExpected(ex.value!, field(spec, 'expect.value'), steps, limits));
  for (const [name, raw] of Object.entries(ex?.gradient ?? {})) {
    const key = `expect.gradient.${name}`;
    if (!variables.includes(name)) {
      throw new Located(key, new AgError('bad-value', `${field(spec, key)}: the formula has no variable ${name}`, { hint: variables.length ? `its variables are ${variables.join(', ')}` : undefined }));
    }
    if (spec.wrt && !spec.wrt.includes(name)) {
      throw new Located(key, new AgError('bad-value', `${field(spec, key)}: ${name} is not differentiated (${field(spec, 'wrt')} ${spec.wrt.join(', ')})`));
    }
    c.gradient.push([name, located(key, () => compileExpected(raw, field(spec, key), steps, limits))]);
  }
  return c;
}

/** A field as the user wrote it: `expect.gradient.x:` in a file, `--expect x` on the command line. */
function field(spec: CaseSpec, key: string): string {
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

/** Something wrong at one point. */
export interface Finding {
  kind: FailureKind;
  /** aggregation key across points: one failure per kind and variable */
  key: string;
  entry: string;
  field: string;
  message: string;
  yours?: number;
  truth?: number;
  fd?: number;
}

/**
 * Judge one point: the value is finite, autodiff agrees with finite differences, and
 * the expected value and gradient (numbers or formulas) agree with autodiff.
 */
export function judge(c: Compiled, values: Record<string, Tensor>, r: GradResult): Finding[] {
  const names = [...new Set([...c.variables, ...Object.keys(r.point)])];
  const where = pointText(values, names);
  const out: Finding[] = [];
  if (!Number.isFinite(r.value)) {
    const why = r.warnings.find((w) => w.code === 'nonfinite');
    out.push({ kind: 'nonfinite', key: 'nonfinite', entry: 'f', field: 'f', message: `f is ${r.value} at ${where}${why ? ` (${why.message})` : ''}` });
    return out;
  }
  const chk = r.check;
  const reported = new Set<string>();
  for (const e of chk?.failures ?? []) {
    if (reported.has(e.variable)) continue;
    reported.add(e.variable);
    out.push({
      kind: 'autodiff',
      key: `autodiff:${e.variable}`,
      entry: `∂f/∂${e.entry}`,
      field: 'f',
      message: `autodiff ∂f/∂${e.entry} = ${distinct(e.ad, e.fd)[0]} at ${where}, but finite differences give ${distinct(e.ad, e.fd)[1]} (abs err ${err(e.absError)}, rel err ${err(e.relError)}, rtol ${chk!.rtol}, atol ${chk!.atol})`,
      truth: e.ad,
      fd: e.fd,
    });
  }
  const dir = chk?.directions?.find((d) => d.status === 'fail');
  if (dir && !chk!.failures.length) {
    out.push({ kind: 'autodiff', key: 'autodiff:direction', entry: '∇f·u', field: 'f', message: `autodiff and finite differences disagree along a random direction u at ${where}: ∇f·u = ${distinct(dir.ad, dir.fd)[0]}, finite differences give ${distinct(dir.ad, dir.fd)[1]}`, truth: dir.ad, fd: dir.fd });
  }
  if (c.value) {
    const fieldName = 'expect.value';
    const yours = located(fieldName, () => evaluateExpected(c.value!, values, c.grad.limits as Limits));
    if (yours.data.length !== 1) out.push({ kind: 'shape', key: 'value', entry: 'f', field: fieldName, message: shapeMismatch('f', yours.shape, 'f', [], where).replace(/, but f has shape \[\]/, ', but f is a scalar') });
    else if (!compare(yours, Float64Array.of(r.value), [], c.tol).ok) {
      out.push({ kind: 'value', key: 'value', entry: 'f', field: fieldName, message: counterexample('f', yours.data[0], r.value, where, null), yours: yours.data[0], truth: r.value });
    }
  }
  for (const [name, expected] of c.gradient) {
    const fieldName = `expect.gradient.${name}`;
    const shape = values[name].shape;
    const truth = Float64Array.from(flat(r.gradient[name]));
    const yours = located(fieldName, () => evaluateExpected(expected, values, c.grad.limits as Limits));
    const cmp = compare(yours, truth, shape, c.tol);
    if (cmp.ok) continue;
    if (cmp.shape) {
      out.push({ kind: 'shape', key: `gradient:${name}`, entry: `∂f/∂${name}`, field: fieldName, message: shapeMismatch(`∂f/∂${name}`, cmp.expected, name, cmp.actual, where) });
      continue;
    }
    const entry = partial(name, shape, cmp.flat);
    const fd = chk ? (chk.entries.find((e) => e.entry === name + subscript(shape, cmp.flat)) ?? undefined) : null;
    const more = truth.length > 1 ? `; wrong in ${cmp.wrong} of ${truth.length} entries` : '';
    out.push({ kind: 'gradient', key: `gradient:${name}`, entry, field: fieldName, message: counterexample(entry, cmp.yours, cmp.truth, where, fd) + more, yours: cmp.yours, truth: cmp.truth, fd: fd?.fd });
  }
  return out;
}

/** Run one case at all its points. Never throws: a case that cannot run is an error result. */
export function runCase(spec: CaseSpec, o: RunOptions = {}): CaseResult {
  const limits = limitsFrom(o.limits);
  return withDeadline(limits.timeout, () => runCaseNow(spec, { ...o, limits }));
}

function runCaseNow(spec: CaseSpec, o: RunOptions): CaseResult {
  const t0 = performance.now();
  const result: CaseResult = {
    file: spec.file,
    index: spec.index,
    // a name is shown in every report: a formula of any length used as a name is shortened here, once
    name: shorten(spec.name, MAX_SHOWN),
    line: spec.line,
    f: spec.f,
    status: 'pass',
    variables: [],
    points: 0,
    seed: spec.seed ?? o.seed ?? DEFAULT_SEED,
    expected: [],
    failures: [],
    warnings: [],
    ms: 0,
  };
  try {
    const c = compileCase(spec, o);
    result.expected = [...(c.value ? ['f'] : []), ...c.gradient.map(([n]) => n)];
    sweep(c, o, result);
    result.status = result.failures.length ? 'fail' : 'pass';
  } catch (e) {
    result.status = 'error';
    result.error = toCaseError(spec, e, result.variables);
  }
  result.ms = performance.now() - t0;
  return result;
}

function sweep(c: Compiled, o: RunOptions, result: CaseResult): void {
  const { spec } = c;
  const random = spec.random;
  const redraw = random || hasRandomValues(spec);
  const want = redraw ? (spec.points ?? o.points ?? DEFAULT_POINTS) : 1;
  for (const name of Object.keys(spec.ranges)) {
    if (!c.variables.includes(name)) result.warnings.push(`${field(spec, `ranges.${name}`)}: the formula has no variable ${name}; the range is not used`);
  }
  const rng = new Rng(c.seed);
  const failures = new Map<string, CaseFailure>();
  const warnings = new Set<string>();
  let skipped = 0;
  const tries = random ? want * TRIES_PER_POINT : want;
  for (let k = 0; k < tries && result.points < want; k++) {
    const values = drawValues(c, k, rng, random, o);
    const r = located('f', () => grad(spec.f, values, c.grad));
    result.variables = r.variables;
    if (random && !finiteAt(r)) {
      skipped++;
      continue;
    }
    result.points++;
    for (const w of r.warnings) if (w.code !== 'nonfinite') warnings.add(w.message);
    for (const f of judge(c, values, r)) {
      const seen = failures.get(f.key);
      if (seen) seen.failedPoints++;
      else failures.set(f.key, { kind: f.kind, entry: f.entry, message: f.message, field: f.field, line: spec.pos[f.field]?.line ?? spec.line, point: shownPoint(values, Object.keys(r.point)), yours: f.yours, truth: f.truth, fd: f.fd, failedPoints: 1 });
    }
  }
  if (result.points === 0) {
    const ranges = c.variables.filter((v) => !(v in spec.at)).map((v) => `${v} in [${(spec.ranges[v] ?? DEFAULT_RANGE).join(', ')}]`);
    throw new Located('f', new AgError('bad-value', `f or its gradient is not finite at any of the ${skipped} random points tried (${ranges.join(', ')})`, {
      hint: `give ranges inside the formula's domain, e.g. ${spec.file === '<inline>' ? `--range ${c.variables[0] ?? 'x'}=[0.1,3]` : `ranges: { ${c.variables[0] ?? 'x'}: [0.1, 3] }`}`,
    }));
  }
  if (skipped) warnings.add(`${skipped} random point${skipped > 1 ? 's' : ''} skipped where f or its gradient is not finite`);
  if (result.points < want) warnings.add(`only ${result.points} of ${want} points found where f and its gradient are finite`);
  for (const f of failures.values()) {
    if (result.points > 1) f.message += `${/; wrong in \d+ of \d+ entries$/.test(f.message) ? ',' : '; wrong'} at ${f.failedPoints} of ${result.points} points`;
    result.failures.push(f);
  }
  result.warnings.push(...warnings);
}

function finiteAt(r: GradResult): boolean {
  if (!Number.isFinite(r.value)) return false;
  return Object.values(r.gradient).every((g) => flat(g).every(Number.isFinite));
}

function toCaseError(spec: CaseSpec, e: unknown, variables: string[] = []): CaseError {
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
    const formulaField = fieldKey === 'f' || fieldKey.startsWith('expect.');
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
}

/** Everything a reporter needs: the results in case order, and what could not be loaded. */
export interface CheckReport {
  /** files whose cases are in this run (after --shard), in order; `<inline>` for a command-line case */
  files: string[];
  fileErrors: FileError[];
  cases: CaseResult[];
  summary: { total: number; passed: number; failed: number; errors: number; points: number; ms: number };
  shard?: { index: number; count: number };
}

export function summarize(files: string[], fileErrors: FileError[], cases: CaseResult[], ms: number, shard?: CheckReport['shard']): CheckReport {
  const count = (s: CaseStatus) => cases.filter((c) => c.status === s).length;
  return {
    files,
    fileErrors,
    cases,
    summary: { total: cases.length, passed: count('pass'), failed: count('fail'), errors: count('error'), points: cases.reduce((s, c) => s + c.points, 0), ms },
    ...(shard ? { shard } : {}),
  };
}

/** 0 every case passed, 1 a case failed or could not run, 2 a file could not be read or parsed. */
export function exitCode(r: CheckReport): 0 | 1 | 2 {
  if (r.fileErrors.length) return 2;
  return r.summary.failed || r.summary.errors ? 1 : 0;
}
