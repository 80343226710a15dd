import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { closest } from '../../core/graph/suggest.js';
import { isInside } from '../../core/io/read.js';
import { DocumentError as CaseFileError, formatOf, parseDocumentText, readDocument, type ParsedDocument, type PosNode } from '../../core/io/document.js';
import { limitsFrom, type Limits } from '../../core/limits.js';
import { safeName } from '../../core/safe-text.js';
import { isDecimal } from '../../verify/precision.js';
import type { FormulaSpec, Pos } from '../../subjects/formula/check/compile.js';
import type { RawExpected } from '../../subjects/formula/check/expect.js';

/**
 * Check cases as they come from a YAML/JSON file (or the command line): plain data,
 * so they cross into worker threads as they are, with the line of every field kept
 * for messages ("cases.yaml:12") and annotations. Nothing is evaluated here; a case
 * whose shape is wrong carries a `problem`, which the run reports as that case's error.
 */

/** A value as a case gives it: a number, nested arrays, or a constant expression (`pi`, `randn(3,4)`). */
export type RawValue = number | RawValue[] | string;

/**
 * A case: the formula check (its formula, settings and answers, as FormulaSpec says) and
 * what a case file adds. A number from a document arrives in an answer as the text it
 * was written with (`"-0.1970"`), so it is judged at the digits written.
 */
export interface CaseSpec extends FormulaSpec {
  /** the file as given on the command line, or `<inline>` */
  file: string;
  /** position in its file (0-based) */
  index: number;
  name: string;
  /** line of the case (its first key) */
  line: number;
  /** fixed values (may be random expressions, redrawn at every point) */
  at: Record<string, RawValue>;
  /** values in `--at` syntax (`x=pi,y=2`, `@values.json`), also redrawn at every point */
  atText: string[];
  /** true when variables without a fixed value are drawn at random (`at: random`, `ranges:`, or no `at`) */
  random: boolean;
  ranges: Record<string, [number, number]>;
  /** random evaluation points when anything is random (samples:) */
  samples?: number;
  /** grade points the case is worth (points:, default 1), split evenly over what it expects */
  points?: number;
  /** a course's policy: `entries` gives a tensor part the share of its entries that are right (partial:) */
  partial?: 'entries';
  /** where each field is: `f`, `at`, `at.x`, `expect.value`, `expect.gradient.x`, `ranges.x`, … */
  pos: Record<string, Pos>;
  /** what is wrong with the case as written (reported as its error) */
  problem?: { message: string; key: string; hint?: string };
}

export interface CaseFile {
  file: string;
  cases: CaseSpec[];
}

/** A case file that cannot be read or parsed: the message starts with `file:line:col:` where known. */
export { DocumentError as CaseFileError } from '../../core/io/document.js';

/** A grading file (an answer key or a submission) where a case file was expected: a folder walk of check skips it. */
export class NotCaseFile extends CaseFileError {
  constructor(
    file: string,
    message: string,
    line: number,
    readonly kind: string,
  ) {
    super(file, message, line);
  }
}

/** A course's grading policy, set on a case, a key's problem or in defaults:. */
export const POLICY_KEYS = ['min_decimals', 'partial', 'layout'];

export const CASE_KEYS = [
  'name',
  'f',
  'at',
  'ranges',
  'samples',
  'points',
  'min_digits',
  ...POLICY_KEYS,
  'wrt',
  'rtol',
  'atol',
  'eps',
  'method',
  'seed',
  'order',
  'expect',
];
const DEFAULT_KEYS = CASE_KEYS.filter((k) => !['name', 'f', 'expect'].includes(k));
const EXPECT_KEYS = ['value', 'gradient', 'steps', 'hessian', 'jacobian'];
/** The key a JSON document names its schema with, for editors; a case file or answer key may have it at the top. */
export const SCHEMA_KEY = '$schema';
/** The most random evaluation points a case may ask for. */
export const MAX_SAMPLES = 10000;
/** The most grade points one case may be worth. */
export const MAX_POINTS = 1e6;

