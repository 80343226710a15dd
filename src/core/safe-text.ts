/**
 * Text from untrusted hands (case names, formulas, file names, keys) made safe to show:
 * control characters (terminal escape sequences, carriage returns that overwrite a
 * line) and bidirectional overrides (U+202A–U+202E, U+2066–U+2069, which make text
 * read in another order than it is) and invisible format characters (zero-width space,
 * word joiner, invisible operators, soft hyphen, byte-order mark: "x\u200by" would read as
 * "xy") are replaced by visible escapes, and very long
 * text is shortened in the middle. Every renderer shows names through this one helper.
 */

// C0 and C1 controls except tab and newline, DEL, bidi marks/embeddings/overrides/isolates, the line/paragraph separators,
// and invisible format characters (ZWJ and ZWNJ stay: emoji sequences and scripts need them)
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFEFF]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_LINE = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFEFF]/g;

/** Longest text shown whole; longer text keeps its start and end around an ellipsis. */
export const MAX_SHOWN = 200;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * Text is shortened by grapheme — what a reader sees as one character: an emoji with its
 * skin tone or ZWJ family, a flag, a letter with its combining marks — never inside one,
 * so no half of a surrogate pair (U+FFFD in JSON, JUnit, GitHub) and no emoji cut apart.
 * Intl.Segmenter walks a long string in quadratic time, so it is run on small windows
 * that start at a known boundary. A grapheme of more than LONGEST UTF-16 units (only
 * stacked combining marks make one; the longest emoji sequences are about 20) is split
 * between code points, so a shortened text is bounded in units as well.
 */
// made when first needed: creating a Segmenter loads ICU's break rules (~9 ms of every start-up otherwise)
let segmenter: Intl.Segmenter | undefined;
const WINDOW = 256;
const LONGEST = 32;

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
// a regional indicator (half a flag) is U+1F1E6..U+1F1FF: \uD83C then \uDDE6..\uDDFF
const isRegional = (s: string, i: number): boolean => s.charCodeAt(i) === 0xd83c && s.charCodeAt(i + 1) >= 0xdde6 && s.charCodeAt(i + 1) <= 0xddff;

/** `at` moved back to a code point boundary. */
const codePoint = (s: string, at: number): number => (at > 0 && at < s.length && isLow(s.charCodeAt(at)) && isHigh(s.charCodeAt(at - 1)) ? at - 1 : at);

/**
 * A position at or before `at` where a grapheme may start, for a window to begin at: a
 * code point boundary, with flags paired as from the start (an odd run of regional
 * indicators before it moves it back by one).
 */
function windowStart(s: string, at: number): number {
  let p = codePoint(s, Math.max(0, at));
  let run = 0;
  for (let i = p - 2; i >= 0 && isRegional(s, i); i -= 2) run++;
  if (run % 2 === 1) p -= 2;
  return p;
}

/** The grapheme boundaries after `from` (itself a boundary), in order, up to `to` (the end of the text is one). */
function* boundaries(s: string, from: number, to = s.length): Generator<number> {
  let p = from;
  while (p < to) {
    // never half a surrogate pair at its end: a lone half reads as a character of its own
    const end = codePoint(s, Math.min(s.length, p + WINDOW));
    // every start in the window is a boundary (what decides one lies before it); the window's end is one only at the end of the text
    const found: number[] = [];
    for (const g of (segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' })).segment(s.slice(p, end))) if (g.index > 0) found.push(p + g.index);
    if (end === s.length) found.push(end);
    if (!found.length) found.push(codePoint(s, p + LONGEST));
    let prev = p;
    for (const b of found) {
      while (b - prev > LONGEST) {
        const cut = codePoint(s, prev + LONGEST);
        if (cut > to) return;
        yield cut;
        prev = cut;
      }
      if (b > to) return;
      yield b;
      prev = b;
    }
    p = prev;
  }
}

/** Where the first `n` graphemes of `s` end (s.length if it has fewer). */
function afterGraphemes(s: string, n: number): number {
  if (n <= 0) return 0;
  let k = 0;
  for (const b of boundaries(s, 0)) if (++k === n) return b;
  return s.length;
}

/** Where the last `n` graphemes of `s` start, not before `floor`. */
function lastGraphemes(s: string, n: number, floor = 0): number {
  if (n <= 0) return s.length;
  const from = Math.max(floor, windowStart(s, s.length - n * LONGEST - WINDOW));
  const starts = [from, ...boundaries(s, from)];
  // starts ends with s.length: the last n graphemes start n places before it
  return starts[Math.max(0, starts.length - 1 - n)];
}

/** The grapheme boundary at or before `at` (0 if none): where text may be cut without splitting what a reader sees as one character. */
export function graphemeCut(s: string, at: number): number {
  if (at >= s.length) return s.length;
  if (at <= 0) return 0;
  let best = windowStart(s, at - 2 * LONGEST);
  for (const b of boundaries(s, best, at)) if (b <= at) best = b;
  return best;
}

/** The first grapheme boundary after `at` (s.length if none): where a grapheme that starts at or before `at` ends. */
export function graphemeAfter(s: string, at: number): number {
  if (at >= s.length) return s.length;
  for (const b of boundaries(s, windowStart(s, at - 2 * LONGEST))) if (b > at) return b;
  return s.length;
}

/**
 * `s` at most `max` graphemes: its start and end around an ellipsis (`at: 'end'`: its
 * start, then the ellipsis). The one shortening every view uses.
 */
export function shorten(s: string, max = MAX_SHOWN, at: 'middle' | 'end' = 'middle'): string {
  // a grapheme is at least one UTF-16 unit: text of at most max units fits
  if (s.length <= max) return s;
  if (afterGraphemes(s, max) === s.length) return s;
  const keep = Math.max(0, max - 1);
  if (at === 'end') return `${s.slice(0, afterGraphemes(s, keep)).trimEnd()}…`;
  const head = Math.ceil(keep * 0.7);
  const headEnd = afterGraphemes(s, head);
  return `${s.slice(0, headEnd)}…${s.slice(lastGraphemes(s, keep - head, headEnd))}`;
}

/** `s` with control and bidi characters escaped (newlines and tabs kept unless `oneLine`), at most `max` characters. */
export function safeText(s: string, o: { max?: number; oneLine?: boolean } = {}): string {
  return shorten(s, o.max ?? MAX_SHOWN).replace(o.oneLine ? UNSAFE_LINE : UNSAFE, escape);
}

/** A name on one line (case names, keys in messages): escaped, and shortened to `max` (default 80). */
export function safeName(s: string, max = 80): string {
  return safeText(s, { max, oneLine: true });
}
