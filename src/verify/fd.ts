import type { Engine } from '../core/engine/types.js';
import type { Tape } from '../core/graph/tape.js';
import { Rng } from '../core/random.js';
import type { Nested } from '../core/parse/values.js';
import { nested, subscriptOf } from './forms.js';
import { evaluate, runSync, type Ask, type FunctionUnderTest, type InputSpec } from './evaluator.js';
import { precisionTolerance, roundTo, type Dtype, type Precision } from './dtype.js';
import {
  bestEstimate,
  exactStep,
  fourthDifference,
  levelOffsets,
  limitationText,
  measureNoise,
  POINTS_PER_LEVEL,
  roundingFloor,
  sequence,
  stepText,
  type Estimate,
  type StepRule,
} from './steps.js';
import { tapeFunction, tapeInputs } from './tape.js';
import { DEFAULT_ATOL, DEFAULT_DIRECTIONS, DEFAULT_EPS, DEFAULT_FD_MAX, DEFAULT_RTOL, DEFAULT_SAMPLE, relError, type Tolerance } from './tolerance.js';

export type FdMethod = 'central' | 'richardson';

export interface CheckOptions {
  rtol?: number;
  atol?: number;
  /** a fixed relative step (h = eps·max(1, |x|)); without it, steps adapt per coordinate */
  eps?: number;
  method?: FdMethod;
  /** full differences while the inputs have at most this many entries */
  fdMax?: number;
  directions?: number;
  sample?: number;
  seed?: number;
  /** the precision the function under test computes in; detected from its values when not given (a function check: gradcheck --exec, --module, a JS function) */
  dtype?: Dtype;
  /** a function check that judged too few entries passes anyway (otherwise it fails: nothing judged is not a pass) */
  allowUnjudged?: boolean;
}

/**
 * A function check fails when an input has no judged entry or fewer than this share of
 * all its entries were judged (unless allowUnjudged); a formula check only when it judged
 * nothing at all (a single kink stays "cannot judge here").
 */
export const MIN_JUDGED_SHARE = 0.5;

/**
 * pass, fail; kink: finite differences cannot judge (a step crossed a kink, or the
 * function is not smooth there); noisy: cannot judge (rounding or curvature at every
 * step, or f undefined within a step); nonfinite: the gradient is NaN or infinite.
 */
export type EntryStatus = 'pass' | 'fail' | 'kink' | 'noisy' | 'nonfinite';

export interface EntryCheck {
  /** `x`, `W1[3,7]` (1-based) */
  entry: string;
  variable: string;
  ad: number;
  fd: number;
  absError: number;
  relError: number;
  /** estimated error of the finite difference itself */
  fdError: number;
  /** the step the difference was taken with (the best of those tried) */
  step?: number;
  status: EntryStatus;
  /** passed only by the absolute tolerance (the relative error is above rtol) */
  byAtol?: boolean;
  /** for entries not judged: why (which kink, what limits the difference) */
  note?: string;
}

export interface DirectionCheck {
  ad: number;
  fd: number;
  absError: number;
  relError: number;
  fdError?: number;
  step?: number;
  status: EntryStatus;
  byAtol?: boolean;
  note?: string;
}

/** The verdict of a finite-difference comparison and the tolerance it was judged by. */
export interface CheckSummary {
  passed: boolean;
  rtol: number;
  atol: number;
  eps: number;
  maxAbsError: number;
  maxRelError: number;
  /** function evaluations spent */
  evaluations: number;
}

export interface VariableVerdict {
  passed: boolean;
  maxAbsError: number;
  maxRelError: number;
  /** entries differenced (all, or the sampled ones) */
  checked: number;
  /** entries at a kink */
  kinks: number;
  /** entries finite differences could not judge (kinks included) */
  unjudged: number;
  /** entries that passed only by the absolute tolerance */
  byAtol: number;
  /** the absolute tolerance this input was judged by, when it has its own (a lower precision: rtol × its gradient's RMS) */
  atol?: number;
}