/** A path the folder walk could not follow (a symlink loop, a broken link): an error for that path; the rest runs. */
export interface WalkError {
  file: string;
  message: string;
}

/** A file to read, and where it was found: the folder tree it must stay in, and whether the user named it. */
export interface FoundFile {
  file: string;
  /** the folder named on the command line it was found in, or (named itself) its own folder: no symlink may lead out of it */
  tree: string;
  /** named on the command line itself (not found in a folder): its messages may show its lines */
  named: boolean;
}

/**
 * The case files named by `paths`: files as they are, folders searched for *.yaml,
 * *.yml, *.json (sorted). A link that loops or leads nowhere is an error for its path,
 * never for the walk; so is a folder link that leads out of the folder named. Hidden
 * entries (`.git`, `.github/workflows/ci.yml`) and the `__MACOSX` folder a Mac zip adds
 * are not walked: in a submission they would be a second answer file.
 */
export function findFiles(paths: string[], errors: WalkError[] = []): FoundFile[] {
  const out: FoundFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push({ file: p, tree: dirname(p), named: true }); // reported as unreadable when loaded
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ file: p, tree: dirname(p), named: true });
      continue;
    }
    const visited = new Set<string>();
    let root: string | undefined;
    const walk = (dir: string): void => {
      let real: string;
      let names: string[];
      try {
        real = realpathSync(dir);
        names = readdirSync(dir).sort();
      } catch (e) {
        errors.push({
          file: dir,
          message: `cannot read the folder: ${(e as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symlink loop' : ((e as NodeJS.ErrnoException).code ?? 'unreadable').toLowerCase()}`,
        });
        return;
      }
      root ??= real;
      if (!isInside(root, real)) {
        errors.push({ file: dir, message: `a symlink that leads outside ${p}; only that folder tree is read` });
        return;
      }
      // a folder met again through a symlink is a loop: walked once
      if (visited.has(real)) {
        errors.push({ file: dir, message: 'a symlink loop: this folder was already walked' });
        return;
      }
      visited.add(real);
      for (const name of names) {
        if (name.startsWith('.') || name === '__MACOSX') continue;
        const full = join(dir, name);
        let kind: 'dir' | 'file' | 'other';
        try {
          const s = statSync(full);
          kind = s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (/\.(ya?ml|json)$/i.test(name) || code === 'ELOOP')
            errors.push({
              file: full,
              message:
                code === 'ELOOP'
                  ? 'a symlink loop'
                  : code === 'ENOENT'
                    ? 'a broken link (it points at nothing)'
                    : `cannot read it: ${(code ?? 'unreadable').toLowerCase()}`,
            });
          continue;
        }
        if (kind === 'dir') walk(full);
        else if (/\.(ya?ml|json)$/i.test(name)) out.push({ file: full, tree: p, named: false });
      }
    };
    walk(p);
  }
  return out;
}

/** The files of findFiles, by name. */
export function expandPaths(paths: string[], errors: WalkError[] = []): string[] {
  return findFiles(paths, errors).map((f) => f.file);
}

export interface LoadOptions {
  limits?: Limits;
  /** where the file was found (findFiles): the tree it must stay in; its lines are shown only when the user named it */
  found?: Omit<FoundFile, 'file'>;
}

/** Read and parse one case file through the document door. Throws CaseFileError ('io', 'limit' or 'syntax', message prefixed by file:line) when it cannot. */
export function loadCaseFile(file: string, o: LoadOptions = {}): CaseFile {
  const found = o.found ?? { tree: dirname(file), named: true };
  return casesOf(readDocument(file, { limits: limitsFrom(o.limits), tree: found.tree, showLines: found.named }));
}

/** Cases from the text of a case file: a list of cases, or `{defaults: {...}, cases: [...]}`. */
export function parseCases(text: string, file: string): CaseFile {
  return casesOf(parseDocumentText(text, file, { format: formatOf(file) }));
}

