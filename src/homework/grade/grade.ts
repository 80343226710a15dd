import { AgError } from '../../core/errors.js';
import { partialEntries, partialWords, roundPoints, type FileError } from '../cases/run.js';
import { compileFormula, toCaseError, type CaseError, type Compiled, type RunOptions } from '../cases/compile.js';
import { checkPart, compileAnswer, whatOf as whatOfPart, Located, wantTruths, type Answer } from '../../subjects/formula/check/compile.js';
import type { RawExpected } from '../../subjects/formula/check/expect.js';
import type { Sample } from '../../subjects/formula/check/point.js';
import { samplePoints } from '../cases/sample.js';
import { failuresOver, judgeAnswer, judgeAutodiff, judgeSecondOrder } from '../../subjects/formula/check/judge.js';
import type { MistakeCode } from '../../verify/mistakes.js';
import { limitsFrom, withDeadline } from '../../core/limits.js';
import type { CaseSpec } from '../cases/load.js';
import type { Key, PartSpec, Problem, Visibility } from './key.js';
import type { Submission } from './submission.js';

/**
 * Grading: the key's problems are run once — their points drawn, autodiff and finite
 * differences at each, the named steps' values and gradients — and every submission's
 * answers are judged against those truths with the verdict layer (written digits or
 * rtol/atol, shapes kept, mistakes named). A problem's points are split evenly over its
 * parts; a part earns its share when right at every point.
 */

export type PartStatus = 'right' | 'wrong' | 'missing' | 'error';

export interface PartResult {
  /** `value`, `gradient.x`, `steps.q` */
  part: string;
  /** `f`, `∂f/∂x`, `q` */
  what: string;
  points: number;
  earned: number;
  status: PartStatus;
  /** right: the rule that judged it; wrong: the counterexample; missing or error: why */
  message: string;
  mistake?: MistakeCode;
  /** an answer that could not be judged: where and why (with a caret into a formula) */
  error?: CaseError;
  /** the answer's line in the submission */
  line?: number;
}

export interface ProblemResult {
  name: string;
  points: number;
  /** rounded to hundredths */
  earned: number;
  parts: PartResult[];
  /** the key's grading policy for this problem, in words (min_decimals:, partial:, layout:), when it sets one */
  policy?: string;
}

export interface StudentResult {
  student: string;
  file: string;
  /** the sum of the problems' rounded points */
  earned: number;
  max: number;
  problems: ProblemResult[];
  /** why the submission was refused (it scores 0) */
  refused: string[];
  /** answers not graded (a problem or part the key does not have) */
  notes: string[];
}

export interface GradeReport {
  title: string;
  key: string;
  problems: { name: string; points: number; parts: string[]; visibility?: Visibility }[];
  /** when Gradescope shows the results (the key's visibility:) */
  visibility?: Visibility;
  students: StudentResult[];
  /** submissions that could not be read or parsed (the run exits 2) */
  fileErrors: FileError[];
  /** about the key itself: autodiff and finite differences disagree, points skipped */
  warnings: string[];
  max: number;
  ms: number;
}

/** A problem run once, ready for every submission. */
export interface PreparedProblem {
  problem: Problem;
  c: Compiled;
  parts: PartSpec[];
  samples: Sample[];
  points: number;
}

/**
 * Run every problem of the key once. A problem that cannot run (a bad formula, a part
 * that names nothing) is the key's error: an AgError naming the file, line and problem.
 */
export function prepareKey(key: Key, o: RunOptions = {}): { problems: PreparedProblem[]; warnings: string[] } {
  const limits = limitsFrom(o.limits);
  const warnings: string[] = [];
  const problems = key.problems.map((problem) => {
    try {
      return withDeadline(limits.timeout, () => prepare(problem, { ...o, limits }, warnings));
    } catch (e) {
      const ce = toCaseError(problem.spec, e);
      throw new AgError(
        ce.code as AgError['code'],
        `${key.file}:${ce.line}${ce.col !== undefined ? `:${ce.col}` : ''}: problem ${problem.name}: ${ce.message}`,
        { source: ce.source, span: ce.span, hint: ce.hint },
      );
    }
  });
  return { problems, warnings };
}

