import { num } from '../core/number-format.js';
import { sameShape, sizeOf, subscript, type Shape, type Tensor } from '../core/tensor.js';
import type { EntryCheck } from './fd.js';
import { decimalsWritten, DEFAULT_MIN_DIGITS, digitsWritten, judgeDigits, offBy } from './precision.js';
import { withinTolerance, type Tolerance } from './tolerance.js';

/**
 * Answers against the truth, entry by entry, and the words for a wrong one: the
 * counterexample a student reads ("your ∂f/∂x = 0.8415 at x=1, y=0; the true value is
 * 1.382"). Pure numbers in, words out: it does not care where the numbers came from.
 */

/** How answers are judged: numbers written by hand at their digits (at least `minDigits`), the rest by the tolerance. */
export interface Rule extends Tolerance {
  /** the fewest significant digits a written number is judged at (default 2) */
  minDigits?: number;
  /** a course's policy: a number written to at least this many decimal places is judged at the places written */
  minDecimals?: number;
}

/** What is known about an answer besides its numbers. */
export interface AnswerForm {
  /** significant digits written, entry by entry; 0 (or no array): judged by rtol/atol */
  digits?: Int8Array | null;
  /** a single number written alone, which stands for every entry of a tensor */
  literal?: boolean;
  /** decimal places written, entry by entry (for a rule's minDecimals) */
  decimals?: Int8Array | null;
  /** a vector's gradient may be answered as a row [1,n] (layout is a course's convention) */
  row?: boolean;
}

export type Comparison =
  | {
      ok: true;
      /** the fewest digits written among the entries (0: judged by the tolerance) */
      digits: number;
      /** the fewest decimal places among entries judged by a rule's minDecimals (when any was) */
      decimals?: number;
      /** a vector answered as a row */
      row?: true;
    }
  | { ok: false; shape: true; expected: Shape; actual: Shape }
  | {
      ok: false;
      shape: false;
      flat: number;
      yours: number;
      truth: number;
      wrong: number;
      /** digits written at the worst entry (0: judged by the tolerance) */
      digits: number;
      /** decimal places written at the worst entry, when a rule's minDecimals judged it */
      decimals?: number;
      /** every wrong entry is right to the digits written, but fewer than the minimum were written */
      few: boolean;
    };

/**
 * Whether an answer of shape `answer` can stand for a quantity of shape `truth`: the
 * same shape; a column [n,1] for a vector [n] and the other way round (the same column
 * on paper); a 1×1 for a number; and a single number written alone for any tensor.
 * Nothing else is broadcast: a formula that gives a number for a matrix is a mistake.
 */
export function fitsShape(answer: Shape, truth: Shape, literal = false, row = false): boolean {
  if (sameShape(answer, truth)) return true;
  if (row && isRowFor(answer, truth)) return true;
  if (literal && answer.length === 0) return true;
  const column = (s: Shape) => (s.length === 1 ? s[0] : s.length === 2 && s[1] === 1 ? s[0] : -1);
  if (answer.length + truth.length === 3 && column(answer) >= 0 && column(answer) === column(truth)) return true;
  return truth.length === 0 && sizeOf(answer) === 1 && answer.every((d) => d === 1);
}

/** A row [1,n] written for a vector [n] (n > 1). */
export function isRowFor(answer: Shape, truth: Shape): boolean {
  return truth.length === 1 && truth[0] > 1 && answer.length === 2 && answer[0] === 1 && answer[1] === truth[0];
}

/**
 * An answer against the truth, entry by entry: a number written by hand within one unit
 * of its last digit written (precision.ts), anything else within
 * |yours − truth| ≤ atol + rtol·max(|yours|, |truth|). The worst entry is the counterexample.
 */
