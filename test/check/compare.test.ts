import { describe, expect, it } from 'vitest';
import { compare, counterexample, distinct, fitsShape, partial, pointText, shapeMismatch, shapeWords, verdictWords } from '../../src/verify/compare.js';
import { writtenDigits } from '../../src/verify/precision.js';
import type { EntryCheck } from '../../src/verify/fd.js';
import { scalar, tensor } from '../../src/core/tensor.js';

const fdEntry = (status: EntryCheck['status'], fd: number, note?: string): EntryCheck => ({
  entry: 'x',
  variable: 'x',
  ad: 1.3817732906760363,
  fd,
  absError: 0,
  relError: 0,
  fdError: 0,
  status,
  note,
});
const tol = { rtol: 1e-5, atol: 1e-7 };

describe('answers against the truth', () => {
  it('compares entry by entry within the tolerance; only a number written alone stands for every entry', () => {
    expect(compare(scalar(1 + 1e-9), Float64Array.of(1), [], tol)).toEqual({ ok: true, digits: 0 });
    expect(compare(tensor([3], [1, 5, 3]), Float64Array.of(1, 2, 3), [3], tol)).toEqual({
      ok: false,
      shape: false,
      flat: 1,
      yours: 5,
      truth: 2,
      wrong: 1,
      digits: 0,
      few: false,
    });
    expect(compare(scalar(2), Float64Array.of(2, 2, 2.5), [3], tol, { literal: true })).toMatchObject({ ok: false, flat: 2, wrong: 1 });
    // a number a formula gave is not spread over a tensor: that is a shape mistake
    expect(compare(scalar(2), Float64Array.of(2, 2, 2), [3], tol)).toEqual({ ok: false, shape: true, expected: [], actual: [3] });
    expect(compare(tensor([2], [1, 2]), Float64Array.of(1, 2, 3), [3], tol)).toEqual({ ok: false, shape: true, expected: [2], actual: [3] });
    // an infinite answer is not within rtol of a finite truth (|∞ − 4| ≤ rtol·∞ would say it is)
    expect(compare(scalar(-Infinity), Float64Array.of(-4), [], tol)).toMatchObject({ ok: false });
    expect(compare(scalar(Infinity), Float64Array.of(Infinity), [], tol)).toMatchObject({ ok: true });
    // a NaN answer is wrong, and the worst entry
    expect(compare(tensor([2], [1, NaN]), Float64Array.of(1.5, 2), [2], tol)).toMatchObject({ ok: false, flat: 1, wrong: 2 });
  });

  it('takes a column [n,1] for a vector [n] and a 1×1 for a number, but not a row for a column', () => {
    expect(fitsShape([3, 1], [3])).toBe(true);
    expect(fitsShape([3], [3, 1])).toBe(true);
    expect(fitsShape([1, 1], [])).toBe(true);
    expect(fitsShape([1], [])).toBe(true);
    expect(fitsShape([1, 3], [3])).toBe(false);
    expect(fitsShape([3], [1, 3])).toBe(false);
    expect(fitsShape([2, 3], [3, 2])).toBe(false);
    expect(fitsShape([], [2, 2])).toBe(false);
    expect(fitsShape([], [2, 2], true)).toBe(true);
    expect(compare(tensor([3, 1], [1, 2, 3]), Float64Array.of(1, 2, 3), [3], tol)).toEqual({ ok: true, digits: 0 });
  });

  it('judges written numbers at their digits and says which rule judged', () => {
    const rule = { ...tol, minDigits: 2 };
    const written = (text: string, truth: number) =>
      compare(scalar(Number(text)), Float64Array.of(truth), [], rule, { digits: Int8Array.of(writtenDigits(text)!) });
    const ok = written('-0.197', -0.196612);
    expect(ok).toEqual({ ok: true, digits: 3 });
    expect(verdictWords(ok, rule)).toBe('matches the 3 digits you wrote');
    const off = written('-0.57', -0.589836);
    expect(off).toMatchObject({ ok: false, digits: 2, few: false });
    expect(verdictWords(off, rule)).toBe('off by 3.4%, beyond the 2 digits you wrote');
    const few = written('-0.3', -0.26);
    expect(few).toMatchObject({ ok: false, few: true });
    expect(verdictWords(few, rule)).toBe('right when rounded to the 1 digit you wrote, but at least 2 significant digits are asked for');
    // a tensor answer keeps each entry's digits; numbers from code are judged by the tolerance
    expect(compare(tensor([2], [0.39, -0.58]), Float64Array.of(0.393224, -0.589836), [2], rule, { digits: Int8Array.of(2, 2) })).toEqual({
      ok: true,
      digits: 2,
    });
    expect(compare(tensor([2], [0.39, -0.58]), Float64Array.of(0.393224, -0.589836), [2], rule)).toMatchObject({ ok: false, wrong: 2, digits: 0 });
    expect(verdictWords(compare(scalar(1.1), Float64Array.of(1), [], rule), rule)).toBe('off by 10%, beyond rtol 1e-5, atol 1e-7');
    expect(verdictWords(compare(scalar(1), Float64Array.of(1), [], rule), rule)).toBe('within rtol 1e-5, atol 1e-7');
  });

  it('says a wrong shape in a student’s words, with the fix', () => {
    expect(shapeWords([])).toBe('a scalar');
    expect(shapeWords([3])).toBe('a column of 3');
    expect(shapeWords([1, 3])).toBe('a row 1×3');
    expect(shapeWords([3, 1])).toBe('a column 3×1');
    expect(shapeWords([2, 3])).toBe('2×3');
    expect(shapeMismatch('∂f/∂W', scalar(0.296), 'W', [2, 2], '', "for an outer product write q*x'")).toBe(
      "your ∂f/∂W is a scalar (0.296) but W is 2×2 — for an outer product write q*x'",
    );
  });

  it('shows two different numbers in as few digits as tell them apart', () => {
    expect(distinct(0.8414709848078965, 1.3817732906760363)).toEqual(['0.8415', '1.382']);
    expect(distinct(1.00001234, 1.00002345)).toEqual(['1.00001', '1.00002']);
    expect(distinct(1.000012345, 1.000012399)).toEqual(['1.0000123', '1.0000124']);
    expect(distinct(NaN, 2)).toEqual(['NaN', '2']);
  });

  it('writes the counterexample in the issue’s words, with what finite differences say', () => {
    const point = pointText({ x: scalar(1), y: scalar(0) }, ['x', 'y']);
    expect(point).toBe('x=1, y=0');
    const text = (fd?: EntryCheck | null) => counterexample('∂f/∂x', Math.sin(1), Math.sin(1) + Math.cos(1), point, fd);
    expect(text(fdEntry('pass', 1.38177329066))).toBe('your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382)');
    expect(text(fdEntry('kink', NaN, 'the point sits on a kink (abs)'))).toMatch(/\(finite differences cannot judge here: the point sits on a kink \(abs\)\)$/);
    expect(text(fdEntry('noisy', 1.4))).toMatch(/\(finite differences are too noisy to judge here: 1\.4\)$/);
    expect(text(fdEntry('fail', 2))).toMatch(/\(but finite differences give 2, so autodiff may be wrong here too\)$/);
    expect(text(undefined)).toMatch(/\(finite differences did not sample this entry\)$/);
    expect(text(null)).toBe('your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382');
  });

  it('names entries 1-based and shows small tensors whole, large ones by shape', () => {
    expect(partial('W1', [5, 8], 2 * 8 + 6)).toBe('∂f/∂W1[3,7]');
    expect(partial('v', [4], 0)).toBe('∂f/∂v[1]');
    expect(partial('x', [], 0)).toBe('∂f/∂x');
    expect(pointText({ v: tensor([2], [1, -2]), A: tensor([2, 2], [1, 2, 3, 4]), W: tensor([3, 4]) }, ['v', 'A', 'W'])).toBe(
      'v=[1, -2], A=[[1, 2], [3, 4]], W (3×4)',
    );
  });
});
