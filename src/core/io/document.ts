import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node as YamlNode } from 'yaml';
import { AgError } from '../errors.js';
import { shorten as shortenText } from '../safe-text.js';
import type { Limits } from '../limits.js';
import { readStdinBounded, readTextBounded } from './read.js';
import type { FileScope } from './scope.js';
import { parsePlainYaml, type PosNode } from './plain-yaml.js';

export type { PosNode };

/**
 * The door for YAML and JSON documents from untrusted hands: case files today, answer
 * keys and student submissions next. One way in, the same everywhere: the file
 * through the bounded reader, a size cap (parsed documents take hundreds of times
 * their size in memory), alias expansion capped, duplicate keys refused (in JSON too),
 * mappings as null-prototype objects (a key `__proto__` or `constructor` is data), and
 * the place of every node kept for `file:line:col` messages. Errors never quote the
 * document's text; the offending line is shown only of a file the user named on the
 * command line (`showLines`); of any other file (a submission, a file found in a folder)
 * a message says where, never what is there.
 */

export interface ParsedDocument {
  file: string;
  text: string;
  /** the data: numbers, strings, booleans, null, arrays, null-prototype objects */
  value: unknown;
  root: PosNode | null;
  /** 1-based line and column of an offset (the first non-blank character at or after it) */
  at(offset: number): { line: number; col: number };
  /** the text of a 1-based line */
  line(n: number): string;
}

/** A document that cannot be read or parsed: the message starts with `file:line:col:` where known. */
export class DocumentError extends AgError {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly col?: number,
    /** the offending line of the file, for a caret under column `col` */
    lineText?: string,
    code?: 'io' | 'syntax' | 'limit',
  ) {
    super(code ?? (line === undefined ? 'io' : 'syntax'), `${file}${line !== undefined ? `:${line}${col !== undefined ? `:${col}` : ''}` : ''}: ${message}`, {
      ...(lineText !== undefined && col !== undefined ? { source: lineText, span: { start: col - 1, end: col } } : {}),
    });
  }
}

/** Aliases one document may expand (the `yaml` package's count: aliases times the aliases inside what they name). */
export const MAX_ALIAS_COUNT = 100;

export type DocumentFormat = 'yaml' | 'json';

export interface DocumentOptions {
  limits: Limits;
  scope?: FileScope;
  /** yaml or json (default: from the extension, .json is JSON) */
  format?: DocumentFormat;
  /** show the offending line in syntax errors, and quote it in hints (only for a file the user named on the command line, and only when standard error is a terminal) */
  showLines?: boolean;
  /** the folder tree the file was found in: no symlink may lead out of it (see ReadOptions) */
  tree?: string;
  /** what the document is, for messages (default `the case file`) */
  what?: string;
}

export function formatOf(file: string): DocumentFormat {
  return /\.json$/i.test(file) ? 'json' : 'yaml';
}

/** What standard input (`-` on the command line) is called in messages and reports. */
export const STDIN_NAME = '<stdin>';

/** Read and parse a YAML or JSON document through the bounded reader; `-` is standard input (YAML, which reads JSON too). */
export function readDocument(ref: string, o: DocumentOptions): ParsedDocument {
  const stdin = ref === '-';
  const name = stdin ? STDIN_NAME : ref;
  const bounds = { maxBytes: Math.min(o.limits.maxDocumentBytes, o.limits.maxFileBytes), limitFlag: '--max-document-size' };
  let text: string;
  try {
    text = stdin ? readStdinBounded(bounds) : readTextBounded(ref, { ...bounds, scope: o.scope, tree: o.tree });
  } catch (e) {
    if (e instanceof AgError)
      throw new DocumentError(
        name,
        e.message.replace(/^cannot read [^:]*: /, 'cannot read it: '),
        undefined,
        undefined,
        undefined,
        e.code === 'limit' ? 'limit' : 'io',
      );
    throw e;
  }
  // a line is shown only to the person at the terminal: what goes to a log, a pipe or a file never quotes a file
  const showLines = (o.showLines ?? false) && process.stderr.isTTY === true;
  return parseDocumentText(text, name, { format: stdin ? 'yaml' : (o.format ?? formatOf(ref)), showLines, what: o.what });
}