export interface CheckResult extends CheckSummary {
  /** 'central' | 'richardson' */
  method: FdMethod;
  /** adaptive: the best of a few steps per coordinate; fixed: h = eps·max(1,|x|) (`eps` given) */
  steps: 'adaptive' | 'fixed';
  /** full: every entry; directional: random directions plus sampled entries */
  mode: 'full' | 'directional';
  entries: EntryCheck[];
  directions?: DirectionCheck[];
  /** the finite-difference gradient per variable (full mode), shaped like the variables */
  finiteDifference?: Record<string, Nested>;
  /** per-variable verdicts */
  variables: Record<string, VariableVerdict>;
  /** the (up to five) worst failing entries */
  failures: EntryCheck[];
  /** the precision assumed (a function check), and how it was known */
  precision?: Precision;
  /** the function's noise per value, measured from its own values */
  noise?: number;
  /** entries (and directions) judged, of `total` */
  judged: number;
  total: number;
  /** why too little was judged for a pass (the check then failed, unless allowUnjudged) */
  unjudgedReason?: string;
}

/** The name of flat entry j (`x`, `W1[3,7]`), made only for the entries judged. */
export function entryNamer(inputs: InputSpec[]): (j: number) => { variable: string; name: string } {
  return (j) => {
    let k = inputs.length - 1;
    while (inputs[k].offset > j) k--;
    const inp = inputs[k];
    return { variable: inp.name, name: inp.name + subscriptOf(inp.shape, j - inp.offset) };
  };
}

/** Split a flat buffer in input order into `{name: nested}`. */
export function perInput(inputs: InputSpec[], flat: Float64Array): Record<string, Nested> {
  const out: Record<string, Nested> = Object.create(null);
  for (const inp of inputs) out[inp.name] = nested(inp.shape, flat.subarray(inp.offset, inp.offset + inp.size)) as Nested;
  return out;
}

/** Split a flat buffer in tape-input order into `{name: nested}`. */
export function perVariable(tape: Tape, flat: Float64Array): Record<string, Nested> {
  return perInput(tapeInputs(tape), flat);
}

/** The step rule and tolerance of a set of options (in a precision: steps sized from it, the tolerance of precisionTolerance). */
export function settings(opts: CheckOptions, precision?: Precision, ad?: ArrayLike<number>): { rule: StepRule; tol: Tolerance; method: FdMethod } {
  const low = precision && precision.dtype !== 'float64';
  return {
    rule: low ? { eps: opts.eps, dtype: precision.dtype, unit: precision.unit } : { eps: opts.eps },
    tol: precision ? precisionTolerance(precision, opts, ad ?? []) : { rtol: opts.rtol ?? DEFAULT_RTOL, atol: opts.atol ?? DEFAULT_ATOL },
    method: opts.method ?? 'central',
  };
}

/**
 * One coordinate's (or one direction's) step levels, largest step first, and the
 * values at those evaluated so far. Levels are evaluated in stages: the largest (the
 * classic step cbrt(ε)·max(1,|x|)) for every coordinate in one batch, the rest in a
 * second batch only for the coordinates the first could not settle.
 */
export interface Levels {
  /** the flat entry moved, or -1: along the direction */
  coord: number;
  /** per level: the offsets [+h, −h, +2h, −2h] as taken; the classic step first, then smaller ones */
  steps: number[][];
  /** the same for the larger steps, which replace the smaller ones where rounding swamps the first level */
  up: number[][];
  /** per evaluated level: f at its 4 points, `outputs` values each */
  raw: Float64Array[];
  /** per evaluated level: some point's branch code differs from the base point's */
  crossed: boolean[];
  /** the coordinate and its value rounded to the precision, when they differ: the offsets are from the rounded one */
  from?: { x: number; xr: number };
}

/** The levels of flat entry j at x; the first step at least `floor`. */
export function coordinateLevels(j: number, x: number, rule: StepRule, floor = 0): Levels {
  const dtype = rule.dtype ?? 'float64';
  const xr = roundTo(x, dtype);
  const offsets = (hs: number[]) =>
    hs
      .map((h) => exactStep(x, h, dtype))
      .filter((h) => h > 0)
      .map((h) => levelOffsets(h).map((d) => roundTo(xr + d, dtype) - xr));
  const a = Math.abs(x);
  const { down, up } = sequence(a, a, rule, floor);
  return { coord: j, steps: offsets(down), up: offsets(up), raw: [], crossed: [], ...(xr !== x ? { from: { x, xr } } : {}) };
}

