import { Rng } from '../core/random.js';
import { reference as askReference, jvp as askJvp, vjp as askVjp, type Ask, type FunctionUnderTest } from './evaluator.js';
import {
  checkJacobian,
  checkScalar,
  directionLevels,
  estimateLevels,
  evaluateLevels,
  failed,
  judge,
  pick,
  settings,
  unitVector,
  type CheckOptions,
  type CheckResult,
  type EntryCheck,
  type JacobianCheck,
} from './fd.js';
import { readDtype, resolvePrecision } from './dtype.js';
import { subscriptOf } from './forms.js';
import { DEFAULT_DIRECTIONS, DEFAULT_FD_MAX, withinTolerance } from './tolerance.js';

/**
 * The check of a function under test that brings its own derivative: a gradient
 * (scalar f), a vjp (tensor f; for a scalar, the vjp of 1 is the gradient), optionally a
 * jvp, optionally a reference whose autodiff is the truth. Written once over the
 * evaluator seam: a JS function drives it synchronously, a program over a pipe
 * asynchronously.
 *
 * - scalar f: every entry of your gradient against finite differences (or random
 *   directions and a sample of entries above fdMax), as for a formula;
 * - tensor f with at most fdMax Jacobian entries: the full Jacobian, row i from your
 *   vjp of e_i, every entry against differences of all outputs;
 * - larger tensor f: a random projection uᵀf (PyTorch's fast mode): your vjp of u
 *   against differences of uᵀf, entry by entry or along random directions v;
 * - jvp: J·v along random directions against differences of every output along v;
 * - reference: your gradient (or Jacobian, or vjp of u) against the reference's, entry
 *   by entry, exact to rounding: catches what finite-difference noise would hide.
 */

export interface FunctionCheckOptions extends CheckOptions {
  /** the function gives J·v: check it too */
  jvp?: boolean;
  /** a reference gives the true vjp: compare with it */
  reference?: boolean;
  /** the reference's tolerance: it is exact to rounding, so far tighter than the differences' (default rtol 1e-9, atol 1e-12) */
  referenceTolerance?: { rtol?: number; atol?: number };
  /**
   * the directional check (more entries than fdMax) is a screen: when a direction or a
   * sampled entry does not agree, every entry is differenced after it (up to
   * max(DEFAULT_FD_MAX, fdMax) entries), so the wrong ones are named. A program over a
   * pipe, where one evaluation costs a millisecond, is screened this way.
   */
  escalate?: boolean;
}

/** The directional screen that did not settle the check, before every entry was differenced. */
export interface Screen {
  directions: number;
  /** entries sampled */
  sampled: number;
  evaluations: number;
  /** what it found: `a direction disagreed`, … */
  found: string;
}

/** A formula's autodiff differs from your code's by rounding only. */
export const REFERENCE_RTOL = 1e-9;
export const REFERENCE_ATOL = 1e-12;

/** Your derivative against the reference's, per input: how many entries differ and the worst. */
export interface ReferenceCheck {
  passed: boolean;
  variables: Record<string, { wrong: number; worst?: { flat: number; yours: number; truth: number } }>;
  /** what was compared: `gradient`, `jacobian` (every row), `vjp` (of the random cotangent) */
  of: 'gradient' | 'jacobian' | 'vjp';
  /** the reference's side, flat like yours */
  truth: Float64Array;
}

/** Your J·v against the differences of every output along v. */
export interface JvpCheck {
  passed: boolean;
  directions: number;
  /** entries judged `f[2] along v1`, the failing and unjudged ones only */
  entries: EntryCheck[];
  evaluations: number;
}

export interface FunctionCheck {
  passed: boolean;
  /** gradient: f is a scalar; jacobian: every Jacobian entry; projection: a random uᵀf */
  mode: 'gradient' | 'jacobian' | 'projection';
  /** yours: the gradient, or the vjp of `cotangent`, or (jacobian mode) the Jacobian row-major m × n */
  analytic: Float64Array;
  cotangent?: Float64Array;
  check: CheckResult | null;
  jacobian: JacobianCheck | null;
  jvp: JvpCheck | null;
  reference: ReferenceCheck | null;
  /** function evaluations spent (differences and jvp directions) */
  evaluations: number;
  /** the screen that came first, when it did not settle the check (`escalate`) */
  screen?: Screen;
  /**
   * A failed Jacobian check keeps only its worst entries; to name the mistake's pattern,
   * your vjp of a random u (Jᵀu from your rows) against differences of uᵀf, every entry.
   */
  diagnosis?: { cotangent: Float64Array; analytic: Float64Array; check: CheckResult };
}

