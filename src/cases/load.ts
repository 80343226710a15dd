import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import yaml from 'js-yaml';
import { AgError } from '../errors.js';
import { closest } from '../graph/suggest.js';
import type { FdMethod } from '../check/fd.js';

/**
 * Check cases as they come from a YAML/JSON file (or the command line): plain data,
 * so they cross into worker threads as they are, with the line of every field kept
 * for messages ("cases.yaml:12") and annotations. Nothing is evaluated here; a case
 * whose shape is wrong carries a `problem`, which the run reports as that case's error.
 */

/** Where something is in the case file: 1-based line, and the column where a formula's text starts when it can be known. */
export interface Pos {
  line: number;
  col?: number;
}

/** A value as a case gives it: a number, nested arrays, or a constant expression (`pi`, `randn(3,4)`). */
export type RawValue = number | RawValue[] | string;

/** An expected value or gradient entry: numbers/arrays, or a formula in the variables (a hand-derived answer). */
export type RawExpected = number | RawExpected[] | string;

export interface CaseSpec {
  /** the file as given on the command line, or `<inline>` */
  file: string;
  /** position in its file (0-based) */
  index: number;
  name: string;
  /** line of the case (its first key) */
  line: number;
  f: string;
  /** fixed values (may be random expressions, redrawn at every point) */
  at: Record<string, RawValue>;
  /** values in `--at` syntax (`x=pi,y=2`, `@values.json`), also redrawn at every point */
  atText: string[];
  /** true when variables without a fixed value are drawn at random (`at: random`, `ranges:`, or no `at`) */
  random: boolean;
  ranges: Record<string, [number, number]>;
  points?: number;
  wrt?: string[];
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: FdMethod;
  seed?: number;
  expect?: { value?: RawExpected; gradient?: Record<string, RawExpected> };
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
export class CaseFileError extends AgError {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly col?: number,
    /** the offending line of the file, for a caret under column `col` */
    lineText?: string,
  ) {
    super(line === undefined ? 'io' : 'syntax', `${file}${line !== undefined ? `:${line}${col !== undefined ? `:${col}` : ''}` : ''}: ${message}`, {
      ...(lineText !== undefined && col !== undefined ? { source: lineText, span: { start: col - 1, end: col } } : {}),
    });
  }
}

const CASE_KEYS = ['name', 'f', 'at', 'ranges', 'points', 'wrt', 'rtol', 'atol', 'eps', 'method', 'seed', 'expect'];
const DEFAULT_KEYS = CASE_KEYS.filter((k) => !['name', 'f', 'expect'].includes(k));
const EXPECT_KEYS = ['value', 'gradient'];

/** The case files named by `paths`: files as they are, folders searched for *.yaml, *.yml, *.json (sorted). */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p); // reported as unreadable when loaded
      continue;
    }
    if (!st.isDirectory()) {
      out.push(p);
      continue;
    }
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.(ya?ml|json)$/i.test(name)) out.push(full);
      }
    };
    walk(p);
  }
  return out;
}

/** Read and parse one case file. Throws AgError ('io' or 'syntax', message prefixed by file:line) when it cannot. */
export function loadCaseFile(file: string): CaseFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CaseFileError(file, `cannot read it: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`);
  }
  return parseCases(text, file);
}

/** A node of the parsed document with its place in the text (from js-yaml's parse events). */
interface YNode {
  start: number;
  kind?: string;
  value: unknown;
  children: YNode[];
}

/** Parse YAML (or JSON, which js-yaml reads too) keeping where every node starts. */
function parseTree(text: string, file: string): YNode | null {
  const stack: YNode[] = [{ start: 0, value: undefined, children: [] }];
  try {
    yaml.load(text, {
      filename: file,
      schema: yaml.CORE_SCHEMA,
      json: extname(file).toLowerCase() === '.json',
      listener(type, state) {
        if (type === 'open') stack.push({ start: state.position, value: undefined, children: [] });
        else {
          const n = stack.pop()!;
          n.kind = state.kind;
          n.value = state.result;
          stack[stack.length - 1].children.push(n);
        }
      },
    });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      // js-yaml reads the text with a line break added: an error at the end is placed after the last line
      const rows = text.replace(/\r?\n$/, '').split(/\r?\n/);
      const m = e.mark;
      const line = m ? Math.min(m.line, rows.length - 1) : 0;
      const col = m ? (m.line === line ? m.column : rows[line].length) + 1 : undefined;
      throw new CaseFileError(file, `the case file is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${e.reason}`, line + 1, col, rows[line]);
    }
    throw e;
  }
  const root = stack[0].children[0];
  return root ? unwrap(root) : null;
}