function prepare(problem: Problem, o: RunOptions, warnings: string[]): PreparedProblem {
  const c = compileFormula(problem.spec, o);
  if (problem.parts) {
    for (const p of problem.parts) checkPart(c, p.kind, p.name, 'parts', p.by);
    wantTruths(c, problem.parts);
  }
  // a label used as an index (softmax's y) is what a key means: no warning for it
  const { samples, warnings: w } = samplePoints(c, o, ['index-variable']);
  const first = samples[0].r;
  // the variables differentiated: not those used as indices (onehot(y, 3)), not those left out by wrt:
  const variables = first.variables.filter((v) => c.variables.includes(v));
  const parts = problem.parts ?? [
    { kind: 'value', name: 'f', part: 'value' },
    ...variables.map((v): PartSpec => ({ kind: 'gradient', name: v, part: `gradient.${v}` })),
  ];
  for (const p of parts) {
    if (p.kind === 'gradient' && c.variables.includes(p.name) && !variables.includes(p.name)) {
      throw new Located(
        'parts',
        new AgError(
          'bad-value',
          `parts: ${p.part}: ${p.name} is ${first.indexVariables.includes(p.name) ? 'used as an index, so it has no gradient' : 'not differentiated'}`,
        ),
      );
    }
  }
  for (const x of w) warnings.push(`${problem.name}: ${x}`);
  for (const s of samples)
    for (const f of [...judgeAutodiff(c, s), ...(c.order === 2 ? judgeSecondOrder(c, s) : [])])
      warnings.push(`${problem.name}: the key's own formula fails its check — ${f.message}`);
  // every submission's answers are parsed once per distinct text
  c.compiledAnswers = new Map();
  return { problem, c, parts, samples, points: problem.spec.points ?? 1 };
}

/** The answer a submission gives for a part, if any. */
function answerFor(expect: NonNullable<Submission['answers'][string]['expect']>, p: PartSpec): RawExpected | undefined {
  if (p.kind === 'value') return expect.value;
  if (p.kind === 'hessian') return expect.hessian?.[p.name]?.[p.by!];
  if (p.kind === 'jacobian') return expect.jacobian?.[p.name];
  return (p.kind === 'gradient' ? expect.gradient : expect.steps)?.[p.name];
}

const whatOf = (p: PartSpec) => whatOfPart(p.kind, p.name, p.by);

/** Grade one submission against the prepared key. Never throws: an answer that cannot be judged is that part's error. */
export function gradeSubmission(key: PreparedProblem[], sub: Submission, o: RunOptions = {}): StudentResult {
  const limits = limitsFrom(o.limits);
  const problems = key.map((p) => withDeadline(limits.timeout, () => gradeProblem(p, sub)));
  const notes: string[] = [];
  const names = new Set(key.map((p) => p.problem.name));
  for (const name of Object.keys(sub.answers)) {
    if (!names.has(name)) {
      notes.push(`answers.${name}: the key has no problem ${name}; not graded`);
      continue;
    }
    const p = key.find((q) => q.problem.name === name)!;
    const given = sub.answers[name].expect;
    const graded = new Set(p.parts.map((x) => x.part));
    const extra = [
      ...(given.value !== undefined ? ['value'] : []),
      ...Object.keys(given.gradient ?? {}).map((n) => `gradient.${n}`),
      ...Object.keys(given.steps ?? {}).map((n) => `steps.${n}`),
      ...Object.entries(given.hessian ?? {}).flatMap(([x, row]) => Object.keys(row).map((y) => `hessian.${x}.${y}`)),
      ...Object.keys(given.jacobian ?? {}).map((n) => `jacobian.${n}`),
    ].filter((x) => !graded.has(x));
    for (const x of extra) notes.push(`answers.${name}.${x}: not graded (the key does not grade ${x})`);
  }
  const max = key.reduce((s, p) => s + p.points, 0);
  return { student: sub.student, file: sub.file, earned: roundPoints(problems.reduce((s, p) => s + p.earned, 0)), max, problems, refused: sub.refused, notes };
}