export function* checkFunction(fn: FunctionUnderTest, rows: string[], opts: FunctionCheckOptions = {}): Ask<FunctionCheck> {
  let f = fn;
  const n = f.point.length;
  const m = f.outputs;
  const rng = new Rng((opts.seed ?? 0) + 7);
  let mode: FunctionCheck['mode'];
  let analytic: Float64Array;
  let cotangent: Float64Array | undefined;
  let check: CheckResult | null = null;
  let jacobian: JacobianCheck | null = null;
  let screen: Screen | undefined;
  let diagnosis: FunctionCheck['diagnosis'];
  let truthSeeds: Float64Array[];
  if (m === 1) {
    mode = 'gradient';
    cotangent = Float64Array.of(1);
    analytic = yield* askVjp(cotangent);
    f = withPrecision(f, opts, analytic);
    ({ check, screen } = yield* screened(f, analytic, opts));
    truthSeeds = [cotangent];
  } else if (m * n <= (opts.fdMax ?? DEFAULT_FD_MAX)) {
    mode = 'jacobian';
    analytic = new Float64Array(m * n);
    truthSeeds = [];
    for (let i = 0; i < m; i++) {
      const e = new Float64Array(m);
      e[i] = 1;
      analytic.set(yield* askVjp(e), i * n);
      truthSeeds.push(e);
    }
    f = withPrecision(f, opts, analytic);
    jacobian = yield* checkJacobian(f, analytic, rows, opts);
    if (!jacobian.passed) diagnosis = yield* diagnose(f, analytic, opts);
  } else {
    mode = 'projection';
    cotangent = unitVector(rng, m);
    analytic = yield* askVjp(cotangent);
    f = withPrecision(f, opts, analytic);
    ({ check, screen } = yield* screened(f, analytic, opts, cotangent));
    truthSeeds = [cotangent];
  }
  const jvp = opts.jvp ? yield* checkJvp(f, rows, opts, rng) : null;
  let reference: ReferenceCheck | null = null;
  if (opts.reference) {
    const truth = new Float64Array(analytic.length);
    for (let k = 0; k < truthSeeds.length; k++) truth.set(yield* askReference(truthSeeds[k]), k * n);
    reference = compareReference(f, analytic, truth, mode === 'gradient' ? 'gradient' : mode === 'jacobian' ? 'jacobian' : 'vjp', opts);
  }
  const passed = (check?.passed ?? true) && (jacobian?.passed ?? true) && (jvp?.passed ?? true) && (reference?.passed ?? true);
  const evaluations = (check?.evaluations ?? 0) + (jacobian?.evaluations ?? 0) + (diagnosis?.check.evaluations ?? 0) + (jvp?.evaluations ?? 0);
  return {
    passed,
    mode,
    analytic,
    cotangent,
    check,
    jacobian,
    jvp,
    reference,
    evaluations,
    ...(screen ? { screen } : {}),
    ...(diagnosis ? { diagnosis } : {}),
  };
}

/** Your rows' Jᵀu for a random unit u (its own seed: the other random choices stay as they were) against differences of uᵀf. */
function* diagnose(f: FunctionUnderTest, J: Float64Array, opts: FunctionCheckOptions): Ask<NonNullable<FunctionCheck['diagnosis']>> {
  const n = f.point.length;
  const u = unitVector(new Rng((opts.seed ?? 0) + 11), f.outputs);
  const analytic = new Float64Array(n);
  for (let i = 0; i < f.outputs; i++) for (let j = 0; j < n; j++) analytic[j] += u[i] * J[i * n + j];
  const check = yield* checkScalar(f, analytic, { ...opts, fdMax: n }, { projection: u });
  return { cotangent: u, analytic, check };
}

/** f with its precision: declared (opts.dtype), or detected from its value at the point and its derivative. */
function withPrecision(f: FunctionUnderTest, opts: FunctionCheckOptions, analytic: Float64Array): FunctionUnderTest {
  if (f.precision) return f;
  return { ...f, precision: resolvePrecision(readDtype(opts.dtype, '{ dtype }'), f.value ? [f.value, analytic] : [analytic], f.point) };
}

/**
 * checkScalar, and with `escalate` the full check after a directional one that did not
 * settle it: a failed or unjudged direction, or a failed sampled entry. Passing code is
 * checked in a few hundred evaluations whatever its size; failing code is differenced
 * entry by entry, so the report names which entries are wrong.
 */