function casesOf(doc: ParsedDocument): CaseFile {
  const { file } = doc;
  const root = doc.root;
  const lineOf = (n: PosNode | undefined) => (n ? doc.at(n.start).line : 1);
  const value = doc.value;
  if (!root || value === null || value === undefined)
    throw new CaseFileError(file, 'the file holds no cases; it should be a list of cases like "- f: (x + y) * z"', 1);
  let list: { node: PosNode | undefined; value: unknown } = { node: root, value };
  let defaults: Record<string, unknown> = Object.create(null);
  let defaultsNode: PosNode | undefined;
  if (isPlainObject(value) && !('cases' in value) && ('problems' in value || 'answers' in value)) {
    const kind = 'problems' in value ? 'an answer key' : 'a submission';
    throw Object.assign(new NotCaseFile(file, `this is ${kind}, not a case file`, lineOf(root), kind), {
      hint: `grade submissions against a key with autograd-cli grade KEY SUBMISSIONS...`,
    });
  }
  if (isPlainObject(value)) {
    // `$schema` names the file's JSON Schema for editors (schema/case-file.schema.json): ignored
    const extra = Object.keys(value).filter((k) => k !== 'cases' && k !== 'defaults' && k !== SCHEMA_KEY);
    if (!('cases' in value) || extra.length) {
      throw new CaseFileError(
        file,
        `the file should be a list of cases, or a mapping with cases: (and optionally defaults:)${extra.length ? `; unexpected ${extra.map((k) => `${shortName(k)}:`).join(', ')}` : ''}`,
        lineOf(root),
      );
    }
    list = { node: root.entries?.get('cases')?.value, value: value.cases };
    if ('defaults' in value) {
      defaultsNode = root.entries?.get('defaults')?.value;
      if (!isPlainObject(value.defaults))
        throw new CaseFileError(file, 'defaults: should be a mapping of case settings (rtol, atol, method, seed, samples, points, …)', lineOf(defaultsNode));
      defaults = value.defaults;
      const bad = Object.keys(defaults).filter((k) => !DEFAULT_KEYS.includes(k));
      if (bad.length)
        throw new CaseFileError(file, `defaults: cannot set ${bad.map(shortName).join(', ')} (it can set ${DEFAULT_KEYS.join(', ')})`, lineOf(defaultsNode));
    }
  }
  if (!Array.isArray(list.value)) {
    throw new CaseFileError(
      file,
      `expected a list of cases (each starting with "- "), found ${list.value === value ? describeKind(value) : describe(list.value)}`,
      lineOf(list.node),
    );
  }
  if (list.value.length === 0) throw new CaseFileError(file, 'the list of cases is empty', lineOf(list.node));
  const items = list.node?.items?.length === list.value.length ? list.node.items : null;
  const cases = list.value.map((raw, i) => {
    const node = items?.[i];
    return toCase(raw, node, defaults, defaultsNode, { file, index: i, line: lineOf(node ?? list.node), doc });
  });
  return { file, cases };
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key or name from the file, as a message shows it. */
export const shortName = (k: string): string => safeName(k, 40);

/** A small value as a message shows it (never more than a line). */
const shown = (v: unknown): string => safeName(JSON.stringify(v) ?? String(v), 60);

/** The largest rtol and atol a case file may set: a file cannot loosen its own judgement without bound (the command line can). */
export const MAX_FILE_RTOL = 0.1;
export const MAX_FILE_ATOL = 1e-2;

/** What a value is, for messages: `a list`, `a mapping`, `number 3`. */
export function describe(v: unknown): string {
  if (v === null || typeof v === 'object') return describeKind(v);
  return `${typeof v} ${shown(v)}`;
}

/** What a whole document is, without its text (a file that is no list or mapping may be anything: a token, the environment). */
export function describeKind(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? 'text' : `a ${typeof v}`;
}

export interface Where {
  file: string;
  index: number;
  line: number;
  doc?: ParsedDocument;
}

/**
 * One case from its parsed value; `node` (when known) gives every field's line. Defaults
 * fill the settings a case leaves out. `keys`: the keys a case may have (an answer key's
 * problems have no expect: but parts:).
 */
export function toCase(
  raw: unknown,
  node: PosNode | undefined,
  defaults: Record<string, unknown>,
  defaultsNode: PosNode | undefined,
  w: Where,
  keys: string[] = CASE_KEYS,
): CaseSpec {
  const spec: CaseSpec = {
    file: w.file,
    index: w.index,
    name: `case ${w.index + 1}`,
    line: w.line,
    f: '',
    at: Object.create(null),
    atText: [],
    random: true,
    ranges: Object.create(null),
    pos: Object.create(null),
  };
  const problem = (key: string, message: string, hint?: string): CaseSpec => {
    spec.problem ??= { key, message, hint };
    return spec;
  };
  if (!isPlainObject(raw)) return problem('', `a case should be a mapping with at least f: (the formula), not ${describe(raw)}`);
  // positions: of the defaults first, so a case's own fields win
  recordPositions(defaultsNode, '', spec.pos, w.doc);
  recordPositions(node, '', spec.pos, w.doc);
  // names are data: a key __proto__ or constructor is an entry like any other
  const c = Object.assign(Object.create(null), defaults, raw) as Record<string, unknown>;

  for (const k of Object.keys(raw)) {
    if (!keys.includes(k)) {
      const near = closest(k, keys);
      problem(k, `unknown key ${shortName(k)}:`, near ? `did you mean ${near}:?` : `a case has ${keys.join(', ')}`);
    }
  }
  if (raw.name !== undefined) spec.name = String(raw.name);
  if (typeof c.f !== 'string' && typeof c.f !== 'number')
    return problem('f', raw.f === undefined ? 'the case has no f: (the formula to check)' : `f: should be a formula, not ${describe(c.f)}`);
  spec.f = String(c.f);
  if (raw.name === undefined) spec.name = spec.f;
  formulaPos(node, ['f'], c.f, spec.pos, 'f', w.doc);

  // values: a mapping of fixed values, a --at style string, or random
  if (c.at === undefined || c.at === 'random') spec.random = true;
  else if (typeof c.at === 'string') {
    spec.random = false;
    spec.atText = [c.at];
  } else if (isPlainObject(c.at)) {
    spec.random = false;
    for (const [k, v] of Object.entries(c.at)) {
      if (!isRawValue(v))
        return problem(
          `at.${k}`,
          `at: ${shortName(k)} should be a number, a (nested) list of numbers, or a constant expression like "pi" or "randn(3,4)", not ${describeValue(v)}`,
        );
      spec.at[k] = v;
    }
  } else return problem('at', `at: should be a mapping of values, "random", or a string like "x=1,y=2", not ${describe(c.at)}`);
  if (c.ranges !== undefined) {
    if (!isPlainObject(c.ranges)) return problem('ranges', `ranges: should map variables to [low, high], like { x: [-3, 3] }, not ${describe(c.ranges)}`);
    for (const [k, v] of Object.entries(c.ranges)) {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(v[0] < v[1])) {
        return problem(`ranges.${k}`, `ranges: ${shortName(k)} should be [low, high] with low < high, not ${shown(v)}`);
      }
      spec.ranges[k] = [v[0], v[1]];
    }
    spec.random = true;
  }

  if (c.samples !== undefined) {
    if (!Number.isInteger(c.samples) || (c.samples as number) < 1 || (c.samples as number) > MAX_SAMPLES)
      return problem('samples', `samples: should be a whole number from 1 to ${MAX_SAMPLES}, not ${shown(c.samples)}`);
    spec.samples = c.samples as number;
  }
  if (c.points !== undefined) {
    const v = c.points;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_POINTS)
      return problem(
        'points',
        `points: (grade points) should be a number from 0 to ${MAX_POINTS}, not ${shown(v)}`,
        'the number of random evaluation points is samples:',
      );
    spec.points = v;
  }
  if (c.min_digits !== undefined) {
    if (!Number.isInteger(c.min_digits) || (c.min_digits as number) < 1 || (c.min_digits as number) > 17)
      return problem('min_digits', `min_digits: should be a whole number from 1 to 17, not ${shown(c.min_digits)}`);
    spec.minDigits = c.min_digits as number;
  }
  const policy = readPolicy(c, spec);
  if (policy) return problem(policy.key, policy.message, policy.hint);
  if (c.wrt !== undefined) {
    const list =
      typeof c.wrt === 'string'
        ? c.wrt
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : c.wrt;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string'))
      return problem('wrt', `wrt: should be a list of variable names, not ${describe(c.wrt)}`);
    spec.wrt = list as string[];
  }
  for (const k of ['rtol', 'atol', 'eps'] as const) {
    if (c[k] === undefined) continue;
    const v = c[k];
    // .inf and .nan are numbers in YAML: a tolerance must be a finite one, and a step positive
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (k === 'eps' && v <= 0)) {
      return problem(k, `${k}: should be a ${k === 'eps' ? 'positive' : 'non-negative'} finite number, not ${typeof v === 'number' ? String(v) : shown(v)}`);
    }
    if (k === 'eps' && v > 0.1) return problem(k, `eps: ${v} is not a small step; it should be at most 0.1`);
    spec[k] = v;
  }
  if (c.method !== undefined) {
    if (c.method !== 'central' && c.method !== 'richardson') return problem('method', `method: should be central or richardson, not ${shown(c.method)}`);
    spec.method = c.method;
  }
  if (c.seed !== undefined) {
    if (!Number.isSafeInteger(c.seed)) return problem('seed', `seed: should be a whole number, not ${shown(c.seed)}`);
    spec.seed = c.seed as number;
  }
  if (c.order !== undefined) {
    if (c.order !== 1 && c.order !== 2)
      return problem(
        'order',
        `order: should be 1 or 2, not ${shown(c.order)}`,
        'order: 2 also checks the second derivatives (Hessian-vector products against differences of the gradient)',
      );
    spec.order = c.order;
  }

  if (c.expect !== undefined) {
    const bad = readAnswers(c.expect, node?.entries?.get('expect')?.value, 'expect', spec, w.doc);
    if (bad) return problem(bad.key, bad.message, bad.hint);
  }
  return spec;
}

