import type { Tolerance } from './tolerance.js';

/**
 * Numbers judged at the precision they were written with. A hand answer written with k
 * significant digits passes when it is within one unit of the k-th significant digit of
 * the true value: −0.197 and −0.1966 pass for −0.196612, the truncated −0.58 passes for
 * −0.589836, −0.57 does not. At least `min` digits count (2 by default), so "0" or "-0.2"
 * cannot pass for 0.3 or −0.26. The digits come from the text the student wrote
 * (`-0.1970` has 4, `0.39` has 2, `1.2e-3` has 2), never from a parsed double.
 */

/** The minimum number of significant digits an answer is judged at (a key may raise it with min_digits:). */
export const DEFAULT_MIN_DIGITS = 2;

const DECIMAL = /^\s*[+-]?(\d*)(?:\.(\d*))?(?:[eE][+-]?\d+)?\s*$/;

/**
 * Significant digits of a decimal number as written: leading zeros do not count, every
 * other digit does (trailing zeros too: `0.1970` has 4, `100` has 3 — write `1e2` for
 * one). Zero has 1. Null when the text is not a plain decimal number (`0x1f`, `pi`, `.inf`).
 */
export function writtenDigits(text: string): number | null {
  const m = DECIMAL.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
  const digits = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '');
  return Math.max(1, digits.length);
}

/**
 * Decimal places of a decimal number as written: `0.07` has 2, `12.50` has 2, `1.2e-3`
 * has 4, `100` and `1e2` none. Null when the text is not a plain decimal number.
 */
export function writtenDecimals(text: string): number | null {
  const m = DECIMAL.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
  const e = /[eE]([+-]?\d+)/.exec(text);
  return Math.max(0, (m[2] ?? '').length - (e ? Number(e[1]) : 0));
}

/** True when `text` is a plain decimal number (so it is an answer with written digits, not a formula). */
export function isDecimal(text: string): boolean {
  return writtenDigits(text) !== null;
}

/** The decimal exponent of |v| (v ≠ 0): 2 for 345, -1 for 0.196612. */
function exponent(v: number): number {
  return Number(Math.abs(v).toExponential().split('e')[1]);
}

/**
 * One unit of the k-th significant digit of the true value (of the answer when the
 * truth is 0): 0.001 for −0.196612 at 3 digits.
 */
export function digitUnit(truth: number, yours: number, k: number): number {
  const m = truth !== 0 ? truth : yours;
  if (m === 0 || !Number.isFinite(m)) return 0;
  return 10 ** (exponent(m) - k + 1);
}

/** |yours − truth| within `units` of the k-th digit (with room for the rounding of the two doubles). */
function withinUnit(yours: number, truth: number, k: number, units = 1): boolean {
  const unit = digitUnit(truth, yours, k);
  return Math.abs(yours - truth) <= units * unit * (1 + 1e-9);
}

/** How one number answer fares. `few`: the truth rounded to the digits written, but fewer than the minimum were written. */
export type DigitVerdict = 'ok' | 'few' | 'wrong';

/**
 * A number written with `written` significant digits against the truth: within one unit
 * of digit max(written, min) — or within the tolerance, so a written answer is never
 * judged more strictly than rtol/atol would (and a 0 passes for autodiff's 1e-17).
 * `decimals`: the decimal places written, when a course's min_decimals is met.
 */
export function judgeDigits(yours: number, truth: number, written: number, min: number, tol: Tolerance, decimals?: number): DigitVerdict {
  if (!Number.isFinite(yours) || !Number.isFinite(truth)) return yours === truth ? 'ok' : 'wrong';
  const gap = Math.abs(yours - truth);
  if (gap <= tol.atol + tol.rtol * Math.max(Math.abs(yours), Math.abs(truth))) return 'ok';
  if (withinUnit(yours, truth, Math.max(written, min))) return 'ok';
  // a course's min_decimals met: judged at the decimal places written (`0.07` for 0.0661), within one unit of the last
  if (decimals !== undefined) return gap <= 10 ** -decimals * (1 + 1e-9) ? 'ok' : 'wrong';
  // "right up to rounding": within half a unit of the last digit written
  return written < min && withinUnit(yours, truth, written, 0.5) ? 'few' : 'wrong';
}

/** "1.7%" — how far an answer is from the truth, relative to it (absolute when the truth is 0). */
export function offBy(yours: number, truth: number): string {
  if (!Number.isFinite(yours) || !Number.isFinite(truth)) return 'not a finite number';
  const gap = Math.abs(yours - truth);
  if (truth === 0) return `${Number(gap.toPrecision(2))} (the true value is 0)`;
  const pct = (100 * gap) / Math.abs(truth);
  return `${pct >= 1000 ? Math.round(pct) : Number(pct.toPrecision(2))}%`;
}

/** `the 2 decimal places you wrote (min_decimals: 2)`. */
export function decimalsWritten(k: number, min: number): string {
  return `the ${k} decimal place${k === 1 ? '' : 's'} you wrote (min_decimals: ${min})`;
}

/** `the 3 digits you wrote`; `2 significant digits (you wrote 1)` when fewer than the minimum were written. */
export function digitsWritten(k: number, min = 1): string {
  if (k < min) return `${min} significant digits (you wrote ${k})`;
  return `the ${k} digit${k === 1 ? '' : 's'} you wrote`;
}