/** js-yaml reports a flow collection inside a block one twice (a wrapper and the node): keep the inner one. */
function unwrap(n: YNode): YNode {
  while (n.children.length === 1 && n.children[0].value === n.value && n.kind !== 'scalar') n = n.children[0];
  n.children = n.children.map(unwrap);
  return n;
}

/** The key and value nodes of a mapping, when the parse events line up with its entries (else null). */
function entries(n: YNode): Map<string, { key: YNode; value: YNode }> | null {
  const obj = n.value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const ch = n.children;
  if (ch.length !== 2 * keys.length) return null;
  const out = new Map<string, { key: YNode; value: YNode }>();
  for (let i = 0; i < keys.length; i++) {
    if (String(ch[2 * i].value) !== keys[i]) return null;
    out.set(keys[i], { key: ch[2 * i], value: ch[2 * i + 1] });
  }
  return out;
}

class Lines {
  private starts: number[] = [0];
  constructor(private text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }

  /** 1-based line and column of the first non-blank character at or after `offset`. */
  at(offset: number): { line: number; col: number } {
    while (offset < this.text.length && /[ \t\r\n]/.test(this.text[offset])) offset++;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo] + 1 };
  }

  /** Where a string value's text starts, when it is written plainly or in quotes without escapes on one line. */
  formula(node: YNode, value: string): Pos {
    const p = this.at(node.start);
    let o = this.starts[p.line - 1] + p.col - 1;
    if (this.text[o] === '"' || this.text[o] === "'") o++;
    return this.text.startsWith(value, o) && !value.includes('\n') ? { line: p.line, col: o - this.starts[p.line - 1] + 1 } : { line: p.line };
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Cases from the text of a case file: a list of cases, or `{defaults: {...}, cases: [...]}`. */
export function parseCases(text: string, file: string): CaseFile {
  const root = parseTree(text, file);
  const lines = new Lines(text);
  if (!root || root.value === null || root.value === undefined) throw new CaseFileError(file, 'the file holds no cases; it should be a list of cases like "- f: (x + y) * z"', 1);
  let list: YNode = root;
  let defaults: Record<string, unknown> = {};
  let defaultsNode: YNode | undefined;
  if (isPlainObject(root.value)) {
    const e = entries(root);
    const extra = Object.keys(root.value).filter((k) => k !== 'cases' && k !== 'defaults');
    if (!('cases' in root.value) || !e || extra.length) {
      throw new CaseFileError(file, `the file should be a list of cases, or a mapping with cases: (and optionally defaults:)${extra.length ? `; unexpected ${extra.map((k) => `${k}:`).join(', ')}` : ''}`, lines.at(root.start).line);
    }
    list = e.get('cases')!.value;
    if (e.has('defaults')) {
      defaultsNode = e.get('defaults')!.value;
      if (!isPlainObject(defaultsNode.value)) throw new CaseFileError(file, 'defaults: should be a mapping of case settings (rtol, atol, method, seed, points, …)', lines.at(defaultsNode.start).line);
      defaults = defaultsNode.value;
      const bad = Object.keys(defaults).filter((k) => !DEFAULT_KEYS.includes(k));
      if (bad.length) throw new CaseFileError(file, `defaults: cannot set ${bad.join(', ')} (it can set ${DEFAULT_KEYS.join(', ')})`, lines.at(defaultsNode.start).line);
    }
  }
  if (!Array.isArray(list.value)) {
    throw new CaseFileError(file, `expected a list of cases (each starting with "- "), found ${describe(list.value)}`, lines.at(list.start).line);
  }
  if (list.value.length === 0) throw new CaseFileError(file, 'the list of cases is empty', lines.at(list.start).line);
  const items = list.children.length === list.value.length ? list.children : null;
  const cases = list.value.map((raw, i) => {
    const node = items?.[i];
    const line = node ? lines.at(node.start).line : lines.at(list.start).line;
    return toCase(raw, node, defaults, defaultsNode, { file, index: i, line, lines });
  });
  return { file, cases };
}

function describe(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

interface Where {
  file: string;
  index: number;
  line: number;
  lines?: Lines;
}

/**
 * One case from its parsed value; `node` (when known) gives every field's line. Defaults
 * fill the settings a case leaves out.
 */
function toCase(raw: unknown, node: YNode | undefined, defaults: Record<string, unknown>, defaultsNode: YNode | undefined, w: Where): CaseSpec {
  const spec: CaseSpec = { file: w.file, index: w.index, name: `case ${w.index + 1}`, line: w.line, f: '', at: {}, atText: [], random: true, ranges: {}, pos: {} };
  const problem = (key: string, message: string, hint?: string): CaseSpec => {
    spec.problem ??= { key, message, hint };
    return spec;
  };
  if (!isPlainObject(raw)) return problem('', `a case should be a mapping with at least f: (the formula), not ${describe(raw)}`);
  // positions: of the defaults first, so a case's own fields win
  recordPositions(defaultsNode, '', spec.pos, w.lines);
  recordPositions(node, '', spec.pos, w.lines);
  const c = { ...defaults, ...raw } as Record<string, unknown>;

  for (const k of Object.keys(raw)) {
    if (!CASE_KEYS.includes(k)) {
      const near = closest(k, CASE_KEYS);
      problem(k, `unknown key ${k}:`, near ? `did you mean ${near}:?` : `a case has ${CASE_KEYS.join(', ')}`);
    }
  }
  if (raw.name !== undefined) spec.name = String(raw.name);
  if (typeof c.f !== 'string' && typeof c.f !== 'number') return problem('f', raw.f === undefined ? 'the case has no f: (the formula to check)' : `f: should be a formula, not ${describe(c.f)}`);
  spec.f = String(c.f);
  if (raw.name === undefined) spec.name = spec.f;
  formulaPos(node, ['f'], c.f, spec.pos, 'f', w.lines);

  // values: a mapping of fixed values, a --at style string, or random
  if (c.at === undefined || c.at === 'random') spec.random = true;
  else if (typeof c.at === 'string') {
    spec.random = false;
    spec.atText = [c.at];
  } else if (isPlainObject(c.at)) {
    spec.random = false;
    for (const [k, v] of Object.entries(c.at)) {
      if (!isRawValue(v)) return problem(`at.${k}`, `at: ${k} should be a number, a (nested) list of numbers, or a constant expression like "pi" or "randn(3,4)", not ${describe(v)}`);
      spec.at[k] = v;
    }
  } else return problem('at', `at: should be a mapping of values, "random", or a string like "x=1,y=2", not ${describe(c.at)}`);
  if (c.ranges !== undefined) {
    if (!isPlainObject(c.ranges)) return problem('ranges', `ranges: should map variables to [low, high], like { x: [-3, 3] }, not ${describe(c.ranges)}`);
    for (const [k, v] of Object.entries(c.ranges)) {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(v[0] < v[1])) {
        return problem(`ranges.${k}`, `ranges: ${k} should be [low, high] with low < high, not ${JSON.stringify(v)}`);
      }
      spec.ranges[k] = [v[0], v[1]];
    }
    spec.random = true;
  }

  if (c.points !== undefined) {
    if (!Number.isInteger(c.points) || (c.points as number) < 1 || (c.points as number) > 10000) return problem('points', `points: should be a whole number from 1 to 10000, not ${JSON.stringify(c.points)}`);
    spec.points = c.points as number;
  }
  if (c.wrt !== undefined) {
    const list = typeof c.wrt === 'string' ? c.wrt.split(',').map((s) => s.trim()).filter(Boolean) : c.wrt;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string')) return problem('wrt', `wrt: should be a list of variable names, not ${describe(c.wrt)}`);
    spec.wrt = list as string[];
  }
  for (const k of ['rtol', 'atol', 'eps'] as const) {
    if (c[k] === undefined) continue;
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || (c[k] as number) < 0) return problem(k, `${k}: should be a non-negative number, not ${JSON.stringify(c[k])}`);
    spec[k] = c[k] as number;
  }
  if (c.method !== undefined) {
    if (c.method !== 'central' && c.method !== 'richardson') return problem('method', `method: should be central or richardson, not ${JSON.stringify(c.method)}`);
    spec.method = c.method;
  }
  if (c.seed !== undefined) {
    if (!Number.isInteger(c.seed)) return problem('seed', `seed: should be a whole number, not ${JSON.stringify(c.seed)}`);
    spec.seed = c.seed as number;
  }

  if (c.expect !== undefined) {
    if (!isPlainObject(c.expect)) return problem('expect', `expect: should be a mapping with value: and/or gradient:, not ${describe(c.expect)}`);
    for (const k of Object.keys(c.expect)) {
      if (!EXPECT_KEYS.includes(k)) {
        const near = closest(k, EXPECT_KEYS);
        return problem(`expect.${k}`, `unknown key expect.${k}:`, near ? `did you mean ${near}:?` : 'expect: has value: and gradient:');
      }
    }
    spec.expect = {};
    const ev = c.expect.value;
    if (ev !== undefined) {
      if (!isRawValue(ev)) return problem('expect.value', `expect.value: should be a number or a formula, not ${describe(ev)}`);
      spec.expect.value = ev;
      formulaPos(node, ['expect', 'value'], ev, spec.pos, 'expect.value', w.lines);
    }
    const eg = c.expect.gradient;
    if (eg !== undefined) {
      if (!isPlainObject(eg)) return problem('expect.gradient', `expect.gradient: should map variables to their partial derivatives, like { x: -4, y: "sin(x)" }, not ${describe(eg)}`);
      spec.expect.gradient = {};
      for (const [k, v] of Object.entries(eg)) {
        if (!isRawValue(v)) return problem(`expect.gradient.${k}`, `expect.gradient.${k}: should be a number, a (nested) list of numbers, or a formula, not ${describe(v)}`);
        spec.expect.gradient[k] = v;
        formulaPos(node, ['expect', 'gradient', k], v, spec.pos, `expect.gradient.${k}`, w.lines);
      }
    }
  }
  return spec;
}