/** The words each choice of a policy key may be, the first its default, and what it means. */
const POLICY_CHOICES = {
  partial: { values: ['none', 'entries'], hint: 'partial: entries gives a tensor part the share of its entries that are right' },
  layout: { values: ['either', 'strict'], hint: "either (the default) accepts a vector's gradient as a row or a column; strict only as a column" },
} as const;

/** min_decimals:, partial:, layout: into the spec; what is wrong with them, if anything. */
function readPolicy(c: Record<string, unknown>, spec: CaseSpec): { key: string; message: string; hint?: string } | null {
  if (c.min_decimals !== undefined) {
    if (!Number.isInteger(c.min_decimals) || (c.min_decimals as number) < 0 || (c.min_decimals as number) > 17)
      return { key: 'min_decimals', message: `min_decimals: should be a whole number from 0 to 17, not ${shown(c.min_decimals)}` };
    spec.minDecimals = c.min_decimals as number;
  }
  for (const key of ['partial', 'layout'] as const) {
    const { values, hint } = POLICY_CHOICES[key];
    if (c[key] === undefined) continue;
    if (!(values as readonly unknown[]).includes(c[key]))
      return { key, message: `${key}: should be ${[...values].reverse().join(' or ')}, not ${shown(c[key])}`, hint };
  }
  if (c.partial === 'entries') spec.partial = 'entries';
  if (c.layout !== undefined) spec.layout = c.layout as 'strict' | 'either';
  return null;
}

