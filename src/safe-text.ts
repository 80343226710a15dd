/**
 * Text from untrusted hands (case names, formulas, file names, keys) made safe to show:
 * control characters (terminal escape sequences, carriage returns that overwrite a
 * line) and bidirectional overrides (U+202A–U+202E, U+2066–U+2069, which make text
 * read in another order than it is) are replaced by visible escapes, and very long
 * text is shortened in the middle. Every renderer shows names through this one helper.
 */

// C0 and C1 controls except tab and newline, DEL, bidi embeddings/overrides/isolates, and the line/paragraph separators
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_LINE = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/** Longest text shown whole; longer text keeps its start and end around an ellipsis. */
export const MAX_SHOWN = 200;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `s` at most `max` characters: its start and end around an ellipsis. */
export function shorten(s: string, max = MAX_SHOWN): string {
  if (s.length <= max) return s;
  const keep = Math.max(1, max - 1);
  const head = Math.ceil(keep * 0.7);
  return `${s.slice(0, head)}…${s.slice(s.length - (keep - head))}`;
}

/** `s` with control and bidi characters escaped (newlines and tabs kept unless `oneLine`), at most `max` characters. */
export function safeText(s: string, o: { max?: number; oneLine?: boolean } = {}): string {
  return shorten(s, o.max ?? MAX_SHOWN).replace(o.oneLine ? UNSAFE_LINE : UNSAFE, escape);
}

/** A name on one line (case names, keys in messages): escaped, and shortened to `max` (default 80). */
export function safeName(s: string, max = 80): string {
  return safeText(s, { max, oneLine: true });
}
