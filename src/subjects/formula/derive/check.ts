import { AgError } from '../../../core/errors.js';
import { checkDeadlineNow, collectGarbage, ENTRY_BYTES, limitsFrom, memoryError, withLimits, type Limits } from '../../../core/limits.js';
import { jsEngine } from '../../../core/engine/js.js';
import { reverseJacobian } from '../../../core/engine/modes.js';
import { prepare } from '../grad.js';
import type { MemoryPlan } from '../../../core/graph/build.js';
import { makeArena, type Tape } from '../../../core/graph/tape.js';
import { Rng } from '../../../core/random.js';
import { norm2, scalar, sizeOf, subscript, type Shape, type Tensor } from '../../../core/tensor.js';
import { MAX_EXPR } from '../../../core/graph/print.js';

/**
 * The symbolic derivative is printed only after it agrees with the engine's reverse
 * mode at random points: |symbolic − engine| ≤ atol + rtol·max(|symbolic|, |engine|).
 * Points where either side is not finite (outside the formula's domain, or the
 * untaken branch of a conditional) cannot judge and are skipped.
 */
export const CHECK_RTOL = 1e-7;
export const CHECK_ATOL = 1e-10;

export interface CheckPoint {
  /** the values (scalar formulas; empty for tensors, whose values are random) */
  point: Record<string, number>;
  /** ∂f/∂v by the engine (for tensors: the norm of it) */
  engine: Record<string, number>;
  /** ∂f/∂v by the formula (for tensors: the norm of it) */
  symbolic: Record<string, number>;
  /** tensor formulas: the shapes of this point */
  shapes?: Record<string, number[]>;
}

export interface Disagreement extends CheckPoint {
  /** the variable (tensors: the entry, `W[1,2]`) */
  variable: string;
  absError: number;
  /** tensors: the entry's two values */
  entry?: { symbolic: number; engine: number };
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
  /** tensor formulas: how many different shapes of the variables were judged */
  shapes?: number;
}

export interface CrossCheckOptions {
  /** a point to judge first (the user's --at) */
  at?: Record<string, number>;
  seed?: number;
  /** how many finite points to judge (default 5) */
  points?: number;
  limits?: Limits;
  /** definitions and steps the derivatives use (`sigma(t) = …; q = x + y`), put in front of each */
  prelude?: string;
}

/** Samples drawn round-robin from these ranges: positive first (log, sqrt), then signed, then > 1 (acosh). */
const RANGES: [number, number][] = [
  [0.2, 2.5],
  [-2.5, 2.5],
  [1.1, 4],
];
const ATTEMPTS = 60;

/** The formula at a check point: the point's values, the arena, its adjoint and the vjp temporaries (at most an arena more). */
const REVERSE_ARENA_COPIES = 3;
const CHECK_PLAN: MemoryPlan = { arenaCopies: REVERSE_ARENA_COPIES, valueCopies: 1, edges: false, fullOutput: false };
/** A derivative formula at the same point: its arena and the entries it is compared by (a scalar spread over the variable's shape). */
const DERIVATIVE_PLAN: MemoryPlan = { arenaCopies: 2, valueCopies: 0, edges: false, fullOutput: false };

/** Compare derivative expressions (one per variable of `wrt`) with the engine's gradient of `tape`. */
export function crossCheck(tape: Tape, derivatives: Record<string, string>, opts: CrossCheckOptions = {}): CrossCheck {
  const names = tape.inputs.map((i) => i.name);
  const wrt = Object.keys(derivatives);
  const placeholder = valuesAt(Object.fromEntries(names.map((n) => [n, 1])));
  // the derivatives are our own text, longer and deeper than a formula a user types
  const limits = ourText(opts.limits);
  const dTapes = wrt.map((v) => prepare(opts.prelude ? `${opts.prelude}; ${derivatives[v]}` : derivatives[v], placeholder, { limits }));
  const want = opts.points ?? 5;
  const rng = new Rng(opts.seed ?? 42);
  const result: CrossCheck = { passed: true, rtol: CHECK_RTOL, atol: CHECK_ATOL, points: [], skipped: 0, maxAbsError: 0, maxRelError: 0, disagreement: null };

  // each point drawn when it is needed, the deadline looked at between points
  for (let t = opts.at ? -1 : 0; t < ATTEMPTS && result.points.length < want; t++) {
    checkDeadlineNow();
    const [lo, hi] = RANGES[(t + RANGES.length) % RANGES.length];
    const point = t < 0 ? opts.at! : Object.fromEntries(names.map((n) => [n, lo + (hi - lo) * rng.next()]));
    const values = valuesAt(point);
    const adjoint = reverseAt(tape, values);
    if (!adjoint) {
      result.skipped++;
      continue;
    }
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
      const abs = judge(result, symbolic[v], engine[v]);
      if (abs !== null) result.disagreement = { point, engine, symbolic, variable: v, absError: abs };
    }
  }
  return result;
}