/**
 * Answers under `prefix` (`expect` of a case, a problem of a submission): value:,
 * gradient: and steps:, each a number, (nested) list or formula. Numbers keep the text
 * they were written with. Fills `spec.expect` and the fields' positions; returns what is
 * wrong with them, if anything.
 */
export function readAnswers(
  raw: unknown,
  node: PosNode | undefined,
  prefix: string,
  spec: CaseSpec,
  doc: ParsedDocument | undefined,
): { key: string; message: string; hint?: string } | null {
  if (!isPlainObject(raw))
    return { key: prefix, message: `${prefix}: should be a mapping with value:, gradient:, steps:, hessian: and/or jacobian:, not ${describe(raw)}` };
  for (const k of Object.keys(raw)) {
    if (!EXPECT_KEYS.includes(k)) {
      const near = closest(k, EXPECT_KEYS);
      return {
        key: `${prefix}.${k}`,
        message: `unknown key ${prefix}.${shortName(k)}:`,
        hint: near ? `did you mean ${near}:?` : `${prefix}: has value:, gradient:, steps:, hessian: and jacobian:`,
      };
    }
  }
  const out = (spec.expect = Object.create(null) as NonNullable<CaseSpec['expect']>);
  const at = (...path: string[]) => {
    let n: PosNode | undefined = node;
    for (const p of path) n = n?.entries?.get(p)?.value;
    return n;
  };
  const place = (key: string, v: RawExpected, path: string[]) => formulaPos(at(...path), [], v, spec.pos, key, doc);
  if (raw.value !== undefined) {
    if (!isRawValue(raw.value)) return { key: `${prefix}.value`, message: `${prefix}.value: should be a number or a formula, not ${describe(raw.value)}` };
    out.value = written(raw.value, at('value'));
    place(`${prefix}.value`, out.value, ['value']);
  }
  for (const part of ['gradient', 'steps', 'jacobian'] as const) {
    const m = raw[part];
    if (m === undefined) continue;
    const like =
      part === 'gradient'
        ? 'variables and named steps to their partial derivatives, like { x: -4, y: "sin(x)" }'
        : part === 'jacobian'
          ? 'variables to the Jacobian of a vector f, like { z: "diag(softmax(z)) - softmax(z)*softmax(z)\'" }'
          : 'named steps to their values, like { q: 3 }';
    if (!isPlainObject(m)) return { key: `${prefix}.${part}`, message: `${prefix}.${part}: should map ${like}, not ${describe(m)}` };
    const table = (out[part] = Object.create(null) as Record<string, RawExpected>);
    for (const [k, v] of Object.entries(m)) {
      const key = `${prefix}.${part}.${k}`;
      if (!isRawValue(v))
        return { key, message: `${prefix}.${part}.${shortName(k)}: should be a number, a (nested) list of numbers, or a formula, not ${describeValue(v)}` };
      table[k] = written(v, at(part, k));
      place(key, table[k], [part, k]);
    }
  }
  if (raw.hessian !== undefined) {
    const m = raw.hessian;
    const like = 'pairs of variables to second derivatives, like { x: { y: 2 } } for ∂²f/∂x∂y';
    if (!isPlainObject(m)) return { key: `${prefix}.hessian`, message: `${prefix}.hessian: should map ${like}, not ${describe(m)}` };
    const table = (out.hessian = Object.create(null) as Record<string, Record<string, RawExpected>>);
    for (const [x, row] of Object.entries(m)) {
      if (!isPlainObject(row))
        return {
          key: `${prefix}.hessian.${x}`,
          message: `${prefix}.hessian.${shortName(x)}: should map variables to ∂²f/∂${shortName(x)}∂(that variable), like { ${shortName(x)}: 2 }, not ${describe(row)}`,
        };
      const inner = (table[x] = Object.create(null) as Record<string, RawExpected>);
      for (const [y, v] of Object.entries(row)) {
        const key = `${prefix}.hessian.${x}.${y}`;
        if (!isRawValue(v))
          return {
            key,
            message: `${prefix}.hessian.${shortName(x)}.${shortName(y)}: should be a number, a (nested) list of numbers, or a formula, not ${describeValue(v)}`,
          };
        inner[y] = written(v, at('hessian', x, y));
        place(key, inner[y], ['hessian', x, y]);
      }
    }
  }
  return null;
}