/** The levels along a direction through every entry (|x| from the smallest nonzero to the largest entry set the steps). */
export function directionLevels(point: Float64Array, rule: StepRule, floor = 0): Levels {
  let small = Infinity;
  let large = 0;
  for (const v of point) {
    const a = Math.abs(v);
    if (a > large) large = a;
    if (a > 0 && a < small) small = a;
  }
  const { down, up } = sequence(small === Infinity ? 0 : small, large, rule, floor);
  return { coord: -1, steps: down.map((h) => levelOffsets(h)), up: up.map((h) => levelOffsets(h)), raw: [], crossed: [] };
}

/** The rounding scale known before evaluating: a tape's intermediates, or |f| at the point when the function gave it. */
function knownScale(f: FunctionUnderTest, read: Pick): number {
  return Math.max(f.scale ?? 0, f.value ? Math.abs(read(f.value, 0)) : 0);
}

/**
 * After the first level, what it could not settle: where rounding swamped it (the gap
 * to the gradient within its noise), the larger steps are tried next (a smaller one
 * would only be noisier); where its one-sided slopes disagree (a kink, or noise a single
 * level cannot tell from one) both; anywhere else — curvature, a crossed kink, a
 * failure, which needs finer steps to confirm it — the smaller ones.
 */
export function chooseMore(lv: Levels, first: Estimate, status: EntryStatus): boolean {
  if (!first.crossed && !first.undefined && lv.up.length && status !== 'fail') {
    if (first.limitation === 'rounding') lv.steps = [lv.steps[0], ...lv.up];
    else if (first.limitation === 'rough') lv.steps = [...lv.steps, ...lv.up];
  }
  return lv.steps.length > lv.raw.length;
}

/**
 * Evaluate the next levels (up to `upTo` in all) of each of `list` in one batch — with
 * the base point first when `base` — and file the values; returns the base point's
 * values and branch code when asked for, and the number of points evaluated.
 */
export function* evaluateLevels(
  f: FunctionUnderTest,
  list: Levels[],
  upTo: number,
  o: { base?: boolean; direction?: Float64Array; code0?: number },
): Ask<{ f0?: Float64Array; code0?: number; points: number }> {
  const m = f.outputs;
  let count = o.base ? 1 : 0;
  for (const lv of list) count += (Math.min(upTo, lv.steps.length) - lv.raw.length) * POINTS_PER_LEVEL;
  if (count === 0) return { points: 0 };
  const coord = new Int32Array(count);
  const delta = new Float64Array(count);
  let p = o.base ? 1 : 0;
  for (const lv of list) {
    for (let l = lv.raw.length; l < Math.min(upTo, lv.steps.length); l++) {
      coord.fill(lv.coord, p, p + POINTS_PER_LEVEL);
      // from x, the point sent, to the rounded coordinate plus the offset: what the function computes at
      const from = lv.from;
      delta.set(from ? lv.steps[l].map((d) => from.xr + d - from.x) : lv.steps[l], p);
      p += POINTS_PER_LEVEL;
    }
  }
  const ev = yield* evaluate({ coord, delta, direction: o.direction });
  const code0 = o.base ? ev.branches?.[0] : o.code0;
  p = o.base ? 1 : 0;
  for (const lv of list) {
    for (let l = lv.raw.length; l < Math.min(upTo, lv.steps.length); l++) {
      lv.raw.push(ev.values.slice(p * m, (p + POINTS_PER_LEVEL) * m));
      let crossed = false;
      if (ev.branches && code0 !== undefined) for (let k = 0; k < POINTS_PER_LEVEL; k++) crossed ||= ev.branches[p + k] !== code0;
      lv.crossed.push(crossed);
      p += POINTS_PER_LEVEL;
    }
  }
  return { f0: o.base ? ev.values.slice(0, m) : undefined, code0, points: count };
}

/** Reads f's value (or a projection uᵀf, or output i) from a point's `outputs` values. */
export type Pick = (raw: Float64Array, point: number) => number;

export function pick(outputs: number, o: { projection?: Float64Array; output?: number } = {}): Pick {
  const u = o.projection;
  if (u) {
    return (raw, p) => {
      let s = 0;
      for (let i = 0; i < outputs; i++) s += u[i] * raw[p * outputs + i];
      return s;
    };
  }
  const i = o.output ?? 0;
  return outputs === 1 ? (raw, p) => raw[p] : (raw, p) => raw[p * outputs + i];
}