/** Limits for text we generate ourselves: the derivatives are longer and deeper than a formula a user types. */
function ourText(given: Limits | undefined): Limits {
  return withLimits(limitsFrom(given), { maxLength: MAX_EXPR * 4, maxDepth: 10_000 });
}

/** The adjoints of a reverse pass at these values, or null when the formula's value is not finite there. */
function reverseAt(tape: Tape, values: Record<string, Tensor>): Float64Array | null {
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  if (!Number.isFinite(arena[tape.nodes[tape.output].offset])) return null;
  return jsEngine.reverse(tape, arena).adjoint;
}

/** The Jacobian of the tape's vector output with respect to its inputs (row-major, m rows), or null when the output is not finite. */
function jacobianAt(tape: Tape, values: Record<string, Tensor>): Float64Array | null {
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  const out = tape.nodes[tape.output];
  if (!arena.subarray(out.offset, out.offset + out.size).every(Number.isFinite)) return null;
  const n = tape.inputs.reduce((s, i) => s + tape.nodes[i.node].size, 0);
  return reverseJacobian(jsEngine, tape, arena, out.size, n);
}

/** One number of the formula against the engine's: the errors counted; the gap when it is the first disagreement, else null. */
function judge(result: CrossCheck, symbolic: number, engine: number): number | null {
  const abs = Math.abs(symbolic - engine);
  const scale = Math.max(Math.abs(symbolic), Math.abs(engine));
  result.maxAbsError = Math.max(result.maxAbsError, abs);
  if (scale > 0) result.maxRelError = Math.max(result.maxRelError, abs / scale);
  if (abs > CHECK_ATOL + CHECK_RTOL * scale && result.passed) {
    result.passed = false;
    return abs;
  }
  return null;
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

/**
 * The same judgement for tensor formulas: each derivative formula, evaluated entry by
 * entry, against the engine's reverse-mode gradient — at the values given (their shapes
 * are the formula's), at random values of those shapes, and at random values of other
 * shapes (every dimension above 1 renamed to another size) where the formula and the
 * derivatives still build there.
 */
export function crossCheckTensor(
  formula: string,
  derivatives: Record<string, string>,
  values: Record<string, Tensor>,
  opts: CrossCheckOptions & { wrt: string[]; indexVars: string[]; sized?: boolean; jacobian?: boolean },
): CrossCheck {
  const want = opts.points ?? 5;
  const rng = new Rng(opts.seed ?? 42);
  const userLimits = limitsFrom(opts.limits);
  const limits = ourText(opts.limits);
  const result: CrossCheck = {
    passed: true,
    rtol: CHECK_RTOL,
    atol: CHECK_ATOL,
    points: [],
    skipped: 0,
    maxAbsError: 0,
    maxRelError: 0,
    disagreement: null,
    shapes: 0,
  };
  const shapeKeys = new Set<string>();
  const draw = (shapes: Record<string, Shape>, t: number): Record<string, Tensor> => {
    const [lo, hi] = RANGES[t % RANGES.length];
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(values)) {
      // index variables keep their value; the others are drawn anew
      if (opts.indexVars.includes(k)) {
        out[k] = v;
        continue;
      }
      const data = new Float64Array(sizeOf(shapes[k]));
      for (let j = 0; j < data.length; j++) {
        // a large point takes a while to draw
        if ((j & 0xffff) === 0) checkDeadlineNow();
        data[j] = lo + (hi - lo) * rng.next();
      }
      out[k] = { shape: shapes[k], data };
    }
    return out;
  };
  const given = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.shape]));
  // the values given stay held while each random point is judged
  const held = entriesOf(values);
  // the points are drawn one at a time, when needed: each is counted against --max-memory before it exists, the deadline looked at between them
  for (let t = -1; t < ATTEMPTS && result.points.length < want; t++) {
    checkDeadlineNow();
    let point = values;
    if (t >= 0) {
      // a formula with constants sized for the given shapes (ones(3, 4)) holds for those shapes only
      const shapes = t % 2 === 0 || opts.sized ? given : renamedShapes(given, rng);
      const drawn = Object.keys(values).reduce((s, k) => s + (opts.indexVars.includes(k) ? 0 : sizeOf(shapes[k])), 0);
      const bytes = (held + drawn) * ENTRY_BYTES;
      if (bytes > userLimits.maxMemory)
        throw memoryError(bytes, "the derivative's cross-check (the values given and a random point of their shapes)", userLimits);
      // the last point's copies are dead: collected before the next is drawn, so they never pile up
      collectGarbage(bytes);
      point = draw(shapes, t);
    }
    const extra = point === values ? 0 : held;
    let tape: Tape;
    let dTapes: Tape[];
    try {
      tape = prepare(formula, point, { wrt: opts.wrt, limits: userLimits, plan: { ...CHECK_PLAN, extraEntries: extra } });
      // a derivative is evaluated while the formula's arena and adjoint are held
      const plan: MemoryPlan = { ...DERIVATIVE_PLAN, extraEntries: extra + entriesOf(point) + REVERSE_ARENA_COPIES * tape.arenaSize };
      dTapes = opts.wrt.map((v) => prepare(derivatives[v], point, { limits, plan }));
    } catch (e) {
      // a limit (memory, time, size) is that limit, at any point
      if (e instanceof AgError && e.code === 'limit') throw e;
      // the formula or a derivative does not build at these shapes (an index, a onehot length)
      if (point === values) {
        const bad = opts.wrt.find((v) => {
          try {
            prepare(derivatives[v], point, { limits });
            return false;
          } catch {
            return true;
          }
        });
        throw new AgError(
          'engine',
          `derive: the formula ∂f/∂${bad} = ${bad ? derivatives[bad] : '?'} does not evaluate at the values given (${(e as Error).message})`,
          {
            hint: 'this is a bug in autograd-cli, so no derivative is printed; please report it with the formula',
          },
        );
      }
      result.skipped++;
      continue;
    }
    // a vector f (derive's Jacobians): the truth is the engine's Jacobian, one reverse pass per entry of f
    const adjoint = opts.jacobian ? jacobianAt(tape, point) : reverseAt(tape, point);
    if (!adjoint) {
      result.skipped++;
      continue;
    }
    const engine: Record<string, number> = {};
    const symbolic: Record<string, number> = {};
    let bad = false;
    const pairs = opts.wrt.map((v, k) => {
      const node = tape.nodes[tape.inputs.find((i) => i.name === v)!.node];
      const e = opts.jacobian ? adjoint : adjoint.subarray(node.offset, node.offset + node.size);
      const d = dTapes[k];
      const a = makeArena(d, point);
      jsEngine.forward(d, a);
      const out = d.nodes[d.output];
      // a scalar derivative stands for every entry (d/dW sum(W) = 1)
      const s = out.size === 1 && e.length > 1 ? new Float64Array(e.length).fill(a[out.offset]) : a.subarray(out.offset, out.offset + out.size);
      if (s.length !== e.length) {
        throw new AgError(
          'engine',
          `derive: ∂f/∂${v} = ${derivatives[v]} has ${s.length} entries where ${v} has ${e.length} (shapes ${JSON.stringify(Object.fromEntries(Object.entries(point).map(([k, t]) => [k, t.shape])))})`,
          {
            hint: 'this is a bug in autograd-cli, so no derivative is printed; please report it with the formula',
          },
        );
      }
      if (!e.every(Number.isFinite) || !s.every(Number.isFinite)) bad = true;
      engine[v] = norm2(e);
      symbolic[v] = norm2(s);
      // a Jacobian's entries are named [i, j] (row i: f[i])
      const shape = opts.jacobian ? [e.length / node.size, node.size] : point[v].shape;
      return { v, e, s, shape };
    });
    if (bad) {
      result.skipped++;
      continue;
    }
    const p: CheckPoint = { point: {}, engine, symbolic, shapes: Object.fromEntries(Object.entries(point).map(([k, t]) => [k, [...t.shape]])) };
    shapeKeys.add(JSON.stringify(p.shapes));
    result.points.push(p);
    for (const { v, e, s, shape } of pairs) {
      for (let k = 0; k < e.length; k++) {
        const abs = judge(result, s[k], e[k]);
        if (abs !== null) result.disagreement = { ...p, variable: `${v}${subscript(shape, k)}`, absError: abs, entry: { symbolic: s[k], engine: e[k] } };
      }
    }
  }
  result.shapes = shapeKeys.size;
  return result;
}

/** Entries of a set of values. */
function entriesOf(values: Record<string, Tensor>): number {
  return Object.values(values).reduce((s, v) => s + v.data.length, 0);
}

/** The same shapes with every dimension above 1 renamed consistently to another size (2 to 6). */
function renamedShapes(shapes: Record<string, Shape>, rng: Rng): Record<string, Shape> {
  const map = new Map<number, number>();
  const pick = (d: number) => {
    if (d <= 1) return d;
    if (!map.has(d)) map.set(d, 2 + rng.int(5));
    return map.get(d)!;
  };
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.map(pick)]));
}
