import { dirname } from 'node:path';
import { CASE_KEYS, CaseFileError, SCHEMA_KEY, describe, describeKind, isPlainObject, shortName, toCase, type CaseSpec } from '../cases/load.js';
import type { Answer } from '../cases/run.js';
import { readDocument, type ParsedDocument, type PosNode } from '../../core/io/document.js';
import { limitsFrom, type Limits } from '../../core/limits.js';
import { closest } from '../../core/graph/suggest.js';

/**
 * An answer key: a title and the problems, each a formula at a point (or at random
 * points), what is graded (`parts:`) and what it is worth (`points:`).
 *
 *   title: Homework 1
 *   problems:
 *     - name: circuit
 *       f: q = x + y; f = q*z
 *       at: { x: -2, y: 5, z: -4 }
 *       points: 4
 *       parts: [value, gradient.x, gradient.y, gradient.z, gradient.q]
 *       visibility: after_due_date
 *
 * Read through the document door like a case file: the key is data too. `visibility:`
 * (on the key, or on a problem) is when Gradescope shows a problem's tests to students.
 */

/** What a problem may set: a case's settings, parts: instead of expect:, and when its tests are shown. */
export const PROBLEM_KEYS = [...CASE_KEYS.filter((k) => k !== 'expect'), 'parts', 'visibility'];

/** When Gradescope shows a test to the student (its results.json `visibility`). */
export const VISIBILITIES = ['visible', 'hidden', 'after_due_date', 'after_published'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

const KEY_KEYS = ['title', 'problems', 'visibility'];

/** One graded part: `value`, `gradient.<variable or step>`, `steps.<step>`, `hessian.<variable>.<variable>`, `jacobian.<variable>` (a vector f). */
export interface PartSpec {
  kind: Answer['kind'];
  name: string;
  /** the second variable of `hessian.x.y` */
  by?: string;
  part: string;
}

export interface Problem {
  name: string;
  /** the problem as a case without answers (its answers come from each submission) */
  spec: CaseSpec;
  /** the parts graded, when the key lists them; otherwise the value and every variable's gradient */
  parts?: PartSpec[];
  /** when its tests are shown on Gradescope (default: the key's) */
  visibility?: Visibility;
  line: number;
}

export interface Key {
  file: string;
  title: string;
  problems: Problem[];
  /** when the results are shown on Gradescope (default: at once) */
  visibility?: Visibility;
}

/** A part as the key writes it. Null when it is not one. */
export function parsePart(text: string): PartSpec | null {
  if (text === 'value') return { kind: 'value', name: 'f', part: 'value' };
  const h = /^hessian\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (h) return { kind: 'hessian', name: h[1], by: h[2], part: text };
  const m = /^(gradient|steps|jacobian)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (!m) return null;
  return { kind: m[1] === 'steps' ? 'step' : (m[1] as 'gradient' | 'jacobian'), name: m[2], part: text };
}

/** Read and check an answer key. Throws CaseFileError (file:line: message) when it cannot be used. Like a named case file, it stays in its own folder. */
export function loadKey(file: string, o: { limits?: Limits } = {}): Key {
  const doc = readDocument(file, { limits: limitsFrom(o.limits), tree: dirname(file), showLines: true, what: 'the answer key' });
  return keyOf(doc);
}

function keyOf(doc: ParsedDocument): Key {
  const { file } = doc;
  const lineOf = (n: PosNode | undefined) => (n ? doc.at(n.start).line : 1);
  const root = doc.root;
  const value = doc.value;
  const fail = (message: string, at?: PosNode | number, hint?: string): never => {
    const e = new CaseFileError(file, message, typeof at === 'number' ? at : lineOf(at));
    throw hint ? Object.assign(e, { hint }) : e;
  };
  if (!isPlainObject(value)) return fail(`an answer key should be a mapping with title: and problems:, not ${describeKind(value)}`, root ?? undefined);
  for (const k of Object.keys(value)) {
    if (!KEY_KEYS.includes(k) && k !== SCHEMA_KEY) {
      const near = closest(k, KEY_KEYS);
      fail(
        `unknown key ${shortName(k)}: in the answer key${near ? ` (did you mean ${near}:?)` : ''}; it has title:, problems: and visibility:`,
        root?.entries?.get(k)?.key,
      );
    }
  }
  const visibilityOf = (v: unknown, where: string, at: PosNode | undefined): Visibility | undefined =>
    v === undefined
      ? undefined
      : VISIBILITIES.includes(v as Visibility)
        ? (v as Visibility)
        : fail(`${where}visibility: should be one of ${VISIBILITIES.join(', ')}, not ${describe(v)}`, at);
  const visibility = visibilityOf(value.visibility, '', root?.entries?.get('visibility')?.value);
  const title =
    value.title === undefined
      ? file
      : typeof value.title === 'string' || typeof value.title === 'number'
        ? String(value.title)
        : fail(`title: should be text, not ${describe(value.title)}`, root?.entries?.get('title')?.value);
  const listNode = root?.entries?.get('problems')?.value;
  if (!Array.isArray(value.problems) || value.problems.length === 0)
    return fail(
      `problems: should be a non-empty list of problems (each "- name: ..., f: ..."), not ${describe(value.problems)}`,
      listNode ?? root ?? undefined,
    );
  const items = listNode?.items?.length === value.problems.length ? listNode.items : undefined;
  const seen = new Map<string, number>();
  const problems = value.problems.map((raw, i): Problem => {
    const node = items?.[i];
    const line = lineOf(node ?? listNode);
    const spec = toCase(raw, node, Object.create(null), undefined, { file, index: i, line, doc }, PROBLEM_KEYS);
    if (spec.problem) fail(`problem ${i + 1}: ${spec.problem.message}`, spec.pos[spec.problem.key]?.line ?? line, spec.problem.hint);
    const r = raw as Record<string, unknown>;
    if (r.name === undefined) fail(`problem ${i + 1} has no name: (submissions answer problems by name)`, node);
    const name = String(r.name);
    if (!/^[^\s.][^\n]{0,79}$/.test(name) || name.includes('.'))
      fail(`problem ${i + 1}: name: ${shortName(name)} should be a short name on one line, without dots (parts are written problem.gradient.x)`, node);
    if (seen.has(name)) fail(`two problems are named ${shortName(name)} (lines ${seen.get(name)} and ${line}); names must differ`, node);
    seen.set(name, line);
    let parts: PartSpec[] | undefined;
    if (r.parts !== undefined) {
      const partsNode = node?.entries?.get('parts')?.value;
      if (!Array.isArray(r.parts) || r.parts.length === 0)
        fail(`${shortName(name)}: parts: should be a list like [value, gradient.x, steps.q], not ${describe(r.parts)}`, partsNode);
      parts = (r.parts as unknown[]).map((p) => {
        const part = typeof p === 'string' ? parsePart(p.trim()) : null;
        return (
          part ??
          fail(
            `${shortName(name)}: parts: ${shortName(String(p))} is not a part; a part is value, gradient.<variable or step>, steps.<step>, hessian.<variable>.<variable> or jacobian.<variable>`,
            partsNode,
          )
        );
      });
      const twice = parts.find((p, k) => parts!.findIndex((q) => q.part === p.part) !== k);
      if (twice) fail(`${shortName(name)}: parts: ${twice.part} is listed twice`, partsNode);
    }
    const shown = visibilityOf(r.visibility, `${shortName(name)}: `, node?.entries?.get('visibility')?.value);
    return { name, spec, parts, ...(shown ? { visibility: shown } : {}), line };
  });
  return { file, title, problems, ...(visibility ? { visibility } : {}) };
}