/** The best difference over the levels evaluated so far. */
export function estimateLevels(lv: Levels, read: Pick, f0: number, scale: number, method: FdMethod, noise?: { unit?: number; noise?: number }): Estimate {
  const n = lv.raw.length;
  const values = new Float64Array(n * POINTS_PER_LEVEL);
  for (let l = 0; l < n; l++) for (let k = 0; k < POINTS_PER_LEVEL; k++) values[l * POINTS_PER_LEVEL + k] = read(lv.raw[l], k);
  return bestEstimate({
    f0,
    values,
    offset: 0,
    steps: lv.steps.slice(0, n),
    scale,
    richardson: method === 'richardson',
    crossed: (l) => lv.crossed[l],
    ...noise,
  });
}

/** The noise of f per value from the first level of every coordinate (see measureNoise). */
export function levelNoise(levels: Levels[], read: Pick, f0: number): number {
  return measureNoise(
    levels
      .filter((lv) => lv.raw.length && !lv.crossed[0])
      .map((lv) =>
        fourthDifference(
          f0,
          [0, 1, 2, 3].map((k) => read(lv.raw[0], k)),
        ),
      ),
  );
}

/**
 * Judge one entry. A non-finite gradient fails whatever else holds; a step across a
 * kink cannot judge; a pass needs agreement within the tolerance by a difference whose
 * own estimated error is within it too (agreement by luck is no pass); a gap beyond
 * three times that error is a failure; anything between cannot be judged (as at a kink
 * where the function is not smooth there, as noise otherwise).
 */
export function judge(name: string, variable: string, ad: number, est: Estimate, tol: Tolerance, kinkNote?: () => string): EntryCheck {
  const fd = est.fd;
  const absError = Math.abs(ad - fd);
  const e: EntryCheck = { entry: name, variable, ad, fd, absError, relError: relError(ad, fd), fdError: est.err, step: est.step, status: 'fail' };
  const budget = tol.atol + tol.rtol * Math.max(Math.abs(ad), Math.abs(fd));
  if (!Number.isFinite(ad)) e.status = 'nonfinite';
  else if (est.crossed) {
    e.status = 'kink';
    e.note = kinkNote?.() ?? `a step of ${stepText(est.step)} crosses a kink`;
  } else if (est.undefined) {
    e.status = 'noisy';
    e.note = 'not finite within a finite-difference step (the point is at the edge of its domain)';
  } else if (absError <= budget && est.err <= budget) {
    e.status = 'pass';
    if (e.relError > tol.rtol) e.byAtol = true;
  } else if (absError <= 3 * est.err + budget) {
    e.status = est.limitation === 'rough' ? 'kink' : 'noisy';
    e.note = limitationText(est);
  } else if (!confirmed(ad, est, budget, tol.atol)) {
    e.status = 'noisy';
    e.note = `the differences at the steps tried (${stepText(est.tried[1])} … ${stepText(est.tried[0])}) disagree with each other: no step resolves the function here`;
  }
  return e;
}

/**
 * A failure needs two levels of steps that agree with each other and each disagree with
 * the gradient beyond their errors (one level, when only one was tried, as with a fixed
 * --eps), each level determined: its error within atol or below its own size.
 * A difference whose error estimate is fooled (a step far coarser than the function's
 * features) is rarely confirmed by another.
 */
function confirmed(ad: number, est: Estimate, budget: number, atol: number): boolean {
  if (!est.support || (est.levels ?? 1) <= 1) return true;
  return est.support.filter((k) => Math.abs(ad - k.fd) > 3 * k.err + budget && (k.err <= atol || k.err < Math.abs(k.fd))).length >= 2;
}

/** Random unit vector. */
export function unitVector(rng: Rng, n: number): Float64Array {
  const u = new Float64Array(n);
  let norm = 0;
  for (let j = 0; j < n; j++) norm += (u[j] = rng.normal()) ** 2;
  norm = Math.sqrt(norm);
  for (let j = 0; j < n; j++) u[j] /= norm;
  return u;
}

/** The coordinates to difference: all while n ≤ fdMax, else a seeded sample. */
export function chooseCoordinates(n: number, opts: CheckOptions, rng: Rng): { full: boolean; coords: number[] } {
  const full = n <= (opts.fdMax ?? DEFAULT_FD_MAX);
  if (full) return { full, coords: Array.from({ length: n }, (_, j) => j) };
  const pick = new Set<number>();
  const want = Math.min(opts.sample ?? DEFAULT_SAMPLE, n);
  while (pick.size < want) pick.add(rng.int(n));
  return { full, coords: [...pick].sort((a, b) => a - b) };
}