/** An answer with its numbers as the text they were written with (`-0.1970`), where the document kept it. */
function written(v: RawValue, node: PosNode | undefined): RawExpected {
  if (typeof v === 'number') return node?.source !== undefined && isDecimal(node.source) ? node.source.trim() : v;
  if (Array.isArray(v)) return v.map((x, i) => written(x, node?.items?.length === v.length ? node.items[i] : undefined));
  return v;
}

/** What a value that is not a number, a vector, a matrix or a string is, in words. */
function describeValue(v: unknown): string {
  if (!Array.isArray(v)) return describe(v);
  if (v.length === 0) return 'an empty list';
  let depth = 0;
  for (let x: unknown = v; Array.isArray(x) && depth < 4; x = x[0]) depth++;
  if (depth > 2) return `a list nested ${depth > 3 ? 'more than 3' : depth} levels deep (a vector is [1, 2], a matrix [[1, 2], [3, 4]])`;
  const odd = (v as unknown[]).flat().find((x) => typeof x !== 'number' && typeof x !== 'string');
  return odd === undefined ? 'a list with an empty row' : `a list holding ${describe(odd)}`;
}

/** A number, a string, or lists of them nested no deeper than a matrix (values have rank ≤ 2). */
function isRawValue(v: unknown, depth = 0): v is RawValue {
  if (typeof v === 'number' || typeof v === 'string') return true;
  return depth < 2 && Array.isArray(v) && v.length > 0 && v.every((x) => isRawValue(x, depth + 1));
}

