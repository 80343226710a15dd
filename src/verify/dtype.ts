import { AgError } from '../core/errors.js';
import { DEFAULT_ATOL, DEFAULT_RTOL, type Tolerance } from './tolerance.js';

/**
 * The precision the function under test computes in. A formula runs in float64; a
 * user's program in whatever it runs in — float32 for most ML code. Declared
 * (`--dtype`, `{ dtype }`) or detected: a program whose every returned number (value
 * and gradient) is exactly a float16 (or bfloat16, or float32) number is taken to
 * compute in it. The step ladder, the rounding noise and the tolerance follow from it.
 */
export type Dtype = 'float64' | 'float32' | 'float16' | 'bfloat16';
export const DTYPES: readonly Dtype[] = ['float64', 'float32', 'float16', 'bfloat16'];

interface Format {
  /** fraction bits (the spacing of numbers at 1 is 2^-bits) */
  bits: number;
  /** the smallest normal exponent */
  emin: number;
  /** the largest finite number */
  max: number;
  /** the default relative tolerance of a gradient check in it (JAX's check_grads table) */
  rtol: number;
}

const FORMATS: Record<Dtype, Format> = {
  float64: { bits: 52, emin: -1022, max: Number.MAX_VALUE, rtol: DEFAULT_RTOL },
  float32: { bits: 23, emin: -126, max: 3.4028234663852886e38, rtol: 2e-3 },
  float16: { bits: 10, emin: -14, max: 65504, rtol: 1e-2 },
  bfloat16: { bits: 7, emin: -126, max: 3.3895313892515355e38, rtol: 1e-1 },
};

export interface Precision {
  dtype: Dtype;
  /** the spacing of numbers at 1 (2^-52 for float64, 2^-23 for float32) */
  unit: number;
  /** declared by the caller, detected from the values returned, or the default (float64) */
  source: 'declared' | 'detected' | 'default';
}

export const FLOAT64: Precision = { dtype: 'float64', unit: 2 ** -52, source: 'default' };

export function precisionOf(dtype: Dtype, source: Precision['source']): Precision {
  return { dtype, unit: 2 ** -FORMATS[dtype].bits, source };
}

/** `--dtype float23` → one line naming the choices (exit 2). */
export function readDtype(v: unknown, where = '--dtype'): Dtype | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (DTYPES as readonly string[]).includes(v)) return v as Dtype;
  throw new AgError('usage', `${where}: ${typeof v === 'string' ? `"${v.slice(0, 40)}"` : typeof v} is not a precision: give one of ${DTYPES.join(', ')}`);
}

/** v rounded to the nearest number of the format (ties to even), ±Infinity beyond its range. */
export function roundTo(v: number, dtype: Dtype): number {
  if (dtype === 'float64' || v === 0 || !Number.isFinite(v)) return v;
  if (dtype === 'float32') return Math.fround(v);
  const f = FORMATS[dtype];
  const e = Math.max(Math.floor(Math.log2(Math.abs(v))), f.emin);
  // log2 may be off by one near a power of two: the quantum only needs to be at most the spacing
  const q = 2 ** (e - f.bits);
  const r = v / q;
  let n = Math.floor(r);
  const d = r - n;
  if (d > 0.5 || (d === 0.5 && n % 2 !== 0)) n++;
  const out = n * q;
  return Math.abs(out) > f.max ? Math.sign(out) * Infinity : out;
}

/** Every value is exactly a number of the format. */
function allIn(values: ArrayLike<number>[], dtype: Dtype): boolean {
  for (const a of values) for (let i = 0; i < a.length; i++) if (roundTo(a[i], dtype) !== a[i]) return false;
  return true;
}

/**
 * The precision of a function from the values it returned: the narrowest format that
 * holds every one exactly (float16, bfloat16, float32), else float64. Values that are
 * all integers say nothing: they fit every format. Nor do exact values from a point
 * that is itself exact in the format (x = 0.5 squared is a float16 whatever the code
 * computes in): a format counts only when some entry of `point` is not one of its
 * numbers, so the code must have rounded it.
 */
export function detectDtype(values: ArrayLike<number>[], point?: ArrayLike<number>): Dtype {
  let telling = false;
  for (const a of values) for (let i = 0; i < a.length && !telling; i++) telling = Number.isFinite(a[i]) && !Number.isInteger(a[i]);
  if (!telling) return 'float64';
  for (const d of ['float16', 'bfloat16', 'float32'] as const) if (allIn(values, d) && !(point && allIn([point], d))) return d;
  return 'float64';
}

/** The declared precision, or the one the values returned (at `point`) show. */
export function resolvePrecision(declared: Dtype | undefined, values: ArrayLike<number>[], point?: ArrayLike<number>): Precision {
  if (declared) return precisionOf(declared, 'declared');
  const d = detectDtype(values, point);
  return d === 'float64' ? FLOAT64 : precisionOf(d, 'detected');
}

/**
 * The tolerance in a precision, where the caller gave none: float64 keeps rtol 1e-5,
 * atol 1e-7; a lower precision takes JAX's gradient tolerance for it as rtol (float32
 * 2e-3, float16 1e-2, bfloat16 1e-1) and rtol × the RMS of the gradient under test as
 * atol (an entry near 0 is judged against the gradient's own scale, not against 1).
 */
export function precisionTolerance(p: Precision, given: { rtol?: number; atol?: number }, ad: ArrayLike<number>): Tolerance {
  if (p.dtype === 'float64') return { rtol: given.rtol ?? DEFAULT_RTOL, atol: given.atol ?? DEFAULT_ATOL };
  // (checkScalar passes one input's gradient at a time: atol per input)
  const rtol = given.rtol ?? FORMATS[p.dtype].rtol;
  let ss = 0;
  let n = 0;
  for (let i = 0; i < ad.length; i++) {
    if (!Number.isFinite(ad[i])) continue;
    ss += ad[i] * ad[i];
    n++;
  }
  const rms = n ? Math.sqrt(ss / n) : 0;
  return { rtol, atol: given.atol ?? Math.max(DEFAULT_ATOL, Number((rtol * rms).toPrecision(2))) };
}

/** `float32 (detected: every number returned is a float32)`, `float64 (declared)`. */
export function precisionText(p: Precision): string {
  if (p.source === 'detected') return `${p.dtype} (detected: every number returned is exactly a ${p.dtype}; --dtype to declare)`;
  return `${p.dtype} (${p.source === 'declared' ? 'declared' : 'assumed: the numbers returned are not all float32; --dtype to declare'})`;
}
