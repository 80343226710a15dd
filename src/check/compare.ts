import { num } from '../number-format.js';
import { shapeStr, subscript, type Shape, type Tensor } from '../tensor.js';
import type { EntryCheck } from './fd.js';
import { withinTolerance, type Tolerance } from './tolerance.js';

/**
 * Answers against the truth, entry by entry, and the words for a wrong one: the
 * counterexample a student reads ("your ∂f/∂x = 0.8415 at x=1, y=0; the true value is
 * 1.382"). Pure numbers in, words out: it does not care where the numbers came from.
 */

export type Comparison =
  | { ok: true }
  | { ok: false; shape: true; expected: Shape; actual: Shape }
  | { ok: false; shape: false; flat: number; yours: number; truth: number; wrong: number };

/**
 * Expected against autodiff, entry by entry: |yours − truth| ≤ atol + rtol·max(|yours|, |truth|).
 * A scalar answer stands for every entry of a tensor. The worst entry is the counterexample.
 */
export function compare(expected: Tensor, truth: Float64Array, shape: Shape, tol: Tolerance): Comparison {
  const scalar = expected.data.length === 1;
  if (!scalar && shapeStr(expected.shape) !== shapeStr(shape)) return { ok: false, shape: true, expected: expected.shape, actual: shape };
  let worst = -1;
  let worstErr = -1;
  let wrong = 0;
  for (let k = 0; k < truth.length; k++) {
    const y = expected.data[scalar ? 0 : k];
    if (withinTolerance(y, truth[k], tol)) continue;
    wrong++;
    const err = Number.isFinite(y) ? Math.abs(y - truth[k]) : Infinity;
    if (err > worstErr) {
      worstErr = err;
      worst = k;
    }
  }
  if (worst < 0) return { ok: true };
  return { ok: false, shape: false, flat: worst, yours: expected.data[scalar ? 0 : worst], truth: truth[worst], wrong };
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
    const d = Math.max(4, t.replace(/^-|e.*$/g, '').replace('.', '').replace(/^0+/, '').length);
    return num(v, Math.min(17, d));
  };
  return `your ${what} = ${y}${point ? ` at ${point}` : ''}; the true value is ${t}${fd === null ? '' : fdClause(fd, digits)}`;
}

/** An answer of the wrong shape, in words. */
export function shapeMismatch(what: string, expected: Shape, variable: string, actual: Shape, point: string): string {
  return `your ${what} has shape ${shapeStr(expected)}, but ${variable} has shape ${shapeStr(actual)}${point ? ` (at ${point})` : ''}`;
}