/** Parse a document's text (see readDocument). */
export function parseDocumentText(
  text: string,
  file: string,
  o: {
    format: DocumentFormat;
    showLines?: boolean;
    what?: string /** false: YAML always through the yaml package, never the plain reader (tests compare the two) */;
    plainYaml?: boolean;
  },
): ParsedDocument {
  const what = o.what ?? 'the case file';
  // a file the user did not name may hold anything (a token, a key): its messages say where, never what
  const quote = o.showLines !== false;
  const lines = new Lines(text);
  const fail = (message: string, offset?: number): DocumentError => {
    if (offset === undefined) return new DocumentError(file, message, 1);
    const p = lines.position(Math.min(offset, text.length));
    return new DocumentError(file, message, p.line, p.col, quote ? lines.text(p.line) : undefined);
  };
  // most YAML documents are plain (see plain-yaml.ts) and read in a few milliseconds; the rest go to the yaml package
  let doc: { value: unknown; root: PosNode | null };
  try {
    doc = o.format === 'json' ? parseJson(text, what, quote, fail) : (o.plainYaml !== false && parsePlainYaml(text)) || parseYaml(text, what, quote, fail);
  } catch (e) {
    // the parsers (and JSON.parse) recurse per level: thousands of nested brackets overflow the stack
    if (e instanceof RangeError) throw new DocumentError(file, tooDeep(what), undefined, undefined, undefined, 'limit');
    throw e;
  }
  return { file, text, value: doc.value, root: doc.root, at: (offset) => lines.at(offset), line: (n) => lines.text(n) };
}

function parseYaml(text: string, what: string, quote: boolean, fail: (m: string, offset?: number) => DocumentError): { value: unknown; root: PosNode | null } {
  const doc = parseDocument(text, { lineCounter: new LineCounter(), uniqueKeys: true, schema: 'core', merge: false, prettyErrors: false, strict: true });
  const err = doc.errors[0];
  if (err) {
    if (/call stack/i.test(err.message)) throw new RangeError(err.message);
    // the yaml package's messages can name what they met (`Unresolved tag: !…`, an alias's name): only its code, unless the file is the user's own
    const why =
      err.code === 'DUPLICATE_KEY'
        ? 'a key appears twice in one mapping'
        : quote
          ? sentence(err.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, ''))
          : codeWords(err.code);
    throw fail(`${what} is not valid YAML: ${why}${quote ? quoteHint(text, err.pos[0]) : ''}`, err.pos[0]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError || /alias/i.test((e as Error).message)) {
      throw new DocumentError(
        fail('').file,
        `the document expands too many aliases (more than ${MAX_ALIAS_COUNT}); aliases are capped so a small file cannot grow into a huge one`,
        undefined,
        undefined,
        undefined,
        'limit',
      );
    }
    throw e;
  }
  return { value: toPlain(value, new Map()), root: doc.contents ? yamlPos(doc.contents as YamlNode, text) : null };
}

const tooDeep = (what: string) =>
  `${what} nests too deeply to read: lists or mappings thousands of levels inside each other (a value is a number, a vector [..] or a matrix [[..]])`;

/**
 * A plain value YAML reads as syntax (`name: ||Wx||^2` starts a block scalar, `*x` an
 * alias, `@`, a backquote and `%` are reserved): the fix is quotes, so say which.
 */
function quoteHint(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
  const m = /^(\s*(?:-\s+)?[A-Za-z_][\w.-]*:\s+)([|>*&!%@\x60].*?)\s*$/.exec(line);
  if (!m || m[2].length > 80) return '';
  return `; a value that starts with ${m[2][0]} needs quotes: ${m[1].trim()} ${JSON.stringify(m[2])}`;
}

function yamlPos(n: YamlNode, text: string): PosNode {
  const start = n.range?.[0] ?? 0;
  if (isAlias(n)) return { start };
  if (isMap(n)) {
    const entries = new Map<string, { key: PosNode; value: PosNode }>();
    for (const pair of n.items) {
      const k = pair.key as YamlNode | null;
      if (!k || !isScalar(k)) continue;
      const keyPos: PosNode = { start: k.range?.[0] ?? start };
      entries.set(String(k.value), { key: keyPos, value: pair.value ? yamlPos(pair.value as YamlNode, text) : keyPos });
    }
    return { start, entries };
  }
  if (isSeq(n)) return { start, items: n.items.map((x) => yamlPos(x as YamlNode, text)) };
  if (isScalar(n) && typeof n.value === 'number' && n.range) return { start, source: text.slice(n.range[0], n.range[1]) };
  if (isScalar(n) && typeof n.value === 'string') {
    const quoted = n.type === Scalar.QUOTE_DOUBLE || n.type === Scalar.QUOTE_SINGLE;
    const from = quoted ? start + 1 : start;
    if ((quoted || n.type === Scalar.PLAIN) && text.startsWith(n.value, from)) return { start, textStart: from };
  }
  return { start };
}