function isRawValue(v: unknown): v is RawValue {
  if (typeof v === 'number' || typeof v === 'string') return true;
  return Array.isArray(v) && v.length > 0 && v.every(isRawValue);
}

/** The line of every field (and of every entry of a mapping field) under `prefix`. */
function recordPositions(node: YNode | undefined, prefix: string, pos: Record<string, Pos>, lines: Lines | undefined, depth = 0): void {
  if (!node || !lines || !isPlainObject(node.value) || depth > 3) return;
  const e = entries(node);
  if (!e) return;
  for (const [k, { key, value }] of e) {
    const path = prefix ? `${prefix}.${k}` : k;
    pos[path] = { line: lines.at(key.start).line };
    recordPositions(value, path, pos, lines, depth + 1);
  }
}

/** For a formula given as a string, the column where its text starts (so a caret can point into the file). */
function formulaPos(node: YNode | undefined, path: string[], v: unknown, pos: Record<string, Pos>, key: string, lines: Lines | undefined): void {
  if (!node || !lines || typeof v !== 'string') return;
  let n: YNode | undefined = node;
  for (const p of path) n = n && isPlainObject(n.value) ? entries(n)?.get(p)?.value : undefined;
  if (n) pos[key] = lines.formula(n, v);
}

export interface InlineOptions {
  at?: string[];
  ranges?: Record<string, [number, number]>;
  expect?: Record<string, RawExpected>;
  expectValue?: RawExpected;
  points?: number;
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
    at: {},
    atText: o.at ?? [],
    random: hasRanges || !o.at?.length,
    ranges: o.ranges ?? {},
    points: o.points,
    wrt: o.wrt,
    expect: o.expect || o.expectValue !== undefined ? { gradient: o.expect, value: o.expectValue } : undefined,
    pos: { f: { line: 1, col: 1 } },
  };
}
