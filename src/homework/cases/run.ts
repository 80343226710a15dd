import type { Span } from '../../core/errors.js';
import { limitsFrom, withDeadline } from '../../core/limits.js';
import { MAX_SHOWN, shorten } from '../../core/safe-text.js';
import { DEFAULT_SEED } from '../../core/random.js';
import type { CaseSpec } from './load.js';
import { compileCase, toCaseError, type CaseError, type Compiled, type RunOptions } from './compile.js';
import { samplePoints } from './sample.js';
import { failuresOver, judgeSample, type CaseFailure } from '../../subjects/formula/check/judge.js';

/** Running cases: compiled, sampled, judged, scored; and the report every reporter reads. */

// what callers of the case runner use, from where it now lives
export { caseScope, DEFAULT_RANGE, DEFAULT_SAMPLES } from './sample.js';
export { compileCase, toCaseError, type CaseError, type Compiled, type RunOptions } from './compile.js';
export { Located, type Answer } from '../../subjects/formula/check/compile.js';
export type { CaseFailure, FailureKind } from '../../subjects/formula/check/judge.js';

export type CaseStatus = 'pass' | 'fail' | 'error';

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

/** Points split evenly over parts; a part earns its share when right. */
export function partScore(points: number, parts: number, right: number): number {
  return parts ? (points * right) / parts : 0;
}

/**
 * What an answer earns of its share: 1 when nothing is wrong with it; with a course's
 * `partial: entries`, a tensor answer wrong in some entries the part of its entries that
 * are right (at the point where most were wrong); else 0.
 */
export function credit(spec: CaseSpec, failures: CaseFailure[], field: string): number {
  const about = failures.filter((f) => f.field === field);
  if (!about.length) return 1;
  const e = about.length === 1 ? partialEntries(spec, about[0]) : undefined;
  return e ? (e.of - e.wrong) / e.of : 0;
}

/** The entries a wrong answer is credited by, under `partial: entries`; said at the end of its message. */
export function partialEntries(spec: CaseSpec, f: CaseFailure): CaseFailure['entries'] {
  return spec.partial === 'entries' && f.entries && f.entries.wrong < f.entries.of ? f.entries : undefined;
}

/** `partial: entries — 2 of 3 entries right`, for a message. */
export function partialWords(e: NonNullable<CaseFailure['entries']>): string {
  return `partial: entries — ${e.of - e.wrong} of ${e.of} entries right`;
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
    const doubt = result.failures.some((f) => f.kind === 'autodiff' || f.kind === 'second-order' || f.kind === 'nonfinite');
    const parts = c.answers.length || 1;
    const right = doubt ? 0 : c.answers.length ? c.answers.reduce((n, a) => n + credit(spec, result.failures, a.field), 0) : 1;
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
  const failures = failuresOver(
    c.spec,
    samples,
    samples.map((s) => judgeSample(c, s)),
  );
  for (const f of failures) {
    const e = partialEntries(c.spec, f);
    if (e) f.message += ` (${partialWords(e)})`;
  }
  result.failures.push(...failures);
  result.warnings.push(...warnings, ...new Set(samples.flatMap((s) => s.notes ?? [])));
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
    summary: {
      total: cases.length,
      passed: count('pass'),
      failed: count('fail'),
      errors: count('error'),
      samples: cases.reduce((s, c) => s + c.samples, 0),
      ms,
      score,
    },
    ...(shard ? { shard } : {}),
  };
}

/** 0 every case passed, 1 a case failed or could not run, 2 a file could not be read or parsed. */
export function exitCode(r: CheckReport): 0 | 1 | 2 {
  if (r.fileErrors.length) return 2;
  return r.summary.failed || r.summary.errors ? 1 : 0;
}
