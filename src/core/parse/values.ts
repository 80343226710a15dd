import { AgError } from '../errors.js';
import { shorten } from '../safe-text.js';
import type { Tensor } from '../tensor.js';

/** A value as users and JSON give it: a number or nested arrays of numbers. */
export type Nested = number | Nested[];

/** Split on commas outside brackets and quotes, keeping each piece's offset. */
export function splitTopLevel(s: string): { text: string; start: number }[] {
  const parts: { text: string; start: number }[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push({ text: s.slice(start, i), start });
      start = i + 1;
    }
  }
  parts.push({ text: s.slice(start), start });
  return parts
    .filter((p) => p.text.trim() !== '')
    .map((p) => ({ text: p.text.trimEnd(), start: p.start + (p.text.length - p.text.trimStart().length) }))
    .map((p) => ({ text: p.text.trim(), start: p.start }));
}

/** A variable's name as values are keyed: an identifier (so it can appear in a formula), refused clearly otherwise. */
export function checkName(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    const shown = shorten(name, 40, 'end');
    throw new AgError('bad-value', `${JSON.stringify(shown)} is not a variable name (${what} needs a name like x, W1 or b_out)`);
  }
}

/** A tensor from a number or rectangular nested arrays of finite numbers (rank ≤ 2). */
export function fromNested(v: unknown, what: string): Tensor {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new AgError('bad-value', `${what} is ${v}; values must be finite numbers`);
    return { shape: [], data: Float64Array.of(v) };
  }
  if (!Array.isArray(v) || v.length === 0) throw new AgError('bad-value', `${what} must be a number or a non-empty (nested) array of numbers`);
  if (v.every((x) => typeof x === 'number')) {
    const data = Float64Array.from(v as number[]);
    if (data.some((x) => !Number.isFinite(x))) throw new AgError('bad-value', `${what} has an entry that is not a finite number`);
    return { shape: [v.length], data };
  }
  if (v.every((x) => Array.isArray(x))) {
    const rows = v as unknown[][];
    const n = rows[0].length;
    if (n === 0 || rows.some((r) => r.length !== n)) throw new AgError('bad-value', `${what}: the rows must all have the same, non-zero length`);
    const data = new Float64Array(rows.length * n);
    rows.forEach((r, i) =>
      r.forEach((x, j) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new AgError('bad-value', `${what}[${i + 1},${j + 1}] is not a finite number`);
        data[i * n + j] = x;
      }),
    );
    return { shape: [rows.length, n], data };
  }
  throw new AgError('bad-value', `${what} mixes numbers and arrays, or nests deeper than a matrix`);
}