export function compare(expected: Tensor, truth: Float64Array, shape: Shape, rule: Rule, form: AnswerForm = {}): Comparison {
  if (!fitsShape(expected.shape, shape, form.literal, form.row)) return { ok: false, shape: true, expected: expected.shape, actual: shape };
  const one = expected.data.length === 1;
  const min = rule.minDigits ?? DEFAULT_MIN_DIGITS;
  const digitsAt = (k: number) => form.digits?.[one ? 0 : k] ?? 0;
  // the decimal places written where a course's min_decimals is met (undefined: not judged by them)
  const decimalsAt = (k: number) => {
    const d = form.decimals?.[one ? 0 : k];
    return rule.minDecimals !== undefined && d !== undefined && d >= rule.minDecimals ? d : undefined;
  };
  let fewestDecimals = Infinity;
  let worst = -1;
  let worstErr = -1;
  let wrong = 0;
  let few = true;
  let fewest = Infinity;
  for (let k = 0; k < truth.length; k++) {
    const y = expected.data[one ? 0 : k];
    const d = digitsAt(k);
    // an infinite answer is within any relative tolerance of anything (∞ ≤ rtol·∞): only the same infinity matches
    const finite = Number.isFinite(y) && Number.isFinite(truth[k]);
    const v = !finite
      ? y === truth[k]
        ? 'ok'
        : 'wrong'
      : d > 0
        ? judgeDigits(y, truth[k], d, min, rule, decimalsAt(k))
        : withinTolerance(y, truth[k], rule)
          ? 'ok'
          : 'wrong';
    fewest = Math.min(fewest, d);
    if (d > 0) fewestDecimals = Math.min(fewestDecimals, decimalsAt(k) ?? Infinity);
    if (v === 'ok') continue;
    wrong++;
    if (v === 'wrong') few = false;
    const err = Number.isFinite(y) ? Math.abs(y - truth[k]) : Infinity;
    if (err > worstErr) {
      worstErr = err;
      worst = k;
    }
  }
  if (worst < 0)
    return {
      ok: true,
      digits: Number.isFinite(fewest) ? fewest : 0,
      ...(Number.isFinite(fewestDecimals) ? { decimals: fewestDecimals } : {}),
      ...(isRowFor(expected.shape, shape) ? { row: true as const } : {}),
    };
  return {
    ok: false,
    shape: false,
    flat: worst,
    yours: expected.data[one ? 0 : worst],
    truth: truth[worst],
    wrong,
    digits: digitsAt(worst),
    ...(digitsAt(worst) > 0 && decimalsAt(worst) !== undefined ? { decimals: decimalsAt(worst) } : {}),
    few,
  };
}

/**
 * Which rule judged an answer, in words: "matches the 3 digits you wrote", "off by 1.7%,
 * beyond the 3 digits you wrote", "right to the 1 digit you wrote, but at least 2
 * significant digits are asked for", "within rtol 1e-05".
 */
export function verdictWords(c: Comparison, rule: Rule): string {
  const tolText = `rtol ${num(rule.rtol, 3)}${rule.atol ? `, atol ${num(rule.atol, 3)}` : ''}`;
  const min = rule.minDigits ?? DEFAULT_MIN_DIGITS;
  const row = c.ok && c.row ? "; written as a row: a vector's gradient may be a row or a column (a key's layout: strict asks for the column)" : '';
  if (c.ok)
    return `${c.decimals !== undefined ? `matches ${decimalsWritten(c.decimals, rule.minDecimals!)}` : c.digits > 0 ? `matches ${digitsWritten(c.digits, min)}` : `within ${tolText}`}${row}`;
  if (c.shape) return 'the shape differs';
  if (!Number.isFinite(c.yours) || !Number.isFinite(c.truth)) return 'not a finite number';
  const places = rule.minDecimals !== undefined ? ` (or ${rule.minDecimals} decimal place${rule.minDecimals === 1 ? '' : 's'}: min_decimals)` : '';
  if (c.few) return `right when rounded to ${digitsWritten(c.digits)}, but at least ${min} significant digits${places} are asked for`;
  if (c.decimals !== undefined) return `off by ${offBy(c.yours, c.truth)}, beyond ${decimalsWritten(c.decimals, rule.minDecimals!)}`;
  return `off by ${offBy(c.yours, c.truth)}, beyond ${c.digits > 0 ? digitsWritten(c.digits, min) : tolText}`;
}

