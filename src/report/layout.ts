import { graphemeAfter, graphemeCut } from '../core/safe-text.js';

/**
 * Text laid out to a terminal's width: tables whose long cells wrap (a column shrinks,
 * widest first, down to a floor; the gap between columns narrows before that), and
 * prose lines that wrap at spaces. No line ends in spaces. Widths count code points,
 * ANSI colour codes excluded (the tool's own text has no double-width characters:
 * names are ASCII identifiers, the rest is escaped by safe-text).
 */

/** The width used when the output is not a terminal (a pipe, a file, a test). */
export const DEFAULT_WIDTH = 100;

/** A cell: its text (lines split at \n) and a style for each of its lines (colour). */
export type Cell = string | { text: string; style?: (s: string) => string };

/** A row of cells, or one cell across the whole table (a heading for the rows under it). */
export type Row = Cell[] | { span: Cell };

export interface TableLayout {
  /** the whole width available, indent included */
  width: number;
  /** spaces in front of every row */
  indent?: number;
  /**
   * columns of words (names, formulas) that may break inside a word as a last resort;
   * the others (numbers) break only at spaces and commas
   */
  breakable?: number[];
  /** columns that must not wrap at all (or the table does not fit) */
  whole?: number[];
  /** the header's style (bold) */
  headStyle?: (s: string) => string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Width on screen: code points, colour codes excluded. */
export function visibleWidth(s: string): number {
  let n = 0;
  for (const _ of s.replace(ANSI, '')) n++;
  return n;
}

/** The narrowest a breakable column may get (or its header, when wider). */
const MIN_COLUMN = 8;
const GAPS = [3, 2, 1];

/**
 * A table of rows under a header, fitted to `o.width`; null when it cannot fit without
 * breaking a number (the caller shows the rows another way).
 */
export function fitTable(head: string[], rows: Row[], o: TableLayout): string | null {
  const indent = o.indent ?? 1;
  const all = [head.map((h) => ({ text: h, style: o.headStyle })), ...rows.map((r) => (Array.isArray(r) ? r.map(cellOf) : { span: cellOf(r.span) }))];
  const cells = all.filter((r): r is StyledCell[] => Array.isArray(r));
  const cols = head.length;
  const natural = Array.from({ length: cols }, (_, k) => Math.max(0, ...cells.map((r) => longestLine(r[k]?.text ?? ''))));
  const floor = natural.map((w, k) => {
    if (o.whole?.includes(k)) return w;
    const least = o.breakable?.includes(k) ? MIN_COLUMN : Math.max(0, ...cells.map((r) => longestToken(r[k]?.text ?? '')));
    return Math.min(w, Math.max(least, visibleWidth(head[k])));
  });
  for (const gap of GAPS) {
    const room = o.width - indent - gap * (cols - 1);
    if (sum(floor) > room) continue;
    const widths = shrink(natural, floor, room);
    return layOut(all, widths, indent, gap, o.breakable ?? [], o.width);
  }
  return null;
}

/** fitTable, or when nothing fits, the narrowest layout (wider than asked: better than broken numbers). */
export function renderTable(head: string[], rows: Row[], o: TableLayout): string {
  return fitTable(head, rows, o) ?? fitTable(head, rows, { ...o, breakable: head.map((_, k) => k) }) ?? fitTable(head, rows, { ...o, width: Infinity })!;
}

type StyledCell = { text: string; style?: (s: string) => string };

function layOut(all: (StyledCell[] | { span: StyledCell })[], widths: number[], indent: number, gap: number, breakable: number[], width: number): string {
  const lines: string[] = [];
  const pad = ' '.repeat(indent);
  for (const row of all) {
    if (!Array.isArray(row)) {
      const style = row.span.style ?? ((x: string) => x);
      for (const l of wrapLines(row.span.text, Math.max(MIN_COLUMN, width - indent), '  ')) lines.push(`${pad}${style(l)}`.trimEnd());
      continue;
    }
    // a word column's continued line is indented by one; numbers' brackets show their own continuation
    const cells = widths.map((w, k) => wrapLines(row[k]?.text ?? '', w, breakable.includes(k) ? ' ' : ''));
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) {
      const parts = cells.map((c, k) => {
        const text = c[i] ?? '';
        const style = row[k]?.style ?? ((x: string) => x);
        return (text ? style(text) : '') + ' '.repeat(Math.max(0, widths[k] - visibleWidth(text)));
      });
      lines.push((pad + parts.join(' '.repeat(gap))).trimEnd());
    }
  }
  return lines.join('\n');
}

