import { roundTo, type Dtype } from './dtype.js';
import { DEFAULT_EPS } from './tolerance.js';

/**
 * Finite-difference steps, chosen per coordinate the numdifftools way (learned from its
 * step generators and Richardson tables, not copied): a short geometric sequence of
 * steps scaled to the coordinate, both to max(1,|x|) and to |x| itself (a coordinate of
 * 1e-7 near a kink at 0 needs steps far below 1e-7), a central difference at ±h and ±2h
 * at every level, and the level whose estimated total error (truncation + rounding +
 * roughness) is smallest. The sequence is fixed in advance, so every coordinate's points
 * go to the function in one batch (the native engine runs a batch across threads).
 */

export const MACHINE_EPS = 2.220446049250313e-16;
/** At most this many levels (step sizes) per coordinate: 4 evaluations each. */
export const MAX_LEVELS = 4;
/** Neighbouring levels are at most this far apart (more only when MAX_LEVELS must span a wider range). */
export const LEVEL_RATIO = 16;
/** Evaluations per level: x ± h and x ± 2h. */
export const POINTS_PER_LEVEL = 4;

/** Fixed (`eps` given: h = eps·max(1,|x|), one level, as before) or adaptive (the default). */
export interface StepRule {
  eps?: number;
  /**
   * The precision the function computes in (float64 when absent): the steps are sized
   * from its spacing ε (the classic step cbrt(ε)·max(1,|x|): 6e-6 in float64, 4.9e-3 in
   * float32) and made exact in it (x ± h are numbers of the format).
   */
  dtype?: Dtype;
  /** its spacing at 1 (2^-52 for float64, 2^-23 for float32) */
  unit?: number;
}

/** The classic relative step of a rule's precision: cbrt(ε). */
export function classicStep(rule: StepRule): number {
  return rule.unit === undefined || rule.unit === MACHINE_EPS ? DEFAULT_EPS : Math.cbrt(rule.unit);
}

/** Levels above the classic step, tried where rounding swamps it (a sum of millions of terms). */
export const UP_LEVELS = 2;

/** Most evaluations one coordinate (or one direction) may take under this rule: the first level, then the larger or the smaller ones, or both. */
export function evaluationsPerCoordinate(rule: StepRule): number {
  return POINTS_PER_LEVEL * (rule.eps !== undefined ? 1 : MAX_LEVELS + UP_LEVELS);
}

/**
 * The steps above the classic one: 16 and 256 times it (largest last); 4 and 16 times
 * in a lower precision, whose classic step is already large (4.9e-3 in float32).
 */
export function upSteps(large: number, rule: StepRule = {}): number[] {
  const hi = classicStep(rule) * Math.max(1, large);
  const ratio = classicStep(rule) === DEFAULT_EPS ? LEVEL_RATIO : 4;
  return Array.from({ length: UP_LEVELS }, (_, i) => hi * ratio ** (i + 1));
}

/**
 * The adaptive sequence with its first step raised to `floor` (where rounding, ε·S/h,
 * would take more than a tenth of the tolerance at the classic step), at most to the
 * largest step: the first level, the larger ones above it, the smaller ones below.
 */
export function sequence(small: number, large: number, rule: StepRule, floor = 0): { down: number[]; up: number[] } {
  const down = levelSteps(small, large, rule);
  if (rule.eps !== undefined) return { down, up: [] };
  const up = upSteps(large, rule);
  const first = Math.min(Math.max(down[0], floor), up[up.length - 1]);
  if (first === down[0]) return { down, up };
  return { down: [first, ...down.filter((h) => h < first)], up: up.filter((h) => h > first) };
}

/** The step below which rounding (ε·scale/h) would take more than a tenth of this tolerance budget. */
export function roundingFloor(scale: number, budget: number, unit = MACHINE_EPS): number {
  return budget > 0 && Number.isFinite(scale) ? (10 * unit * scale) / budget : 0;
}

/**
 * The steps tried at a coordinate whose magnitudes run from `small` to `large` (both |x|
 * for one coordinate; the smallest and largest |x_j| for a direction through many).
 * Largest first: c·max(1, large) down to c·min(1, small)/16, c = cbrt(ε).
 */
export function levelSteps(small: number, large: number, rule: StepRule): number[] {
  if (rule.eps !== undefined) return [rule.eps * Math.max(1, large)];
  const c = classicStep(rule);
  const hi = c * Math.max(1, large);
  // steps relative to a coordinate far below any float's scale would underflow: 1e-100 is far enough
  const lo = (c * (small > 0 ? Math.min(1, Math.max(small, 1e-100)) : 1)) / LEVEL_RATIO;
  const span = Math.log(hi / lo);
  const k = Math.min(MAX_LEVELS, 1 + Math.max(1, Math.ceil(span / Math.log(LEVEL_RATIO) - 1e-9)));
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(hi * Math.exp((-span * i) / (k - 1)));
  return out;
}