function* screened(
  f: FunctionUnderTest,
  ad: Float64Array,
  opts: FunctionCheckOptions,
  projection?: Float64Array,
): Ask<{ check: CheckResult; screen?: Screen }> {
  const more = projection ? { projection } : {};
  const first = yield* checkScalar(f, ad, opts, more);
  const n = f.point.length;
  // a sample as large as the input has differenced every entry already
  const found = first.mode === 'directional' && first.entries.length < n ? unsettled(first) : null;
  if (!opts.escalate || !found || n > Math.max(DEFAULT_FD_MAX, opts.fdMax ?? 0)) return { check: first };
  const full = yield* checkScalar(f, ad, { ...opts, fdMax: n }, more);
  const screen = { directions: first.directions?.length ?? 0, sampled: first.entries.length, evaluations: first.evaluations, found };
  return { check: { ...full, evaluations: first.evaluations + full.evaluations }, screen };
}

/** What a directional check left open, in words; null when it settled the check. */
function unsettled(c: CheckResult): string | null {
  const dirs = c.directions ?? [];
  const failedDirs = dirs.filter((d) => failed(d.status)).length;
  if (failedDirs) return `${failedDirs} of ${dirs.length} random directions disagreed`;
  const failedEntries = c.entries.filter((e) => failed(e.status)).length;
  if (failedEntries) return `${failedEntries} of ${c.entries.length} sampled entries disagreed`;
  const unjudged = dirs.filter((d) => d.status !== 'pass').length;
  if (unjudged) return `finite differences could not judge ${unjudged} of ${dirs.length} random directions`;
  return null;
}

/** J·v from the function's jvp against differences of every output along v, for a few random unit v. */
function* checkJvp(f: FunctionUnderTest, rows: string[], opts: CheckOptions, rng: Rng): Ask<JvpCheck> {
  const { rule, tol, method } = settings(opts);
  const m = f.outputs;
  const K = Math.max(1, Math.min(2, opts.directions ?? DEFAULT_DIRECTIONS));
  const entries: EntryCheck[] = [];
  let evaluations = 0;
  let passed = true;
  for (let k = 0; k < K; k++) {
    const v = unitVector(rng, f.point.length);
    const jv = yield* askJvp(v);
    // every smaller level at once, each output entry taking its best
    const lv = directionLevels(f.point, rule);
    const r = yield* evaluateLevels(f, [lv], Infinity, { base: true, direction: v });
    evaluations += r.points;
    for (let i = 0; i < m; i++) {
      const f0 = r.f0![i];
      const est = estimateLevels(lv, pick(m, { output: i }), f0, Math.max(f.scale ?? 0, Math.abs(f0)), method);
      const e = judge(`${rows[i]} along v${k + 1}`, '', jv[i], est, tol);
      if (e.status === 'pass') continue;
      if (failed(e.status)) passed = false;
      if (entries.length < 10) entries.push(e);
    }
  }
  return { passed, directions: K, entries, evaluations };
}

/** Entry by entry, per input: |yours − truth| ≤ atol + rtol·max(|yours|, |truth|); NaN never agrees. */
function compareReference(
  f: FunctionUnderTest,
  yours: Float64Array,
  truth: Float64Array,
  of: ReferenceCheck['of'],
  opts: FunctionCheckOptions,
): ReferenceCheck {
  const tol = { rtol: opts.referenceTolerance?.rtol ?? REFERENCE_RTOL, atol: opts.referenceTolerance?.atol ?? REFERENCE_ATOL };
  const n = f.point.length;
  const variables: ReferenceCheck['variables'] = Object.create(null);
  let passed = true;
  for (const inp of f.inputs) {
    const v: ReferenceCheck['variables'][string] = { wrong: 0 };
    let worstErr = -1;
    for (let k = 0; k < yours.length; k++) {
      const j = k % n;
      if (j < inp.offset || j >= inp.offset + inp.size) continue;
      const y = yours[k];
      const t = truth[k];
      if (withinTolerance(y, t, tol)) continue;
      v.wrong++;
      const err = Number.isFinite(y - t) ? Math.abs(y - t) : Infinity;
      if (err > worstErr) {
        worstErr = err;
        v.worst = { flat: k, yours: y, truth: t };
      }
    }
    if (v.wrong) passed = false;
    variables[inp.name] = v;
  }
  return { passed, variables, of, truth };
}

/** `f[2]`, `f` for a scalar: the output entries' names. */
export function outputRows(name: string, shape: readonly number[]): string[] {
  const m = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: m }, (_, i) => `${name}${subscriptOf(shape, i)}`);
}
