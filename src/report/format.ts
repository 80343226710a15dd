import type { Nested } from '../core/parse/values.js';
import type { Shown, Summary } from '../subjects/formula/grad.js';

import { num } from '../core/number-format.js';

export function isSummary(v: Shown | null): v is Summary {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value for a table cell: a number, a small tensor whole, or a large one summarised. */
export function shownText(v: Shown | null, digits = 6): string {
  if (v === null) return '';
  if (isSummary(v)) {
    return summaryText(v.shape, v.norm, v.min, v.max, v.first);
  }
  return nestedText(v, digits);
}

/**
 * A large tensor summarised on three lines (a table cell; one-line views fold them):
 * `[64×1000] ‖·‖=25.3` / `min -4.1 max 3.9` / `first 0.12, -1.3, 0.5 …`.
 */
export function summaryText(shape: readonly number[], norm: number, min: number, max: number, first: ArrayLike<number>): string {
  const head = Array.from(first, (x) => num(x, 4)).join(', ');
  return `[${shape.join('×')}] ‖·‖=${num(norm, 4)}\nmin ${num(min, 4)} max ${num(max, 4)}\nfirst ${head} …`;
}

export function nestedText(v: Nested, digits = 6): string {
  if (typeof v === 'number') return num(v, digits);
  if (v.length > 0 && Array.isArray(v[0])) return `[${(v as Nested[]).map((r) => nestedText(r, digits)).join(',\n ')}]`;
  return `[${v.map((x) => nestedText(x, digits)).join(', ')}]`;
}
