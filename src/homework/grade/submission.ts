import { basename, dirname, extname } from 'node:path';
import { describe, describeKind, isPlainObject, readAnswers, shortName, type CaseSpec } from '../cases/load.js';
import { readDocument, type ParsedDocument, type PosNode } from '../../core/io/document.js';
import { limitsFrom, type Limits } from '../../core/limits.js';
import { PROBLEM_KEYS } from './key.js';

/**
 * A student's submission: who, and the answers, problem by problem.
 *
 *   student: Ada
 *   answers:
 *     circuit: { value: -12, gradient: { x: -4, q: "z" }, steps: { q: 3 } }
 *
 * A submission holds answers and nothing else. Everything that decides how it is judged
 * — tolerances, digits, the formula, the point, the number of samples, file references —
 * belongs to the key: a submission that tries to set any of it is refused whole (it scores
 * 0, and the feedback says why). A key that is merely misspelt costs only that problem.
 */

export interface ProblemAnswers {
  /** the answers, as a case's expect: (numbers keep the text they were written with) */
  expect: NonNullable<CaseSpec['expect']>;
  /** where each answer is: `answers.<problem>.gradient.x` → line (and column of a formula) */
  pos: CaseSpec['pos'];
  /** what is wrong with this problem's answers (an unknown key): the problem scores 0 */
  problem?: { key: string; message: string; hint?: string };
  line: number;
}

export interface Submission {
  file: string;
  /** from student:, or the file's name */
  student: string;
  answers: Record<string, ProblemAnswers>;
  /** why the submission is refused, when it is */
  refused: string[];
}

const TOP_KEYS = ['student', 'answers'];
const ANSWER_KEYS = ['value', 'gradient', 'steps'];
/** Keys that would change how answers are judged: a submission may not hold them anywhere. */
const JUDGING_KEYS = new Set([...PROBLEM_KEYS, 'expect', 'defaults', 'title', 'problems', 'cases', 'tolerance', 'digits'].filter((k) => k !== 'name'));

/**
 * Read a submission through the document door. Throws DocumentError when the file cannot be
 * read or parsed (exit 2). It stays inside `tree` (default: its own folder), and its
 * messages never show its lines: it is the student's file, and they go to the grader too.
 */
export function loadSubmission(file: string, o: { limits?: Limits; tree?: string } = {}): Submission {
  return submissionOf(readDocument(file, { limits: limitsFrom(o.limits), tree: o.tree ?? dirname(file), showLines: false, what: 'the submission' }));
}

function submissionOf(doc: ParsedDocument): Submission {
  const { file } = doc;
  const value = doc.value;
  const root = doc.root ?? undefined;
  const lineOf = (n: PosNode | undefined) => (n ? doc.at(n.start).line : 1);
  const sub: Submission = { file, student: basename(file, extname(file)), answers: Object.create(null), refused: [] };
  const refuse = (message: string, n?: PosNode) => sub.refused.push(`line ${lineOf(n)}: ${message}`);
  if (!isPlainObject(value)) {
    refuse(`a submission should be a mapping with student: and answers:, not ${describeKind(value)}`, root);
    return sub;
  }
  for (const k of Object.keys(value)) {
    if (TOP_KEYS.includes(k)) continue;
    refuse(
      `${shortName(k)}: is not allowed in a submission; it holds student: and answers: only${JUDGING_KEYS.has(k) ? ' (how answers are judged is set by the answer key)' : ''}`,
      root?.entries?.get(k)?.key,
    );
  }
  if (value.student !== undefined) {
    if (typeof value.student === 'string' || typeof value.student === 'number') sub.student = String(value.student).trim() || sub.student;
    else refuse(`student: should be a name, not ${describe(value.student)}`, root?.entries?.get('student')?.value);
  }
  const answersNode = root?.entries?.get('answers')?.value;
  if (!isPlainObject(value.answers)) {
    refuse(
      `answers: should map problem names to answers, like { circuit: { value: -12, gradient: { x: -4 } } }, not ${describe(value.answers)}`,
      answersNode ?? root,
    );
    return sub;
  }
  for (const [name, raw] of Object.entries(value.answers)) {
    const node = answersNode?.entries?.get(name)?.value;
    const prefix = `answers.${name}`;
    const refusals = judgingKeys(raw, node, prefix, lineOf);
    fileReferences(raw, node, prefix, lineOf, refusals);
    sub.refused.push(...refusals);
    const spec = { pos: Object.create(null), expect: undefined } as unknown as CaseSpec;
    // what was refused above is left out here, so it is not reported twice
    const known = isPlainObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([k]) => !JUDGING_KEYS.has(k))) : raw;
    const problem = readAnswers(known, node, prefix, spec, doc) ?? undefined;
    sub.answers[name] = { expect: spec.expect ?? Object.create(null), pos: spec.pos, problem, line: lineOf(node) };
  }
  return sub;
}

/** `rtol:`, `f:`, `at:` … anywhere in a problem's answers: refusals, with their lines. */
function judgingKeys(raw: unknown, node: PosNode | undefined, prefix: string, lineOf: (n: PosNode | undefined) => number): string[] {
  const out: string[] = [];
  const walk = (v: unknown, n: PosNode | undefined, path: string, depth: number) => {
    if (!isPlainObject(v) || depth > 3) return;
    for (const [k, x] of Object.entries(v)) {
      const child = n?.entries?.get(k);
      // under gradient: and steps:, keys are names of variables and steps
      if (depth === 0 && JUDGING_KEYS.has(k) && !ANSWER_KEYS.includes(k)) {
        out.push(
          `line ${lineOf(child?.key)}: ${path}.${shortName(k)}: a submission cannot set ${k}; how answers are judged (the formula, the point, tolerances, digits, samples) is set by the answer key`,
        );
      }
      if (depth === 0) walk(x, child?.value, `${path}.${k}`, depth + 1);
    }
  };
  walk(raw, node, prefix, 0);
  return out;
}

/** Strings that name a file (`@w.npy`): answers are numbers and formulas, never files. */
function fileReferences(raw: unknown, node: PosNode | undefined, path: string, lineOf: (n: PosNode | undefined) => number, out: string[], depth = 0): void {
  if (depth > 6) return;
  if (typeof raw === 'string') {
    if (raw.trimStart().startsWith('@'))
      out.push(`line ${lineOf(node)}: ${path}: ${shortName(raw.trim())} is a file reference; a submission holds numbers and formulas only`);
    return;
  }
  if (Array.isArray(raw)) raw.forEach((x, i) => fileReferences(x, node?.items?.[i], path, lineOf, out, depth + 1));
  else if (isPlainObject(raw))
    for (const [k, x] of Object.entries(raw)) fileReferences(x, node?.entries?.get(k)?.value, `${path}.${k}`, lineOf, out, depth + 1);
}