/**
 * The finite-difference check of a scalar function's gradient `ad` (flat, in input
 * order) — or of a projection uᵀf of a tensor function, with `ad` = Jᵀu: every entry
 * while the inputs have at most fdMax entries, else random directions (∇f·u against
 * the difference along u) plus a sample of entries. Asks only for evaluations.
 */
export function* checkScalar(
  f: FunctionUnderTest,
  ad: Float64Array,
  opts: CheckOptions = {},
  more: { projection?: Float64Array; forward?: Float64Array } = {},
): Ask<CheckResult> {
  const precision = f.precision;
  const { rule, method } = settings(opts, precision, ad);
  const { tol, at: tolAt, per } = inputTolerances(f.inputs, ad, opts, precision);
  const unit = precision?.unit;
  const n = f.point.length;
  const names = entryNamer(f.inputs);
  const rng = new Rng(opts.seed ?? 0);
  const { full, coords } = chooseCoordinates(n, opts, rng);
  const read = pick(f.outputs, { projection: more.projection });

  // stage 1: every coordinate at the classic step (raised where rounding would swamp
  // it), and the base point, in one batch
  const s0 = knownScale(f, read);
  const floorFor = (a: number, t = tol) => (rule.eps !== undefined ? 0 : roundingFloor(s0, t.atol + t.rtol * Math.abs(a), unit));
  const levels = coords.map((j) => coordinateLevels(j, f.point[j], rule, floorFor(ad[j], tolAt(j))));
  const first = yield* evaluateLevels(f, levels, 1, { base: true });
  let evaluations = first.points;
  const f0 = read(first.f0!, 0);
  const code0 = first.code0;
  const scale = f.scale ?? Math.abs(f0);
  // a function's own noise, measured (a formula's rounding is known from its tape)
  const noise = precision ? levelNoise(levels, read, f0) : undefined;
  const model = { unit, noise };
  const estimates: Estimate[] = [];
  const judgeAt = (q: number): EntryCheck => {
    const j = coords[q];
    const est = (estimates[q] = estimateLevels(levels[q], read, f0, scale, method, model));
    const nm = names(j);
    const e = judge(nm.name, nm.variable, ad[j], est, tolAt(j), f.kinkNote && (() => f.kinkNote!(j, est.step)));
    if (!Number.isFinite(f0)) {
      e.status = 'nonfinite';
      e.note = `the value itself is ${f0}`;
    } else if (more.forward && !Number.isFinite(more.forward[j]) && Number.isFinite(ad[j])) {
      // a gradient that is not finite fails whichever mode computed it
      e.status = 'nonfinite';
      e.note = `forward mode gives ${more.forward[j]}`;
    }
    return e;
  };
  const entries = coords.map((_, q) => judgeAt(q));
  // stage 2: the smaller steps, in one batch, only where the classic step did not settle it
  const open = entries
    .map((_, q) => q)
    .filter((q) => entries[q].status !== 'pass' && entries[q].status !== 'nonfinite' && chooseMore(levels[q], estimates[q], entries[q].status));
  if (open.length && Number.isFinite(f0)) {
    evaluations += (yield* evaluateLevels(
      f,
      open.map((q) => levels[q]),
      Infinity,
      { code0 },
    )).points;
    for (const q of open) entries[q] = judgeAt(q);
  }
  const fdAll = full ? new Float64Array(n) : undefined;
  if (fdAll) entries.forEach((e, q) => (fdAll[coords[q]] = e.fd));

  let directions: DirectionCheck[] | undefined;
  if (!full) {
    directions = [];
    const K = opts.directions ?? DEFAULT_DIRECTIONS;
    for (let k = 0; k < K; k++) {
      const u = unitVector(rng, n);
      let adU = 0;
      for (let j = 0; j < n; j++) adU += ad[j] * u[j];
      const lv = directionLevels(f.point, rule, floorFor(adU));
      let est: Estimate;
      const judgeDir = () =>
        judge(`direction ${k + 1}`, '', adU, (est = estimateLevels(lv, read, f0, scale, method, model)), tol, () => 'the step crossed a kink');
      evaluations += (yield* evaluateLevels(f, [lv], 1, { direction: u, code0 })).points;
      let e = judgeDir();
      if (e.status !== 'pass' && e.status !== 'nonfinite' && chooseMore(lv, est!, e.status)) {
        evaluations += (yield* evaluateLevels(f, [lv], Infinity, { direction: u, code0 })).points;
        e = judgeDir();
      }
      directions.push({
        ad: e.ad,
        fd: e.fd,
        absError: e.absError,
        relError: e.relError,
        fdError: e.fdError,
        step: e.step,
        status: e.status,
        ...(e.byAtol ? { byAtol: true } : {}),
        ...(e.note ? { note: e.note } : {}),
      });
    }
  }
  return summarize(f.inputs, entries, directions, fdAll, { tol, per, method, rule, full, evaluations, precision, noise, allowUnjudged: opts.allowUnjudged });
}

