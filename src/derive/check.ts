import { jsEngine } from '../engine/js.js';
import { prepare } from '../grad.js';
import { makeArena, type Tape } from '../graph/tape.js';
import { Rng } from '../random.js';
import { scalar, type Tensor } from '../tensor.js';
import { MAX_EXPR } from './symbolic.js';
import { limitsFrom, withLimits, type Limits } from '../limits.js';

/**
 * The symbolic derivative is printed only after it agrees with the engine's reverse
 * mode at random points: |symbolic − engine| ≤ atol + rtol·max(|symbolic|, |engine|).
 * Points where either side is not finite (outside the formula's domain, or the
 * untaken branch of a conditional) cannot judge and are skipped.
 */
export const CHECK_RTOL = 1e-7;
export const CHECK_ATOL = 1e-10;

export interface CheckPoint {
  point: Record<string, number>;
  engine: Record<string, number>;
  symbolic: Record<string, number>;
}

export interface Disagreement extends CheckPoint {
  variable: string;
  absError: number;
}

export interface CrossCheck {
  passed: boolean;
  rtol: number;
  atol: number;
  /** the points that judged */
  points: CheckPoint[];
  /** points tried where something was not finite */
  skipped: number;
  maxAbsError: number;
  maxRelError: number;
  /** the first entry that disagreed */
  disagreement: Disagreement | null;
}

export interface CrossCheckOptions {
  /** a point to judge first (the user's --at) */
  at?: Record<string, number>;
  seed?: number;
  /** how many finite points to judge (default 5) */
  points?: number;
  limits?: Limits;
}

/** Samples drawn round-robin from these ranges: positive first (log, sqrt), then signed, then > 1 (acosh). */
const RANGES: [number, number][] = [
  [0.2, 2.5],
  [-2.5, 2.5],
  [1.1, 4],
];
const ATTEMPTS = 60;

/** Compare derivative expressions (one per variable of `wrt`) with the engine's gradient of `tape`. */
export function crossCheck(tape: Tape, derivatives: Record<string, string>, opts: CrossCheckOptions = {}): CrossCheck {
  const names = tape.inputs.map((i) => i.name);
  const wrt = Object.keys(derivatives);
  const placeholder = valuesAt(Object.fromEntries(names.map((n) => [n, 1])));
  // the derivatives are our own text, longer and deeper than a formula a user types
  const limits = withLimits(limitsFrom(opts.limits), { maxLength: MAX_EXPR * 4, maxDepth: 10_000 });
  const dTapes = wrt.map((v) => prepare(derivatives[v], placeholder, { limits }));
  const want = opts.points ?? 5;
  const rng = new Rng(opts.seed ?? 42);
  const result: CrossCheck = { passed: true, rtol: CHECK_RTOL, atol: CHECK_ATOL, points: [], skipped: 0, maxAbsError: 0, maxRelError: 0, disagreement: null };

  const candidates: Record<string, number>[] = opts.at ? [opts.at] : [];
  for (let t = 0; t < ATTEMPTS; t++) {
    const [lo, hi] = RANGES[t % RANGES.length];
    candidates.push(Object.fromEntries(names.map((n) => [n, lo + (hi - lo) * rng.next()])));
  }
  for (const point of candidates) {
    if (result.points.length >= want) break;
    const values = valuesAt(point);
    const arena = makeArena(tape, values);
    jsEngine.forward(tape, arena);
    if (!Number.isFinite(arena[tape.nodes[tape.output].offset])) {
      result.skipped++;
      continue;
    }
    const adjoint = jsEngine.reverse(tape, arena).adjoint;
    const engine: Record<string, number> = Object.create(null);
    const symbolic: Record<string, number> = Object.create(null);
    wrt.forEach((v, k) => {
      engine[v] = adjoint[tape.nodes[tape.inputs.find((i) => i.name === v)!.node].offset];
      symbolic[v] = evaluate(dTapes[k], values);
    });
    if (wrt.some((v) => !Number.isFinite(engine[v]) || !Number.isFinite(symbolic[v]))) {
      result.skipped++;
      continue;
    }
    result.points.push({ point, engine, symbolic });
    for (const v of wrt) {
      const abs = Math.abs(symbolic[v] - engine[v]);
      const scale = Math.max(Math.abs(symbolic[v]), Math.abs(engine[v]));
      result.maxAbsError = Math.max(result.maxAbsError, abs);
      if (scale > 0) result.maxRelError = Math.max(result.maxRelError, abs / scale);
      if (abs > CHECK_ATOL + CHECK_RTOL * scale && result.passed) {
        result.passed = false;
        result.disagreement = { point, engine, symbolic, variable: v, absError: abs };
      }
    }
  }
  return result;
}

function evaluate(tape: Tape, values: Record<string, Tensor>): number {
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  return arena[tape.nodes[tape.output].offset];
}

function valuesAt(point: Record<string, number>): Record<string, Tensor> {
  const out: Record<string, Tensor> = Object.create(null);
  for (const k of Object.keys(point)) out[k] = scalar(point[k]);
  return out;
}