/** The line of every field (and of every entry of a mapping field) under `prefix`. */
function recordPositions(node: PosNode | undefined, prefix: string, pos: Record<string, Pos>, doc: ParsedDocument | undefined, depth = 0): void {
  if (!node?.entries || !doc || depth > 3) return;
  for (const [k, { key, value }] of node.entries) {
    const path = prefix ? `${prefix}.${k}` : k;
    pos[path] = { line: doc.at(key.start).line };
    recordPositions(value, path, pos, doc, depth + 1);
  }
}

/** For a formula given as a string, the column where its text starts (so a caret can point into the file). */
function formulaPos(node: PosNode | undefined, path: string[], v: unknown, pos: Record<string, Pos>, key: string, doc: ParsedDocument | undefined): void {
  if (!node || !doc || typeof v !== 'string') return;
  let n: PosNode | undefined = node;
  for (const p of path) n = n?.entries?.get(p)?.value;
  if (!n) return;
  const p = doc.at(n.start);
  if (n.textStart !== undefined && !v.includes('\n')) pos[key] = { line: p.line, col: doc.at(n.textStart).col };
  else pos[key] = { line: p.line };
}

export interface InlineOptions {
  at?: string[];
  ranges?: Record<string, [number, number]>;
  expect?: Record<string, RawExpected>;
  expectValue?: RawExpected;
  /** expected values of named steps */
  expectSteps?: Record<string, RawExpected>;
  /** a vector f's expected Jacobians, by variable */
  expectJacobian?: Record<string, RawExpected>;
  samples?: number;
  wrt?: string[];
}

/** The one case given on the command line. */
export function inlineCase(f: string, o: InlineOptions): CaseSpec {
  const hasRanges = o.ranges && Object.keys(o.ranges).length > 0;
  return {
    file: '<inline>',
    index: 0,
    name: f,
    line: 1,
    f,
    at: Object.create(null),
    atText: o.at ?? [],
    random: hasRanges || !o.at?.length,
    ranges: o.ranges ?? Object.create(null),
    samples: o.samples,
    wrt: o.wrt,
    expect:
      o.expect || o.expectValue !== undefined || o.expectSteps || o.expectJacobian
        ? { gradient: o.expect, value: o.expectValue, steps: o.expectSteps, ...(o.expectJacobian ? { jacobian: o.expectJacobian } : {}) }
        : undefined,
    pos: Object.assign(Object.create(null), { f: { line: 1, col: 1 } }),
  };
}
