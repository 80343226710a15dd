import type { ChalkInstance } from 'chalk';
import type { AgError } from '../core/errors.js';
import { graphemeCut, safeText } from '../core/safe-text.js';

/**
 * An error as the terminal shows it: one line of message, then the source with a
 * caret under the offending span, then a hint when there is one.
 */
export function formatError(e: AgError, c: ChalkInstance): string {
  // messages quote formulas, names and file names: shown terminal-safe, never raw
  const lines = [`${c.red.bold('error:')} ${safeText(e.message, { max: 2000 })}`];
  if (e.source !== undefined && e.span) {
    const { line, col, width, text } = locate(e.source, e.span.start, e.span.end);
    lines.push(`  ${text}`);
    lines.push(`  ${' '.repeat(col)}${c.red('^'.repeat(Math.max(1, width)))}${line > 0 ? c.dim(` (line ${line + 1})`) : ''}`);
  }
  if (e.hint) lines.push(`  ${c.cyan('hint:')} ${safeText(e.hint, { max: 2000 })}`);
  return lines.join('\n');
}

/** The source line holding `start`, trimmed to a window around the span when long. */
function locate(src: string, start: number, end: number): { line: number; col: number; width: number; text: string } {
  const before = src.slice(0, start);
  const line = before.split('\n').length - 1;
  const lineStart = before.lastIndexOf('\n') + 1;
  let lineEnd = src.indexOf('\n', start);
  if (lineEnd < 0) lineEnd = src.length;
  let text = src.slice(lineStart, lineEnd);
  let col = start - lineStart;
  let width = Math.min(end, lineEnd) - start;
  // keep very long formulas to one screen line around the caret
  const MAX = 100;
  if (text.length > MAX) {
    // cut between graphemes: never half an emoji at either end
    const from = graphemeCut(text, Math.max(0, Math.min(col - 40, text.length - MAX)));
    const to = graphemeCut(text, from + MAX);
    text = (from > 0 ? '…' : '') + text.slice(from, to) + (to < text.length ? '…' : '');
    col = col - from + (from > 0 ? 1 : 0);
    width = Math.min(width, MAX - (col - 1));
  }
  // escaped pieces, so the caret stays under what it points at
  const safe = (s: string) => safeText(s, { oneLine: true, max: Infinity });
  const pre = safe(text.slice(0, col));
  const mid = safe(text.slice(col, col + Math.max(0, width)));
  return { line, col: pre.length, width: mid.length, text: pre + mid + safe(text.slice(col + Math.max(0, width))) };
}
