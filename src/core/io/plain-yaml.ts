/** Where a node is in the text, and what is under it. */
export interface PosNode {
  /** offset of the node's first character */
  start: number;
  /** for a string written plainly, or quoted without escapes: the offset where its text starts */
  textStart?: number;
  /** for a number: its text as written (`-0.1970`, `1.2e-3`), so an answer keeps the digits it was given with */
  source?: string;
  /** a mapping's entries, by key */
  entries?: Map<string, { key: PosNode; value: PosNode }>;
  /** a list's items */
  items?: PosNode[];
}

/**
 * The plain YAML most case files, answer keys and submissions are written in, read
 * directly: block mappings and lists, keys that are words, one-line values (numbers,
 * words, formulas, quoted text without escapes, flow lists and mappings such as
 * `{ x: 1, y: [1, 2] }`), whole-line comments. On the 1000-case file of
 * bench/check-throughput.mjs (140 kB) the yaml package took 0.46–0.77 s and this reader
 * 0.06–0.10 s, in one process on this loaded machine. Anything else — anchors and aliases, tags, block scalars,
 * multi-line values, quoted keys, escapes, a key given twice, tabs, CRLF, several
 * documents, or text that is not valid YAML — gives null, and the caller parses the
 * text with the yaml package, whose errors, alias cap and duplicate-key check stand
 * as they are. Where it answers, it answers what the yaml package's core schema would
 * (test/io/plain-yaml.test.ts holds the two side by side).
 */
export function parsePlainYaml(text: string): { value: unknown; root: PosNode } | null {
  if (/[\t\r\uFEFF]/.test(text)) return null;
  const lines: Line[] = [];
  let from = 0;
  while (from <= text.length) {
    const nl = text.indexOf('\n', from);
    const end = nl < 0 ? text.length : nl;
    let off = from;
    while (off < end && text.charCodeAt(off) === 32) off++;
    const first = text[off];
    if (off < end && first !== '#') {
      // directives and document markers: leave them to the yaml package
      if (off === from && (first === '%' || text.startsWith('---', off) || text.startsWith('...', off))) return null;
      lines.push({ indent: off - from, off, end });
    }
    if (nl < 0) break;
    from = nl + 1;
  }
  if (!lines.length || lines[0].indent !== 0) return null;
  try {
    const p = new Reader(text, lines);
    const node = p.block(0);
    if (p.i !== lines.length) return null;
    return { value: node.value, root: node.pos };
  } catch (e) {
    if (e === OUTSIDE) return null;
    throw e;
  }
}

interface Line {
  indent: number;
  /** offset of the first character that is not a space */
  off: number;
  /** offset of the line's end (its newline, or the text's end) */
  end: number;
}

interface Parsed {
  value: unknown;
  pos: PosNode;
}

/** Thrown where the text leaves the plain subset. */
const OUTSIDE = Symbol('outside the plain subset');

const KEY = /[A-Za-z_][A-Za-z0-9_.-]*/y;
/** nesting this reader takes (lists and mappings, block and flow); deeper goes to the yaml package */
const MAX_DEPTH = 64;
/** the core schema's null and booleans: as keys the yaml package would not give the word */
const SPECIAL_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
/** characters a plain value may not start with (YAML's indicators) */
const INDICATOR = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

class Reader {
  i = 0;

  constructor(
    private readonly text: string,
    private readonly lines: Line[],
  ) {}

  /** A block node whose first line is line `this.i`, at its indent. */
  block(indent: number): Parsed {
    const line = this.lines[this.i];
    if (line.indent !== indent) throw OUTSIDE;
    this.deeper();
    const node = this.isDash(line.off, line.end) ? this.list(indent) : this.mapping(indent, line.off);
    this.depth--;
    return node;
  }

  private depth = 0;

  /** Deep nesting is the yaml package's to judge (and this reader's recursion stays shallow). */
  private deeper(): void {
    if (++this.depth > MAX_DEPTH) throw OUTSIDE;
  }

