import type { GradeReport } from '../homework/grade/grade.js';
import { safeName } from '../core/safe-text.js';
import { pointsText } from './score.js';

/** U+FEFF, written as EF BB BF: the mark by which Excel knows a CSV is UTF-8. */
export const BOM = '\uFEFF';

/**
 * The gradebook as CSV (RFC 4180): one row per student — student, file, the points of
 * each problem, total, maximum. Text from submissions is made safe for spreadsheets: a
 * cell that starts with = + - @ (or a tab or carriage return) would be run as a formula
 * by Excel, LibreOffice or Google Sheets, so it gets a leading apostrophe; cells with
 * commas, quotes or line breaks are quoted. The file starts with the UTF-8 byte-order mark:
 * without it, Excel (opening a CSV by a double click) reads it in the legacy code page of
 * the machine and a name like Zoë comes out as ZoÃ«; LibreOffice, Google Sheets, read.csv
 * in R (fileEncoding = "UTF-8-BOM") and pandas (encoding="utf-8-sig") take it off.
 */
export function renderGradebook(r: GradeReport): string {
  const rows = [['student', 'file', ...r.problems.map((p) => p.name), 'total', 'maximum'].map(text)];
  for (const s of r.students) {
    rows.push([text(s.student), text(s.file), ...s.problems.map((p) => pointsText(p.earned)), pointsText(s.earned), pointsText(s.max)]);
  }
  return `${BOM}${rows.map((row) => row.join(',')).join('\r\n')}\r\n`;
}

/** A text cell: neutralised against formula injection, then CSV-quoted where needed. */
export function text(s: string): string {
  const shown = safeName(s, 200);
  const neutral = /^[=+\-@\t\r]/.test(shown) ? `'${shown}` : shown;
  return /[",\r\n]/.test(neutral) || neutral !== neutral.trim() ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}
