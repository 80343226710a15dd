import { DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL } from './tolerance.js';
import { failed, judge, type CheckSummary, type EntryCheck, type EntryStatus } from './fd.js';
import { MACHINE_EPS, type Estimate } from './steps.js';

/**
 * The second-order verdict (PyTorch's gradgradcheck, JAX's check_grads(order=2)):
 * a Hessian-vector product H·u under test against central differences of the gradient
 * along u, (∇f(x + hu) − ∇f(x − hu)) / 2h, entry by entry. It does not care where the
 * numbers come from: the function under test is the `SecondOrderFunction` below (a
 * formula's tape in src/subjects/formula/hessian.ts; anything else that can give a gradient).
 */

export interface SecondOrderFunction {
  /** the point: every input entry, flat */
  point: Float64Array;
  /** the gradient (flat, like `point`) at point + step·u */
  gradientAt(u: Float64Array, step: number): Float64Array;
  /** which branch of every kink op the point + step·u is on (a different code: the step crossed a kink) */
  branchAt?(u: Float64Array, step: number): number;
  /** entry names for messages (`x`, `W[1,2]`) */
  names: string[];
}

export interface SecondOrderOptions {
  rtol?: number;
  atol?: number;
  /** relative step: h = eps·max(1, |x|) over the entries u moves, divided by max|u| */
  eps?: number;
}

/** One entry of H·u judged, as the first-order check judges ∇f: its `entry` is `∂²f/∂W[1,2]∂x` for a column of H, `(H·u)[W[1,2]] along direction 2` along a direction. */
export type SecondOrderEntry = Omit<EntryCheck, 'variable' | 'note'>;

export interface DirectionVerdict {
  /** `x` (a column of H: u = e_x) or `direction 2` */
  direction: string;
  step: number;
  status: EntryStatus;
  maxAbsError: number;
  maxRelError: number;
  /** the worst entries that failed (up to five) */
  failures: SecondOrderEntry[];
  /** entries judged noisy (the difference's own error is larger than the gap) */
  noisy: number;
  /** entries that passed only by the absolute tolerance (their relative error says nothing: both sides are ~0) */
  byAtol: number;
}

/** The verdict; `evaluations` counts gradient evaluations. */
export interface SecondOrderVerdict extends CheckSummary {
  directions: DirectionVerdict[];
  /** the worst failing entries over every direction (up to five) */
  failures: SecondOrderEntry[];
  /** entries that passed only by the absolute tolerance, over every direction; `maxRelError` leaves them out */
  byAtol: number;
}

/**
 * Judge H·u against differences of the gradient along each direction. `columns`: each
 * direction u, the product under test, and a name for it.
 */
export function checkSecondOrder(
  f: SecondOrderFunction,
  directions: { u: Float64Array; hu: Float64Array; name: string; column?: string }[],
  opts: SecondOrderOptions = {},
): SecondOrderVerdict {
  const tol = { rtol: opts.rtol ?? DEFAULT_RTOL, atol: opts.atol ?? DEFAULT_ATOL };
  const eps = opts.eps ?? DEFAULT_EPS;
  const code0 = f.branchAt?.(f.point, 0);
  let evaluations = 0;
  const verdicts: DirectionVerdict[] = [];
  const all: SecondOrderEntry[] = [];
  for (const d of directions) {
    const h = stepAlong(f.point, d.u, eps);
    // ±h and ±2h: the second pair estimates the difference's own truncation error
    const [gp, gm, gp2, gm2] = [h, -h, 2 * h, -2 * h].map((s) => f.gradientAt(d.u, s));
    evaluations += 4;
    const crossed = code0 !== undefined && [h, -h].some((s) => f.branchAt!(d.u, s) !== code0);
    let gmag = 0;
    for (const g of [gp, gm]) for (const v of g) if (Number.isFinite(v)) gmag = Math.max(gmag, Math.abs(v));
    const rounding = (MACHINE_EPS * gmag) / h;
    const entries = Array.from(d.hu, (ad, k): SecondOrderEntry => {
      const fd = (gp[k] - gm[k]) / (2 * h);
      const fd2 = (gp2[k] - gm2[k]) / (4 * h);
      const truncation = Number.isFinite(fd2) ? Math.abs(fd - fd2) / 3 : 0;
      const entry = d.column ? `∂²f/∂${f.names[k]}∂${d.column}` : `(H·u)[${f.names[k]}] along ${d.name}`;
      // judged exactly as the first-order check judges an entry of ∇f: one level of steps
      const est: Estimate = {
        fd,
        err: truncation + rounding,
        step: h,
        limitation: rounding >= truncation ? 'rounding' : 'truncation',
        tried: [h, h],
        crossed,
        undefined: !Number.isFinite(fd),
      };
      const { variable: _variable, ...one } = judge(entry, '', ad, est, tol);
      return one;
    });
    const judged = entries.filter((e) => e.status === 'pass' || e.status === 'fail');
    const failures = worst(entries.filter((e) => failed(e.status)));
    all.push(...failures);
    verdicts.push({
      direction: d.name,
      step: h,
      status: crossed
        ? 'kink'
        : failures.length
          ? failures.some((e) => e.status === 'nonfinite')
            ? 'nonfinite'
            : 'fail'
          : entries.some((e) => e.status === 'noisy') && !judged.length
            ? 'noisy'
            : 'pass',
      maxAbsError: Math.max(0, ...judged.map((e) => e.absError)),
      // the relative figure of the entries the relative tolerance judged, as the first-order summary states it
      maxRelError: Math.max(0, ...judged.filter((e) => !e.byAtol).map((e) => e.relError)),
      failures,
      noisy: entries.filter((e) => e.status === 'noisy').length,
      byAtol: judged.filter((e) => e.byAtol).length,
    });
  }
  const failures = worst(all);
  return {
    passed: failures.length === 0,
    ...tol,
    eps,
    maxAbsError: Math.max(0, ...verdicts.map((v) => v.maxAbsError)),
    maxRelError: Math.max(0, ...verdicts.map((v) => v.maxRelError)),
    evaluations,
    directions: verdicts,
    failures,
    byAtol: verdicts.reduce((k, v) => k + v.byAtol, 0),
  };
}

/** The step along u: eps·max(1, |x_j|) over the entries u moves, per unit of u's largest entry. */
export function stepAlong(x: Float64Array, u: Float64Array, eps: number): number {
  let scale = 1;
  let umax = 0;
  for (let j = 0; j < u.length; j++) {
    if (u[j] === 0) continue;
    scale = Math.max(scale, Math.abs(x[j]));
    umax = Math.max(umax, Math.abs(u[j]));
  }
  return umax === 0 ? eps : (eps * scale) / umax;
}

function worst(entries: SecondOrderEntry[]): SecondOrderEntry[] {
  const key = (e: SecondOrderEntry) => (Number.isFinite(e.absError) ? e.absError : Infinity);
  return entries.sort((a, b) => key(b) - key(a)).slice(0, 5);
}