/**
 * A step h made exact at x: x + h is representable (in the precision, when given: the
 * step from x rounded to it, to x + h rounded to it), so the step divided by is the step
 * taken.
 */
export function exactStep(x: number, h: number, dtype: Dtype = 'float64'): number {
  if (dtype === 'float64') return x + h - x;
  const xr = roundTo(x, dtype);
  return roundTo(xr + h, dtype) - xr;
}

/** The four offsets of a level, in batch order: +h, −h, +2h, −2h. */
export function levelOffsets(h: number): [number, number, number, number] {
  return [h, -h, 2 * h, -2 * h];
}

/** What limits a difference that cannot judge. */
export type Limitation = 'rounding' | 'truncation' | 'rough';

export interface Estimate {
  /** the finite difference at the chosen level (central, or Richardson's extrapolation) */
  fd: number;
  /** its estimated error: truncation + rounding + roughness */
  err: number;
  /** the step of the chosen level */
  step: number;
  /** the largest part of err */
  limitation: Limitation;
  /** no level had finite values at all four points */
  undefined?: boolean;
  /** every finite level crossed a kink (branch codes); fd is the smallest such level's */
  crossed?: boolean;
  /** largest and smallest step tried */
  tried: [number, number];
  /** the levels believed (see bestEstimate), each with its own difference and error */
  support?: { fd: number; err: number }[];
  /** levels evaluated */
  levels?: number;
}

export interface LevelInput {
  /** f at the base point */
  f0: number;
  /** 4 values per level (see levelOffsets), in any order of steps */
  values: ArrayLike<number>;
  /** where this coordinate's levels start in `values` */
  offset: number;
  /** value stride between points (1, or the output count when only one output is read) */
  stride?: number;
  /** the actual offsets taken per level: [+h, −h, +2h, −2h] (the point's own rounding included) */
  steps: number[][];
  /** ε·scale is the rounding error of one evaluation, at least (the largest magnitude computed) */
  scale: number;
  richardson: boolean;
  /** the precision's spacing at 1: ε·scale is one evaluation's rounding (float64's when absent) */
  unit?: number;
  /**
   * the noise of one value of f measured from the function's own values (the spread of
   * their fourth differences; see measureNoise): rounding is never taken below it
   */
  noise?: number;
  /** which levels crossed a kink (branch codes), when the function can tell */
  crossed?: (level: number) => boolean;
}

/**
 * The best difference over the levels. For each: D(h), D(2h), the truncation estimate
 * |D(h) − D(2h)|/3 (the h² term), rounding ε·S/h (S the largest magnitude seen), and
 * roughness |J(2h) − 2J(h)| beyond its own rounding, where J(h) is the gap between the
 * one-sided slopes: J grows like h·f'' where f is smooth, and stays put at a kink.
 *
 * A level's own estimate is believed only as far as the finer levels bear it out: from
 * the smallest step up, a level is kept when it agrees with every finer level kept,
 * within three times its own error and the finer level's rounding (a larger step has
 * more truncation, not less: it can only improve on rounding); its error is then at
 * least the gap the finer level's rounding does not cover. The kept level with the
 * smallest error wins. Steps far larger than the function's features give differences
 * that agree with each other and are wrong (sin(x²) at x = 10⁴ with h = 0.07): they
 * disagree with the finer levels and are passed over.
 */