/**
 * The tolerance of each entry: one for all (a formula, float64, or atol given); in a
 * lower precision atol is per input, rtol × the RMS of that input's gradient (so an
 * input whose gradient is small beside another's is judged on its own scale). The
 * tolerance reported is the largest.
 */
function inputTolerances(
  inputs: InputSpec[],
  ad: Float64Array,
  opts: CheckOptions,
  precision?: Precision,
): { tol: Tolerance; at: (j: number) => Tolerance; per?: Tolerance[] } {
  const all = settings(opts, precision, ad).tol;
  if (!precision || precision.dtype === 'float64' || opts.atol !== undefined) return { tol: all, at: () => all };
  const per = inputs.map((inp) => precisionTolerance(precision, opts, ad.subarray(inp.offset, inp.offset + inp.size)));
  const tol = { rtol: all.rtol, atol: Math.max(...per.map((t) => t.atol)) };
  return {
    tol,
    per,
    at: (j) => {
      let k = inputs.length - 1;
      while (k > 0 && inputs[k].offset > j) k--;
      return per[k];
    },
  };
}

/** A failure: a wrong derivative, or one that is NaN or infinite. */
export const failed = (s: EntryStatus) => s === 'fail' || s === 'nonfinite';

/** Per-variable verdicts, the worst failures and the overall verdict of judged entries and directions. */
export function summarize(
  inputs: InputSpec[],
  entries: EntryCheck[],
  directions: DirectionCheck[] | undefined,
  fdAll: Float64Array | undefined,
  o: {
    tol: Tolerance;
    per?: Tolerance[];
    method: FdMethod;
    rule: StepRule;
    full: boolean;
    evaluations: number;
    precision?: Precision;
    noise?: number;
    allowUnjudged?: boolean;
  },
): CheckResult {
  const judged = [...entries, ...(directions ?? [])];
  const variables: CheckResult['variables'] = Object.create(null);
  inputs.forEach((inp, k) => {
    variables[inp.name] = {
      passed: true,
      maxAbsError: 0,
      maxRelError: 0,
      checked: 0,
      kinks: 0,
      unjudged: 0,
      byAtol: 0,
      ...(o.per ? { atol: o.per[k].atol } : {}),
    };
  });
  for (const e of entries) {
    const v = variables[e.variable];
    v.checked++;
    if (e.status === 'kink') v.kinks++;
    if (e.status === 'kink' || e.status === 'noisy') v.unjudged++;
    if (e.byAtol) v.byAtol++;
    if (failed(e.status)) v.passed = false;
    if (e.status === 'pass' || e.status === 'fail') {
      v.maxAbsError = Math.max(v.maxAbsError, e.absError);
      v.maxRelError = Math.max(v.maxRelError, e.relError);
    }
  }
  // errors are reported over the entries that were judged (kinks and noise are warnings of their own)
  const counted = judged.filter((e) => e.status === 'pass' || e.status === 'fail');
  const failures = entries
    .filter((e) => failed(e.status))
    .sort((a, b) => (Number.isFinite(b.absError) ? b.absError : Infinity) - (Number.isFinite(a.absError) ? a.absError : Infinity))
    .slice(0, 5);
  const unjudgedReason = tooLittleJudged(variables, counted.length, judged.length, o.full ? null : (directions ?? []), o.precision);
  return {
    passed: !judged.some((e) => failed(e.status)) && (!unjudgedReason || !!o.allowUnjudged),
    judged: counted.length,
    total: judged.length,
    ...(unjudgedReason ? { unjudgedReason } : {}),
    ...(o.precision ? { precision: o.precision } : {}),
    ...(o.noise !== undefined ? { noise: o.noise } : {}),
    method: o.method,
    steps: o.rule.eps !== undefined ? 'fixed' : 'adaptive',
    mode: o.full ? 'full' : 'directional',
    rtol: o.tol.rtol,
    atol: o.tol.atol,
    eps: o.rule.eps ?? DEFAULT_EPS,
    maxAbsError: counted.reduce((m, e) => Math.max(m, e.absError), 0),
    maxRelError: counted.reduce((m, e) => Math.max(m, e.relError), 0),
    evaluations: o.evaluations,
    entries,
    directions,
    finiteDifference: fdAll ? perInput(inputs, fdAll) : undefined,
    variables,
    failures,
  };
}