/** A yaml package error code as words: `BAD_INDENT` → `bad indentation`. */
function codeWords(code: string): string {
  return YAML_CODE_WORDS[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

const YAML_CODE_WORDS: Record<string, string> = {
  BAD_INDENT: 'bad indentation',
  BAD_SCALAR_START: 'a value starts with a reserved character (@, `, %, |, >, *, &, !) and needs quotes',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTILINE_IMPLICIT_KEY: 'a key runs over more than one line',
  UNEXPECTED_TOKEN: 'something unexpected where a key or value should be',
  BLOCK_AS_IMPLICIT_KEY: 'a block used as a key',
  TAB_AS_INDENT: 'a tab used for indentation',
};

function parseJson(text: string, what: string, quote: boolean, fail: (m: string, offset?: number) => DocumentError): { value: unknown; root: PosNode | null } {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: true });
  if (errors.length) throw fail(`${what} is not valid JSON: ${jsonReason(printParseErrorCode(errors[0].error))}`, errors[0].offset);
  let value: unknown;
  try {
    value = text.trim() === '' ? null : JSON.parse(text);
  } catch {
    // what JSON.parse alone refuses; its message would quote the text
    throw fail(`${what} is not valid JSON`);
  }
  const root = tree ? jsonPos(tree, text, what, quote, fail) : null;
  return { value: toPlain(value, new Map()), root };
}

function jsonPos(n: JsonNode, text: string, what: string, quote: boolean, fail: (m: string, offset?: number) => DocumentError): PosNode {
  if (n.type === 'object') {
    const entries = new Map<string, { key: PosNode; value: PosNode }>();
    for (const prop of n.children ?? []) {
      const [k, v] = prop.children ?? [];
      if (!k) continue;
      const name = String(k.value);
      if (entries.has(name))
        throw fail(`${what} is not valid JSON: ${quote ? `the key ${JSON.stringify(shorten(name))}` : 'a key'} appears twice in one object`, k.offset);
      const keyPos: PosNode = { start: k.offset };
      entries.set(name, { key: keyPos, value: v ? jsonPos(v, text, what, quote, fail) : keyPos });
    }
    return { start: n.offset, entries };
  }
  if (n.type === 'array') return { start: n.offset, items: (n.children ?? []).map((c) => jsonPos(c, text, what, quote, fail)) };
  if (n.type === 'string' && text.startsWith(String(n.value), n.offset + 1)) return { start: n.offset, textStart: n.offset + 1 };
  if (n.type === 'number') return { start: n.offset, source: text.slice(n.offset, n.offset + n.length) };
  return { start: n.offset };
}

/** jsonc-parser's error codes as words: `CommaExpected` → `a comma expected`. */
function jsonReason(code: string): string {
  const words = code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words
    .replace(/ expected$/, ' is expected')
    .replace(/^(comma|colon|value|property name|close brace|close bracket|end of file) is/, (m) => `a ${m}`.replace('a end', 'the end'));
}

/** Data with every mapping a null-prototype object (shared nodes stay shared: aliases do not multiply). */
function toPlain(v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const hit = seen.get(v);
  if (hit !== undefined) return hit;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(toPlain(x, seen));
    return out;
  }
  const out: Record<string, unknown> = Object.create(null);
  seen.set(v, out);
  const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v);
  for (const [k, x] of entries) out[k] = toPlain(x, seen);
  return out;
}

/**
 * A JSON object of values (`{"x": 1.5, "W": [[1,2],[3,4]]}`), the fast way for large
 * value files: JSON.parse, and a scan of the top level for a name given twice.
 * Errors never quote the text.
 */
export function parseJsonValues(text: string, file: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    const at = /at position (\d+)/.exec((e as Error).message)?.[1];
    const where =
      at === undefined
        ? ''
        : (() => {
            const p = new Lines(text).position(Number(at));
            return ` (line ${p.line}, column ${p.col})`;
          })();
    throw new AgError('bad-value', `${file} is not valid JSON${where}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new AgError('bad-value', `${file} must hold an object like {"x": 1.5, "W": [[1,2],[3,4]]}`);
  }
  const twice = repeatedTopLevelKey(text);
  if (twice !== null) throw new AgError('bad-value', `${file}: the name ${JSON.stringify(shorten(twice))} is given twice`);
  return toPlain(obj, new Map()) as Record<string, unknown>;
}

/** The first key that appears twice at the top level of a valid JSON object text, or null. */
function repeatedTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 /* \ */ ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 125 || c === 93) depth--;
    else if (c === 44 /* , */ && depth === 1) expectKey = true;
  }
  return null;
}

function shorten(s: string): string {
  return shortenText(s, 40, 'end');
}

function sentence(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1).replace(/\.$/, '');
}

/** Line starts of a text, for offsets → 1-based line and column. */
class Lines {
  private starts: number[] = [0];
  constructor(private src: string) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo] + 1 };
  }

  at(offset: number): { line: number; col: number } {
    while (offset < this.src.length && /[ \t\r\n]/.test(this.src[offset])) offset++;
    return this.position(offset);
  }

  text(line: number): string {
    const s = this.starts[line - 1] ?? this.src.length;
    const e = this.starts[line] ?? this.src.length + 1;
    return this.src.slice(s, e - 1).replace(/\r$/, '');
  }
}