/** `x=1, y=0`; small tensors whole, larger ones by their shape. */
export function pointText(values: Record<string, Tensor>, names: string[]): string {
  return names
    .filter((n) => values[n])
    .map((n) => {
      const v = values[n];
      if (v.shape.length === 0) return `${n}=${num(v.data[0])}`;
      if (v.data.length <= 4) {
        const row = (a: ArrayLike<number>) => `[${Array.from(a, (x) => num(x)).join(', ')}]`;
        if (v.shape.length === 1) return `${n}=${row(v.data)}`;
        const c = v.shape[1];
        return `${n}=[${Array.from({ length: v.shape[0] }, (_, i) => row(v.data.subarray(i * c, (i + 1) * c))).join(', ')}]`;
      }
      return `${n} (${v.shape.join('×')})`;
    })
    .join(', ');
}

/** Two numbers in as few significant digits (at least 4) as show that they differ. */
export function distinct(a: number, b: number): [string, string] {
  for (let d = 4; d < 17; d++) {
    const sa = num(a, d);
    const sb = num(b, d);
    if (sa !== sb) return [sa, sb];
  }
  return [num(a, 17), num(b, 17)];
}

/** `∂f/∂W1[3,7]` */
export function partial(variable: string, shape: Shape, flat: number): string {
  return `∂f/∂${variable}${subscript(shape, flat)}`;
}

/** What finite differences say about the true value at this entry, in words. */
function fdClause(fd: EntryCheck | undefined, digits: (v: number) => string): string {
  if (!fd) return ' (finite differences did not sample this entry)';
  switch (fd.status) {
    case 'pass':
      return ` (finite differences agree: ${digits(fd.fd)})`;
    case 'kink':
      return ` (finite differences cannot judge here: ${fd.note ?? 'the point is at a kink'})`;
    case 'noisy':
      return ` (finite differences are too noisy to judge here${Number.isFinite(fd.fd) ? `: ${digits(fd.fd)}` : ''})`;
    default:
      return ` (but finite differences give ${digits(fd.fd)}, so autodiff may be wrong here too)`;
  }
}

/** "your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382)" */
export function counterexample(what: string, yours: number, truth: number, point: string, fd?: EntryCheck | null): string {
  const [y, t] = distinct(yours, truth);
  const digits = (v: number) => {
    // the same number of significant digits as the true value was shown with
    const d = Math.max(
      4,
      t
        .replace(/^-|e.*$/g, '')
        .replace('.', '')
        .replace(/^0+/, '').length,
    );
    return num(v, Math.min(17, d));
  };
  return `your ${what} = ${y}${point ? ` at ${point}` : ''}; the true value is ${t}${fd === null ? '' : fdClause(fd, digits)}`;
}

/** A shape as a student reads it: `a scalar`, `a column of 3`, `a row 1×3`, `2×3`. */
export function shapeWords(shape: Shape): string {
  if (shape.length === 0) return 'a scalar';
  if (shape.length === 1) return `a column of ${shape[0]}`;
  if (shape[0] === 1) return `a row 1×${shape[1]}`;
  if (shape[1] === 1) return `a column ${shape[0]}×1`;
  return `${shape[0]}×${shape[1]}`;
}

/**
 * An answer of the wrong shape, in words, with the likely fix: "your ∂f/∂W is a scalar
 * (0.296) but W is 2×2 — for an outer product write q*x'".
 */
export function shapeMismatch(what: string, yours: Tensor, name: string, truth: Shape, point: string, fix?: string): string {
  const value = yours.data.length === 1 ? ` (${num(yours.data[0], 4)})` : '';
  return `your ${what} is ${shapeWords(yours.shape)}${value} but ${name} is ${shapeWords(truth)}${point ? ` (at ${point})` : ''}${fix ? ` — ${fix}` : ''}`;
}