/** The longest piece between break points (spaces, and after commas). */
function longestToken(s: string): number {
  return Math.max(0, ...s.split(/\s+|(?<=,)/).map(visibleWidth));
}

function cellOf(c: Cell | undefined): StyledCell {
  if (c === undefined) return { text: '' };
  return typeof c === 'string' ? { text: c } : c;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function longestLine(s: string): number {
  return Math.max(0, ...s.split('\n').map(visibleWidth));
}

/** Column widths within `room`: the widest column gives way first, none below its floor. */
function shrink(natural: number[], floor: number[], room: number): number[] {
  const w = [...natural];
  let over = sum(w) - room;
  while (over > 0) {
    // the widest column that can still give
    let k = -1;
    for (let j = 0; j < w.length; j++) if (w[j] > floor[j] && (k < 0 || w[j] > w[k])) k = j;
    if (k < 0) break;
    const second = Math.max(floor[k], ...w.filter((_, j) => j !== k));
    const give = Math.min(over, Math.max(1, w[k] - second), w[k] - floor[k]);
    w[k] -= give;
    over -= give;
  }
  return w;
}

/** A cell's lines, each at most `width` wide: broken after a space or comma, or where it must. */
export function wrapLines(text: string, width: number, continuation = ' ', formula = false): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let rest = line;
    while (visibleWidth(rest) > width && width > continuation.length + 1) {
      // each pass must take more than the continuation adds back
      const at = Math.max(breakAt(rest, width, continuation.length, formula), continuation.length + 1);
      // between graphemes (never half an emoji); a grapheme wider than the line gets a line of its own
      const snapped = graphemeCut(rest, at);
      const cut = snapped > continuation.length ? snapped : graphemeAfter(rest, continuation.length);
      out.push(rest.slice(0, cut).trimEnd());
      rest = continuation + rest.slice(cut).trimStart();
    }
    out.push(rest);
  }
  return out;
}

/**
 * Where to break `s` to fit `width`: after the last space or comma that fits (an arrow
 * starts a line), past the `indent` a continued line starts with; else (`formula`: in a
 * line of prose, like a title) after an operator that leaves at least half the line
 * (`sin(x*1)+` | `sin(x*2)`); else at the width.
 */
function breakAt(s: string, width: number, indent: number, formula: boolean): number {
  const arrow = s.lastIndexOf(' → ', width);
  if (arrow > indent) return arrow + 1;
  // between items of a list (`x = 1, y = 2`) rather than inside one, unless that wastes half the line
  const comma = s.lastIndexOf(', ', width - 1);
  if (comma > width / 2) return comma + 2;
  for (let i = Math.min(width, s.length - 1); i > indent; i--) {
    if (s[i] === ' ' || s[i - 1] === ',') return i;
  }
  // a term before a factor: `sin(x*1)+` | `sin(x*2)`, not `sin(x*` | `1)`
  for (const ops of formula ? BREAK_AFTER : []) {
    for (let i = Math.min(width, s.length - 1); i > Math.max(indent, width / 2); i--) {
      if (ops.includes(s[i - 1]) && s[i] !== '=') return i;
    }
  }
  return width;
}

/** A formula breaks after these, the ones that bind less first (a sum of hundreds of terms in a title). */
const BREAK_AFTER = [';=+', '*/'];

/** A paragraph wrapped at spaces to `width` (a formula in it at its operators), later lines indented by `hang`. */
export function wrapProse(text: string, width: number, hang = 2): string {
  return text
    .split('\n')
    .map((line) => wrapLines(line, width, ' '.repeat(hang), true).join('\n'))
    .join('\n');
}
