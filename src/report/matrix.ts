import type { ChalkInstance } from 'chalk';
import type { Shown } from '../subjects/formula/grad.js';
import { num } from '../core/number-format.js';
import { isSummary, nestedText } from './format.js';

/** The printed block of a large matrix: this many rows and columns, then … */
export const SHOW_ROWS = 12;
export const SHOW_COLS = 8;

/**
 * A matrix with its row and column names (`f[2]`, `W[1,2]`), right-aligned numbers, and
 * `…` past SHOW_ROWS × SHOW_COLS, followed by a line saying how much is shown.
 */
export function matrixLines(rowNames: string[], colNames: string[], rows: ArrayLike<number>[], o: { digits: number; color: ChalkInstance }): string[] {
  const c = o.color;
  const m = rowNames.length;
  const n = colNames.length;
  const shownRows = Math.min(m, SHOW_ROWS);
  const cols = Math.min(n, SHOW_COLS);
  const cells: string[][] = [['', ...colNames.slice(0, cols), ...(cols < n ? ['…'] : [])]];
  for (let i = 0; i < shownRows; i++)
    cells.push([
      rowNames[i],
      ...Array.from(rows[i])
        .slice(0, cols)
        .map((v) => num(v, o.digits)),
      ...(cols < n ? ['…'] : []),
    ]);
  if (shownRows < m) cells.push(['…']);
  const w = cells[0].map((_, k) => Math.max(...cells.map((row) => (row[k] ?? '').length)));
  const out: string[] = [];
  cells.forEach((row, i) => {
    const text = row.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join('  ');
    out.push(`  ${i === 0 ? c.cyan(text) : text.replace(/^(\S+)/, (s) => c.cyan(s))}`.trimEnd());
  });
  if (shownRows < m || cols < n) out.push(c.dim(`  (showing ${shownRows} of ${m} rows and ${cols} of ${n} columns; --json prints all)`));
  return out;
}

/** `x = 2, W = [[1, 2], [3, 4]]`, large tensors (or summarised ones) by their shape (`W = [64×1000]`). */
export function pointText(point: Record<string, Shown>, digits: number): string {
  return Object.entries(point)
    .map(
      ([k, v]) =>
        `${k} = ${isSummary(v) ? `[${v.shape.join('×')}]` : typeof v === 'number' || (v as unknown[]).flat(2).length <= 8 ? oneLine(nestedText(v, digits)) : `[${shapeOf(v).join('×')}]`}`,
    )
    .join(', ');
}

export function oneLine(s: string): string {
  return s.replace(/\n\s*/g, ' ');
}

function shapeOf(v: unknown): number[] {
  const dims: number[] = [];
  let x = v;
  while (Array.isArray(x)) {
    dims.push(x.length);
    x = x[0];
  }
  return dims;
}