  private isDash(off: number, end: number): boolean {
    return this.text[off] === '-' && (off + 1 === end || this.text[off + 1] === ' ');
  }

  /** `- item` lines at `indent`. */
  private list(indent: number): Parsed {
    const value: unknown[] = [];
    const items: PosNode[] = [];
    const start = this.lines[this.i].off;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      // (a list that is a mapping's value may sit at the keys' column: the next key ends it)
      if (line.indent < indent || !this.isDash(line.off, line.end)) break;
      if (line.indent > indent) throw OUTSIDE;
      let at = line.off + 1;
      while (at < line.end && this.text.charCodeAt(at) === 32) at++;
      // `-` alone, or a list in a list on one line: the yaml package's
      if (at === line.end || this.isDash(at, line.end)) throw OUTSIDE;
      const item = this.startsEntry(at, line.end) ? this.mapping(at - line.off + indent, at) : this.lastOnLine(at);
      value.push(item.value);
      items.push(item.pos);
    }
    return { value, pos: { start, items } };
  }

  /** Whether `key:` starts at `at`. */
  private startsEntry(at: number, end: number): boolean {
    KEY.lastIndex = at;
    if (!KEY.test(this.text)) return false;
    const colon = KEY.lastIndex;
    return this.text[colon] === ':' && (colon + 1 === end || this.text[colon + 1] === ' ');
  }

  /** `key: value` entries at column `indent`, the first at offset `first` of line `this.i`. */
  private mapping(indent: number, first: number): Parsed {
    const value: Record<string, unknown> = Object.create(null);
    const entries = new Map<string, { key: PosNode; value: PosNode }>();
    let at = first;
    for (;;) {
      const line = this.lines[this.i];
      KEY.lastIndex = at;
      if (!KEY.test(this.text)) throw OUTSIDE;
      const colon = KEY.lastIndex;
      const key = this.text.slice(at, colon);
      if (this.text[colon] !== ':' || (colon + 1 < line.end && this.text[colon + 1] !== ' ')) throw OUTSIDE;
      // a key given twice is the yaml package's error to report
      if (SPECIAL_KEY.test(key) || entries.has(key)) throw OUTSIDE;
      let v = colon + 1;
      while (v < line.end && this.text.charCodeAt(v) === 32) v++;
      let node: Parsed;
      if (v === line.end) {
        // the value is the block below: more indented, or a list at the key's own column
        this.i++;
        const next = this.lines[this.i];
        if (!next || next.indent < indent || (next.indent === indent && !this.isDash(next.off, next.end))) throw OUTSIDE;
        node = this.block(next.indent);
      } else {
        node = this.lastOnLine(v);
      }
      value[key] = node.value;
      entries.set(key, { key: { start: at }, value: node.pos });
      const next = this.lines[this.i];
      if (!next || next.indent < indent) break;
      if (next.indent > indent || this.isDash(next.off, next.end)) throw OUTSIDE;
      at = next.off;
    }
    return { value, pos: { start: first, entries } };
  }

  /** A value that ends its line (line `this.i`, from offset `at`); moves to the next line. */
  private lastOnLine(at: number): Parsed {
    const line = this.lines[this.i];
    const c = this.text[at];
    let node: Parsed;
    let after: number;
    if (c === '[' || c === '{') {
      [node, after] = this.flow(at, line.end);
    } else if (c === '"' || c === "'") {
      [node, after] = this.quoted(at, line.end);
    } else {
      let end = line.end;
      while (this.text.charCodeAt(end - 1) === 32) end--;
      node = this.plain(at, end, false);
      after = end;
    }
    while (after < line.end && this.text.charCodeAt(after) === 32) after++;
    if (after !== line.end) throw OUTSIDE;
    // (a next line indented more than the entry or item continues the value: the callers refuse it)
    this.i++;
    return node;
  }

  /** `"text"` or `'text'` without escapes, on one line. */
  private quoted(at: number, end: number): [Parsed, number] {
    const q = this.text[at];
    const close = this.text.indexOf(q, at + 1);
    if (close < 0 || close >= end) throw OUTSIDE;
    const s = this.text.slice(at + 1, close);
    if (q === '"' && s.includes('\\')) throw OUTSIDE;
    // '' inside single quotes is an escaped quote: the next character would be a quote
    if (this.text[close + 1] === q) throw OUTSIDE;
    return [{ value: s, pos: { start: at, textStart: at + 1 } }, close + 1];
  }

  /** `[a, b]` and `{k: v}` on one line, nested. */
  private flow(at: number, end: number): [Parsed, number] {
    this.deeper();
    const open = this.text[at];
    const close = open === '[' ? ']' : '}';
    const list: unknown[] = [];
    const items: PosNode[] = [];
    const map: Record<string, unknown> = Object.create(null);
    const entries = new Map<string, { key: PosNode; value: PosNode }>();
    let p = this.skip(at + 1, end);
    if (this.text[p] === close) p++;
    else {
      for (;;) {
        let keyPos: PosNode | undefined;
        let key = '';
        if (open === '{') {
          KEY.lastIndex = p;
          if (!KEY.test(this.text)) throw OUTSIDE;
          key = this.text.slice(p, KEY.lastIndex);
          if (this.text[KEY.lastIndex] !== ':' || this.text[KEY.lastIndex + 1] !== ' ' || SPECIAL_KEY.test(key) || entries.has(key)) throw OUTSIDE;
          keyPos = { start: p };
          p = this.skip(KEY.lastIndex + 1, end);
        }
        let node: Parsed;
        const c = this.text[p];
        if (c === '[' || c === '{') [node, p] = this.flow(p, end);
        else if (c === '"' || c === "'") [node, p] = this.quoted(p, end);
        else {
          let stop = p;
          while (stop < end && !',[]{}'.includes(this.text[stop])) stop++;
          let last = stop;
          while (last > p && this.text.charCodeAt(last - 1) === 32) last--;
          node = this.plain(p, last, true);
          p = stop;
        }
        if (keyPos) {
          map[key] = node.value;
          entries.set(key, { key: keyPos, value: node.pos });
        } else {
          list.push(node.value);
          items.push(node.pos);
        }
        p = this.skip(p, end);
        if (this.text[p] === ',') {
          p = this.skip(p + 1, end);
          // a trailing comma, or a line break inside: the yaml package's
          if (this.text[p] === close || p >= end) throw OUTSIDE;
          continue;
        }
        if (this.text[p] !== close) throw OUTSIDE;
        p++;
        break;
      }
    }
    this.depth--;
    const pos: PosNode = open === '[' ? { start: at, items } : { start: at, entries };
    return [{ value: open === '[' ? list : map, pos }, p];
  }

  private skip(p: number, end: number): number {
    while (p < end && this.text.charCodeAt(p) === 32) p++;
    if (p >= end) throw OUTSIDE;
    return p;
  }

  /** A plain scalar from `at` to `end` (trimmed), resolved as the core schema does. */
  private plain(at: number, end: number, inFlow: boolean): Parsed {
    const s = this.text.slice(at, end);
    if (s === '') throw OUTSIDE;
    // `-x` and `-1` are plain; `- x` was a list item
    if (INDICATOR.has(s[0]) && !(s[0] === '-' && s.length > 1 && s[1] !== ' ' && s[1] !== '-')) throw OUTSIDE;
    // a comment, a mapping inside, or (in flow) a colon the yaml package reads its own way
    if (s.includes(' #') || s.includes(': ') || s.endsWith(':') || (inFlow && s.includes(':'))) throw OUTSIDE;
    const value = resolvePlain(s);
    return { value, pos: typeof value === 'string' ? { start: at, textStart: at } : typeof value === 'number' ? { start: at, source: s } : { start: at } };
  }
}

/** The yaml package's core schema for a plain scalar: null, booleans, integers, floats, else text. */
function resolvePlain(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === 't' || s[0] === 'T';
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}
