import { describe, expect, it } from 'vitest';
import { digitUnit, judgeDigits, offBy, writtenDigits } from '../../src/verify/precision.js';

const tol = { rtol: 1e-5, atol: 1e-7 };
/** The verdict for an answer written as `text`, at the default minimum of 2 digits. */
const judged = (text: string, truth: number, min = 2) => judgeDigits(Number(text), truth, writtenDigits(text)!, min, tol);

describe('numbers judged at the precision written', () => {
  it('counts the significant digits of the text as written', () => {
    expect(writtenDigits('-0.1970')).toBe(4);
    expect(writtenDigits('0.39')).toBe(2);
    expect(writtenDigits('1.2e-3')).toBe(2);
    expect(writtenDigits('-0.0049')).toBe(2);
    expect(writtenDigits('0')).toBe(1);
    expect(writtenDigits('-12')).toBe(2);
    expect(writtenDigits('100')).toBe(3);
    expect(writtenDigits('1e2')).toBe(1);
    expect(writtenDigits('.5')).toBe(1);
    expect(writtenDigits('+3.')).toBe(1);
    for (const t of ['0x1f', 'pi', '.inf', '1e', '', '-', '1.2.3', '2*x']) expect(writtenDigits(t), t).toBeNull();
  });

  it('passes within one unit of the last digit written, rounded or truncated (the issue’s examples)', () => {
    expect(judged('-0.197', -0.196612)).toBe('ok');
    expect(judged('-0.1966', -0.196612)).toBe('ok');
    expect(judged('-0.58', -0.589836)).toBe('ok');
    expect(judged('-0.57', -0.589836)).toBe('wrong');
    expect(judged('0.39', 0.393224)).toBe('ok');
    expect(judged('-0.0049', -0.00491)).toBe('ok');
    // more digits written, more precision asked
    expect(judged('-0.19670', -0.196612)).toBe('wrong');
    expect(digitUnit(-0.196612, 0, 3)).toBeCloseTo(0.001, 15);
  });

  it('asks for at least 2 digits (or min_digits), so a rough number cannot pass', () => {
    expect(judged('0', 0.3)).toBe('wrong');
    // right up to rounding, but too few digits; truncated to one digit it is just wrong
    expect(judged('-0.3', -0.26)).toBe('few');
    expect(judged('-0.2', -0.26)).toBe('wrong');
    expect(judged('2', 1)).toBe('wrong');
    expect(judged('-0.2', -0.196612)).toBe('ok');
    expect(judged('-0.197', -0.196612, 4)).toBe('few');
    expect(judged('-0.196', -0.196612, 4)).toBe('wrong');
    expect(judged('-0.195', -0.196612, 4)).toBe('wrong');
    expect(judged('-0.1966', -0.196612, 4)).toBe('ok');
    // a 0 passes for autodiff's rounding noise (within atol), and for a true 0
    expect(judged('0', 1e-17)).toBe('ok');
    expect(judged('0', 0)).toBe('ok');
    expect(judged('0.5', 0)).toBe('wrong');
  });

  it('is never stricter than the tolerance, and says how far off an answer is', () => {
    expect(judgeDigits(6.01, 6, 3, 2, { rtol: 0.01, atol: 0 })).toBe('ok');
    expect(judgeDigits(NaN, 1, 2, 2, tol)).toBe('wrong');
    expect(offBy(-0.57, -0.589836)).toBe('3.4%');
    expect(offBy(2, 0)).toBe('2 (the true value is 0)');
    expect(offBy(1e6, 1)).toBe('99999900%');
  });
});