/**
 * Why a check judged too little to pass, or null. A function check (one with a
 * precision): an input none of whose entries was judged, or fewer than MIN_JUDGED_SHARE
 * of all entries (directions too, in directional mode) judged. A formula check: nothing
 * judged at all.
 */
export function tooLittleJudged(
  variables: Record<string, VariableVerdict>,
  judged: number,
  total: number,
  directions: DirectionCheck[] | null,
  precision: Precision | undefined,
): string | null {
  if (total === 0) return null;
  const help = judgeableHint(precision);
  if (judged === 0)
    return `finite differences ${total === 1 ? 'could not judge the only entry' : `judged none of the ${total} entries`}: nothing judged is not a pass — ${help}`;
  if (!precision) return null;
  const none = Object.entries(variables)
    .filter(([, v]) => v.checked > 0 && v.unjudged === v.checked)
    .map(([k]) => k);
  if (none.length) return `finite differences could not judge any entry of ${none.join(', ')}: an input with nothing judged has not passed — ${help}`;
  if (directions?.length && directions.every((d) => d.status !== 'pass' && !failed(d.status)))
    return `finite differences could not judge any of the ${directions.length} random directions — ${help}`;
  if (judged < MIN_JUDGED_SHARE * total)
    return `finite differences judged only ${judged} of ${total} entries (a pass needs at least ${Math.round(MIN_JUDGED_SHARE * 100)}%) — ${help}`;
  return null;
}

/** What would make a check judgeable, in words. */
function judgeableHint(precision: Precision | undefined): string {
  const dtype =
    precision?.dtype === 'float64' ? '--dtype float32 if the code runs in it, ' : precision ? `checked as ${precision.dtype} (${precision.source}); ` : '';
  const c = Math.cbrt(precision?.unit ?? 2 ** -52);
  const classic = c < 1e-3 ? c.toExponential(1) : String(Number(c.toPrecision(2)));
  return `${dtype}a step above ${classic} (--eps) or a smoother point; --allow-unjudged accepts it`;
}

/**
 * Finite differences of a tape's output at the arena's point, compared with the
 * reverse-mode gradient `ad` (flat, in tape-input order); a forward-mode gradient
 * given beside it must be finite where `ad` is; the adjoint of every node, when given,
 * sizes the rounding error.
 */
export function checkGradient(
  engine: Engine,
  tape: Tape,
  arena: Float64Array,
  ad: Float64Array,
  opts: CheckOptions = {},
  more: { forward?: Float64Array; adjoint?: Float64Array } = {},
): CheckResult {
  const { fn, evaluator } = tapeFunction(engine, tape, arena, more.adjoint);
  return runSync(checkScalar(fn, ad, opts, { forward: more.forward }), evaluator);
}

/** One entry ∂f_i/∂x_j of a Jacobian check. */
export interface JacobianEntry extends EntryCheck {
  /** `f[2]` */
  row: string;
  /** `W[3,7]` */
  column: string;
}

export interface JacobianCheck extends CheckSummary {
  method: FdMethod;
  steps: 'adaptive' | 'fixed';
  /** the (up to five) worst failing entries */
  failures: JacobianEntry[];
  /** the first (up to five) entries finite differences could not judge, and how many there were */
  unjudged: JacobianEntry[];
  unjudgedCount: number;
  /** entries that passed only by the absolute tolerance */
  byAtol: number;
  /** per input variable, over its columns */
  variables: Record<string, VariableVerdict>;
  precision?: Precision;
  /** entries judged, of `total` (m × n) */
  judged: number;
  total: number;
  /** why too little was judged for a pass */
  unjudgedReason?: string;
}

/**
 * Every entry of an m × n Jacobian J (row-major, rows `rows`) against central
 * differences of all m outputs, one input entry (column) at a time, each entry with
 * its own best step. Only the notable entries are kept: a Jacobian may have millions.
 */