function gradeProblem(p: PreparedProblem, sub: Submission): ProblemResult {
  const name = p.problem.name;
  const share = p.points / p.parts.length;
  const given = sub.answers[name];
  const policy = policyWords(p.c.spec);
  const result = (parts: PartResult[]): ProblemResult => ({
    name,
    points: p.points,
    earned: roundPoints(parts.reduce((s, x) => s + x.earned, 0)),
    parts,
    ...(policy ? { policy } : {}),
  });
  const all = (status: PartStatus, message: string) =>
    result(p.parts.map((x) => ({ part: x.part, what: whatOf(x), points: share, earned: 0, status, message })));
  if (sub.refused.length) return all('error', 'not graded: the submission was refused');
  if (!given) return all('missing', 'no answer given');
  if (given.problem) return all('error', `not graded: ${given.problem.message}${given.problem.hint ? ` (${given.problem.hint})` : ''}`);
  // the problem as this submission answers it: its answers' places are in the submission
  const c: Compiled = { ...p.c, spec: { ...p.c.spec, file: sub.file, pos: given.pos, line: given.line }, answers: [] };
  const parts: PartResult[] = [];
  const compiled = new Map<string, Answer>();
  for (const x of p.parts) {
    const raw = answerFor(given.expect, x);
    const field = `answers.${name}.${x.part}`;
    const base = { part: x.part, what: whatOf(x), points: share, earned: 0, line: given.pos[field]?.line };
    if (raw === undefined) {
      parts.push({ ...base, status: 'missing', message: 'no answer given' });
      continue;
    }
    try {
      compiled.set(x.part, compileAnswer(c, x.kind, x.name, raw, field, x.by));
      parts.push({ ...base, status: 'right', message: '' });
    } catch (e) {
      parts.push(errorPart(base, c, e));
    }
  }
  c.answers = [...compiled.values()];
  for (const part of parts) {
    const a = compiled.get(part.part);
    if (!a) continue;
    try {
      const verdicts = p.samples.map((s) => judgeAnswer(c, a, s));
      const wrong = failuresOver(
        c.spec,
        p.samples,
        verdicts.map((v) => (v.ok ? [] : [v.finding])),
      )[0];
      const e = wrong && partialEntries(c.spec, wrong);
      if (wrong)
        Object.assign(part, {
          status: 'wrong',
          earned: e ? (share * (e.of - e.wrong)) / e.of : 0,
          message: e ? `${wrong.message} (${partialWords(e)})` : wrong.message,
          ...(wrong.mistake ? { mistake: wrong.mistake } : {}),
        });
      else Object.assign(part, { earned: share, message: verdicts[0].ok ? verdicts[0].words : '' });
    } catch (e) {
      Object.assign(part, errorPart(part, c, e));
    }
  }
  return result(parts);
}

/** A problem's grading policy as its feedback says it: `answers to 2 decimal places are judged at them (min_decimals: 2); …`. */
export function policyWords(spec: CaseSpec): string | undefined {
  const words = [
    ...(spec.minDecimals !== undefined ? [`answers written to ${spec.minDecimals} decimal places are judged at them (min_decimals: ${spec.minDecimals})`] : []),
    ...(spec.partial === 'entries' ? ['a tensor part earns the share of its entries that are right (partial: entries)'] : []),
    ...(spec.layout === 'strict' ? ["a vector's gradient is a column, not a row (layout: strict)"] : []),
  ];
  return words.length ? words.join('; ') : undefined;
}

function errorPart(base: Omit<PartResult, 'status' | 'message'>, c: Compiled, e: unknown): PartResult {
  if (!(e instanceof Located) && !(e instanceof AgError)) throw e;
  const error = toCaseError(c.spec, e);
  return { ...base, earned: 0, status: 'error', message: `${error.message}${error.hint ? ` (${error.hint})` : ''}`, error };
}

/** The report of a grading run. */
export function gradeReport(
  key: Key,
  prepared: PreparedProblem[],
  students: StudentResult[],
  fileErrors: FileError[],
  warnings: string[],
  ms: number,
): GradeReport {
  return {
    title: key.title,
    key: key.file,
    problems: prepared.map((p) => ({
      name: p.problem.name,
      points: p.points,
      parts: p.parts.map((x) => x.part),
      ...(p.problem.visibility ? { visibility: p.problem.visibility } : {}),
    })),
    ...(key.visibility ? { visibility: key.visibility } : {}),
    students,
    fileErrors,
    warnings,
    max: prepared.reduce((s, p) => s + p.points, 0),
    ms,
  };
}