export function bestEstimate(o: LevelInput): Estimate {
  const stride = o.stride ?? 1;
  const levels = o.steps.length;
  const finite: { e: Estimate; round: number; crossed: boolean }[] = [];
  let anyValue: Estimate | null = null;
  // roughness·h per level: constant for rounding noise (noise/h), growing with h at a kink
  const roughness: [number, number][] = [];
  for (let l = 0; l < levels; l++) {
    const base = o.offset + l * POINTS_PER_LEVEL * stride;
    const fp = o.values[base];
    const fm = o.values[base + stride];
    const fp2 = o.values[base + 2 * stride];
    const fm2 = o.values[base + 3 * stride];
    const [hp, hm, hp2, hm2] = o.steps[l];
    const h = (hp - hm) / 2;
    const d1 = (fp - fm) / (hp - hm);
    const d2 = (fp2 - fm2) / (hp2 - hm2);
    const fd = o.richardson ? (4 * d1 - d2) / 3 : d1;
    if (!(Number.isFinite(fp) && Number.isFinite(fm) && Number.isFinite(fp2) && Number.isFinite(fm2))) {
      anyValue ??= { fd, err: Infinity, step: h, limitation: 'rounding', tried: [0, 0] };
      continue;
    }
    const s = Math.max(o.scale, Math.abs(o.f0), Math.abs(fp), Math.abs(fm), Math.abs(fp2), Math.abs(fm2));
    const rounding = Math.max((o.unit ?? MACHINE_EPS) * s, o.noise ?? 0) / h;
    const truncation = Math.abs(d1 - d2) / 3;
    let rough = 0;
    if (Number.isFinite(o.f0)) {
      const j1 = (fp - o.f0) / hp - (o.f0 - fm) / -hm;
      const j2 = (fp2 - o.f0) / hp2 - (o.f0 - fm2) / -hm2;
      rough = Math.max(0, Math.abs(j2 - 2 * j1) - 10 * rounding);
      if (rough > 0) roughness.push([h, rough]);
    }
    const round = o.richardson ? 1.5 * rounding : rounding;
    const limitation: Limitation = rough > Math.max(truncation, round) ? 'rough' : round >= truncation ? 'rounding' : 'truncation';
    finite.push({ e: { fd, err: truncation + round + rough, step: h, limitation, tried: [0, 0] }, round, crossed: !!o.crossed?.(l) });
  }
  finite.sort((a, b) => a.e.step - b.e.step);
  let best: Estimate | null = null;
  const believed: { fd: number; round: number; err: number }[] = [];
  for (const { e, round, crossed } of finite) {
    if (crossed) continue;
    let err = e.err;
    let agrees = true;
    for (const k of believed) {
      // a larger step has more truncation, not less: only a finer level's rounding widens the window
      const gap = Math.abs(e.fd - k.fd);
      if (!(gap <= 3 * (e.err + k.round))) agrees = false;
      else err = Math.max(err, gap - k.round);
    }
    if (!agrees) continue;
    believed.push({ fd: e.fd, round, err });
    if (!best || err < best.err) best = { ...e, err };
  }
  const hs = o.steps.map((s) => (s[0] - s[1]) / 2);
  const tried: [number, number] = [Math.max(...hs), Math.min(...hs)];
  if (best?.limitation === 'rough' && isNoise(roughness)) best.limitation = 'rounding';
  if (best) return { ...best, tried, support: believed.map(({ fd, err }) => ({ fd, err })), levels };
  // every finite level crossed a kink: the smallest is shown, the nearest the derivative gets
  const crossed = finite.find((x) => x.crossed);
  if (crossed) return { ...crossed.e, crossed: true, tried };
  return { ...(anyValue ?? { fd: NaN, err: Infinity, step: tried[1], limitation: 'rounding' }), undefined: true, tried };
}

/**
 * Roughness that shrinks as the step grows, like noise/h, is rounding the model did not
 * foresee (a sum of millions of terms rounds more than ε times its size); at a kink it
 * stays put (or grows with the step). Needs two levels at least 4× apart.
 */
function isNoise(roughness: [number, number][]): boolean {
  if (roughness.length < 2) return false;
  const [small, large] = [roughness.reduce((a, b) => (b[0] < a[0] ? b : a)), roughness.reduce((a, b) => (b[0] > a[0] ? b : a))];
  return large[0] >= 4 * small[0] && small[1] >= 4 * large[1];
}

/** `±6.1e-6`, `±1e-15 … ±6.1e-6` */
export function stepText(h: number): string {
  return `±${h.toExponential(1).replace('e+', 'e').replace(/\.0e/, 'e')}`;
}

/** Why a difference could not judge, in words. */
export function limitationText(e: Estimate): string {
  const range = e.tried[0] === e.tried[1] ? stepText(e.step) : `${stepText(e.tried[1])} … ${stepText(e.tried[0])}`;
  const est = `estimated error ${Number(e.err.toPrecision(2))}`;
  switch (e.limitation) {
    case 'rough':
      return `the one-sided slopes disagree at every step tried (${range}; ${est}): a kink, or curvature finer than the steps`;
    case 'truncation':
      return `the function curves too much for the steps tried (${range}; ${est})`;
    default:
      return `rounding dominates at every step tried (${range}; ${est})`;
  }
}

/**
 * The noise of one value of f, measured from its own values (numdifftools estimates its
 * error from the spread of its difference table; this is the same idea one order up):
 * the fourth difference f(x−2h) − 4f(x−h) + 6f(x) − 4f(x+h) + f(x+2h) is h⁴f⁽⁴⁾ for a
 * smooth f — far below rounding at the classic step — and √70·σ for values with
 * independent noise σ. `fourth` holds one such difference per coordinate; their median
 * (robust to a few coordinates at a kink) over 0.674 (the half-normal's median) is σ,
 * and twice σ (a 95% bound) is returned.
 */
export function measureNoise(fourth: number[]): number {
  const a = fourth
    .filter(Number.isFinite)
    .map(Math.abs)
    .sort((x, y) => x - y);
  if (!a.length) return 0;
  const median = a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  return (2 * median) / 0.674 / Math.sqrt(70);
}

/** The fourth difference of one level's values (offsets +h, −h, +2h, −2h) around f0. */
export function fourthDifference(f0: number, v: ArrayLike<number>): number {
  return v[3] - 4 * v[1] + 6 * f0 - 4 * v[0] + v[2];
}