export function* checkJacobian(f: FunctionUnderTest, J: Float64Array, rows: string[], opts: CheckOptions = {}): Ask<JacobianCheck> {
  const precision = f.precision;
  const { rule, tol, method } = settings(opts, precision, J);
  const n = f.point.length;
  const m = f.outputs;
  const names = entryNamer(f.inputs);
  const levels = Array.from({ length: n }, (_, j) => coordinateLevels(j, f.point[j], rule));
  const first = yield* evaluateLevels(f, levels, 1, { base: true });
  let evaluations = first.points;
  const f0 = first.f0!;
  const noise = precision ? f0.map((v, i) => levelNoise(levels, pick(m, { output: i }), v)) : undefined;
  const estimateAt = (i: number, j: number) =>
    estimateLevels(levels[j], pick(m, { output: i }), f0[i], Math.max(f.scale ?? 0, Math.abs(f0[i])), method, { unit: precision?.unit, noise: noise?.[i] });
  const judgeAt = (i: number, j: number, est = estimateAt(i, j)): EntryCheck => {
    const nm = names(j);
    return judge(nm.name, nm.variable, J[i * n + j], est, tol, f.kinkNote && (() => f.kinkNote!(j, est.step)));
  };
  // stage 2 for every column with an entry the classic step did not settle (larger steps
  // only when rounding swamped every such entry)
  const open: number[] = [];
  for (let j = 0; j < n; j++) {
    let unsettled: Estimate | null = null;
    let rounding = true;
    for (let i = 0; i < m; i++) {
      const est = estimateAt(i, j);
      const s = judgeAt(i, j, est).status;
      if (s === 'pass' || s === 'nonfinite') continue;
      unsettled = est;
      rounding &&= s === 'noisy' && est.limitation === 'rounding' && !est.crossed && !est.undefined;
    }
    if (unsettled && chooseMore(levels[j], rounding ? unsettled : { ...unsettled, limitation: 'truncation' }, 'noisy')) open.push(j);
  }
  if (open.length)
    evaluations += (yield* evaluateLevels(
      f,
      open.map((j) => levels[j]),
      Infinity,
      { code0: first.code0 },
    )).points;
  const failures: JacobianEntry[] = [];
  const unjudged: JacobianEntry[] = [];
  let unjudgedCount = 0;
  let byAtol = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  const variables: Record<string, VariableVerdict> = Object.create(null);
  for (const inp of f.inputs) variables[inp.name] = { passed: true, maxAbsError: 0, maxRelError: 0, checked: 0, kinks: 0, unjudged: 0, byAtol: 0 };
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = judgeAt(i, j);
      const v = variables[e.variable];
      v.checked++;
      if (e.byAtol) {
        byAtol++;
        v.byAtol++;
      }
      if (e.status === 'pass' || e.status === 'fail') {
        maxAbsError = Math.max(maxAbsError, e.absError);
        maxRelError = Math.max(maxRelError, e.relError);
        v.maxAbsError = Math.max(v.maxAbsError, e.absError);
        v.maxRelError = Math.max(v.maxRelError, e.relError);
      }
      if (e.status === 'pass') continue;
      const je: JacobianEntry = { ...e, row: rows[i], column: e.entry };
      if (failed(e.status)) {
        v.passed = false;
        failures.push(je);
        failures.sort((a, b) => (Number.isFinite(b.absError) ? b.absError : Infinity) - (Number.isFinite(a.absError) ? a.absError : Infinity));
        if (failures.length > 5) failures.pop();
      } else {
        v.unjudged++;
        if (e.status === 'kink') v.kinks++;
        unjudgedCount++;
        if (unjudged.length < 5) unjudged.push(je);
      }
    }
  }
  const total = m * n;
  const judged = total - unjudgedCount;
  const unjudgedReason = tooLittleJudged(variables, judged, total, null, precision);
  return {
    passed: Object.values(variables).every((v) => v.passed) && (!unjudgedReason || !!opts.allowUnjudged),
    judged,
    total,
    ...(unjudgedReason ? { unjudgedReason } : {}),
    ...(precision ? { precision } : {}),
    method,
    steps: rule.eps !== undefined ? 'fixed' : 'adaptive',
    ...tol,
    eps: rule.eps ?? DEFAULT_EPS,
    maxAbsError,
    maxRelError,
    evaluations,
    failures,
    unjudged,
    unjudgedCount,
    byAtol,
    variables,
  };
}
