import type { Engine } from '../engine/types.js';
import { inputSlots, jsEngine } from '../engine/js.js';
import type { Tape } from '../graph/tape.js';
import { getOp } from '../ops/index.js';
import { Rng } from '../random.js';
import { subscript, toNested, type Tensor } from '../tensor.js';
import type { Nested } from '../parse/values.js';
import {
  DEFAULT_ATOL, DEFAULT_DIRECTIONS, DEFAULT_EPS, DEFAULT_FD_MAX, DEFAULT_RTOL, DEFAULT_SAMPLE,
  relError, withinTolerance,
} from './tolerance.js';

export type FdMethod = 'central' | 'richardson';

export interface CheckOptions {
  rtol?: number;
  atol?: number;
  /** relative step (h = eps·max(1, |x|)) */
  eps?: number;
  method?: FdMethod;
  /** full differences while the inputs have at most this many entries */
  fdMax?: number;
  directions?: number;
  sample?: number;
  seed?: number;
}

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
  status: EntryStatus;
  /** for kinks: which op, where */
  note?: string;
}

export interface DirectionCheck {
  ad: number;
  fd: number;
  absError: number;
  relError: number;
  status: EntryStatus;
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

export interface CheckResult extends CheckSummary {
  /** 'central' | 'richardson' */
  method: FdMethod;
  /** full: every entry; directional: random directions plus sampled entries */
  mode: 'full' | 'directional';
  entries: EntryCheck[];
  directions?: DirectionCheck[];
  /** the finite-difference gradient per variable (full mode), shaped like the variables */
  finiteDifference?: Record<string, Nested>;
  /** per-variable verdicts */
  variables: Record<string, { passed: boolean; maxAbsError: number; maxRelError: number; checked: number; kinks: number }>;
  /** the (up to five) worst failing entries */
  failures: EntryCheck[];
}

const MACHINE_EPS = 2.220446049250313e-16;

/**
 * The name of flat wrt entry j (`x`, `W1[3,7]`), made only for the entries judged: a
 * directional check of millions of entries names a few dozen, not all of them.
 */
function entryName(tape: Tape): (j: number) => { variable: string; name: string } {
  const starts: number[] = [];
  let o = 0;
  for (const inp of tape.inputs) {
    starts.push(o);
    o += tape.nodes[inp.node].size;
  }
  return (j) => {
    let k = starts.length - 1;
    while (starts[k] > j) k--;
    const inp = tape.inputs[k];
    return { variable: inp.name, name: inp.name + subscript(tape.nodes[inp.node].shape, j - starts[k]) };
  };
}

/**
 * Finite differences of the output at the arena's point, compared with the
 * reverse-mode gradient `ad` (flat, in tape-input order).
 */
export function checkGradient(engine: Engine, tape: Tape, arena: Float64Array, ad: Float64Array, opts: CheckOptions = {}): CheckResult {
  const tol = { rtol: opts.rtol ?? DEFAULT_RTOL, atol: opts.atol ?? DEFAULT_ATOL };
  const eps = opts.eps ?? DEFAULT_EPS;
  const method = opts.method ?? 'central';
  const slots = inputSlots(tape);
  const n = slots.length;
  const names = entryName(tape);
  const rng = new Rng(opts.seed ?? 0);
  const fdMax = opts.fdMax ?? DEFAULT_FD_MAX;
  const full = n <= fdMax;
  const base = engine.evaluate(tape, arena, Int32Array.of(0), Float64Array.of(0), undefined);
  const f0 = base.values[0];
  const code0 = base.branches[0];
  // f carries rounding error of about ε times its largest intermediate value
  // ((x + 1e10) − 1e10 is small, but every evaluation of it is off by ~1e-6)
  let scale = Math.abs(f0);
  for (const n of tape.nodes) {
    if (!n.active) continue;
    for (let k = n.offset; k < n.offset + n.size; k++) {
      const v = Math.abs(arena[k]);
      if (v > scale && Number.isFinite(v)) scale = v;
    }
  }
  let evaluations = 1;

  // coordinates to difference: all, or a seeded sample
  let coords: number[];
  if (full) coords = Array.from({ length: n }, (_, j) => j);
  else {
    const pick = new Set<number>();
    const want = Math.min(opts.sample ?? DEFAULT_SAMPLE, n);
    while (pick.size < want) pick.add(rng.int(n));
    coords = [...pick].sort((a, b) => a - b);
  }

  // four points per coordinate: ±h and ±2h (the second pair gives Richardson and an error estimate)
  const m = coords.length;
  const coord = new Int32Array(4 * m);
  const delta = new Float64Array(4 * m);
  const steps = new Float64Array(m);
  coords.forEach((j, q) => {
    const x = arena[slots[j]];
    const h = stepFor(x, eps);
    steps[q] = h;
    coord.fill(j, 4 * q, 4 * q + 4);
    delta.set([h, -h, 2 * h, -2 * h], 4 * q);
  });
  const ev = engine.evaluate(tape, arena, coord, delta);
  evaluations += 4 * m;

  const fdAll = full ? new Float64Array(n) : undefined;
  const entries: EntryCheck[] = coords.map((j, q) => {
    const [fp, fm, fp2, fm2] = ev.values.subarray(4 * q, 4 * q + 4);
    const h = steps[q];
    const est = estimate(fp, fm, fp2, fm2, h, scale, method);
    if (fdAll) fdAll[j] = est.fd;
    const crossed = [0, 1].some((k) => ev.branches[4 * q + k] !== code0);
    const nm = names(j);
    const e = judge(nm.name, nm.variable, ad[j], est.fd, est.err, tol, crossed);
    if (crossed) e.note = kinkNote(tape, arena, slots[j], h);
    if (!Number.isFinite(f0)) {
      e.status = 'nonfinite';
      e.note = `the value itself is ${f0}`;
    }
    return e;
  });

  let directions: DirectionCheck[] | undefined;
  if (!full) {
    directions = [];
    const K = opts.directions ?? DEFAULT_DIRECTIONS;
    let scale = 1;
    for (const s of slots) scale = Math.max(scale, Math.abs(arena[s]));
    const h = eps * scale;
    for (let k = 0; k < K; k++) {
      const u = new Float64Array(n);
      let norm = 0;
      for (let j = 0; j < n; j++) norm += (u[j] = rng.normal()) ** 2;
      norm = Math.sqrt(norm);
      let adU = 0;
      for (let j = 0; j < n; j++) adU += ad[j] * (u[j] /= norm);
      const r = engine.evaluate(tape, arena, Int32Array.of(-1, -1, -1, -1), Float64Array.of(h, -h, 2 * h, -2 * h), u);
      evaluations += 4;
      const est = estimate(r.values[0], r.values[1], r.values[2], r.values[3], h, scale, method);
      const crossed = r.branches[0] !== code0 || r.branches[1] !== code0;
      const e = judge(`direction ${k + 1}`, '', adU, est.fd, est.err, tol, crossed);
      directions.push({ ad: e.ad, fd: e.fd, absError: e.absError, relError: e.relError, status: e.status, note: crossed ? 'the step crossed a kink' : undefined });
    }
  }

  const judged = [...entries, ...(directions ?? [])];
  const failed = (s: EntryStatus) => s === 'fail' || s === 'nonfinite';
  const variables: CheckResult['variables'] = Object.create(null);
  for (const inp of tape.inputs) variables[inp.name] = { passed: true, maxAbsError: 0, maxRelError: 0, checked: 0, kinks: 0 };
  for (const e of entries) {
    const v = variables[e.variable];
    v.checked++;
    if (e.status === 'kink') v.kinks++;
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
  return {
    passed: !judged.some((e) => failed(e.status)),
    method,
    mode: full ? 'full' : 'directional',
    rtol: tol.rtol,
    atol: tol.atol,
    eps,
    maxAbsError: Math.max(0, ...counted.map((e) => e.absError)),
    maxRelError: Math.max(0, ...counted.map((e) => e.relError)),
    evaluations,
    entries,
    directions,
    finiteDifference: fdAll ? perVariable(tape, fdAll) : undefined,
    variables,
    failures,
  };
}

export function stepFor(x: number, eps: number): number {
  const h = eps * Math.max(1, Math.abs(x));
  // make x + h exactly representable so the step we divide by is the step taken
  return x + h - x;
}

/** The central difference (or its Richardson extrapolation) and an estimate of its own error. */
function estimate(fp: number, fm: number, fp2: number, fm2: number, h: number, scale: number, method: FdMethod) {
  const d1 = (fp - fm) / (2 * h);
  const d2 = (fp2 - fm2) / (4 * h);
  // rounding: each f carries about ε·|f| of error
  const fmag = Math.max(scale, Math.abs(fp), Math.abs(fm));
  const rounding = (MACHINE_EPS * fmag) / h;
  if (method === 'richardson') {
    const fd = (4 * d1 - d2) / 3;
    return { fd, err: 2 * rounding };
  }
  // truncation: D(h) − f' ≈ (D(h) − D(2h))/3 … for smooth f (the h² term)
  return { fd: d1, err: Math.abs(d1 - d2) / 3 + rounding };
}

/** One derivative against its finite difference: pass, fail, or why it cannot be judged (a kink, noise, a non-finite value). */
export function judge(name: string, variable: string, ad: number, fd: number, fdError: number, tol: { rtol: number; atol: number }, crossed: boolean): EntryCheck {
  const absError = Math.abs(ad - fd);
  const rel = relError(ad, fd);
  let status: EntryStatus;
  if (crossed) status = 'kink';
  else if (!Number.isFinite(ad)) status = 'nonfinite';
  // f is undefined or overflows within the step: differences cannot judge
  else if (!Number.isFinite(fd)) status = 'noisy';
  else if (withinTolerance(ad, fd, tol)) status = 'pass';
  // a difference within the finite difference's own error cannot be judged
  else if (absError <= 3 * fdError) status = 'noisy';
  else status = 'fail';
  return { entry: name, variable, ad, fd, absError, relError: rel, fdError, status };
}

/** Which kink a step of ±h on arena slot `slot` crossed, for the message. */
function kinkNote(tape: Tape, arena: Float64Array, slot: number, h: number): string {
  const at = (d: number) => {
    const a = arena.slice();
    a[slot] += d;
    jsEngine.forward(tape, a);
    return a;
  };
  const points = [arena, at(h), at(-h)];
  for (const n of tape.nodes) {
    const op = getOp(n.op);
    if (!op.branch) continue;
    const codes = points.map((a) =>
      op.branch!(
        n.inputs.map((i): Tensor => ({ shape: tape.nodes[i].shape, data: a.subarray(tape.nodes[i].offset, tape.nodes[i].offset + tape.nodes[i].size) })),
        n.attrs,
      ),
    );
    if (codes[1] !== codes[0] || codes[2] !== codes[0]) {
      const where = n.span ? `, ${tape.source.slice(n.span.start, n.span.end)} at column ${n.span.start + 1}` : '';
      const exact = codes[1] !== codes[0] && codes[2] !== codes[0];
      return `${exact ? 'the point sits on' : `a step of ±${h.toExponential(1).replace('e+', 'e')} crosses`} a kink (${op.kink ?? n.op}${where})`;
    }
  }
  return 'a step crosses a kink';
}

/** Split a flat buffer in tape-input order into `{name: nested}`. */
export function perVariable(tape: Tape, flat: Float64Array): Record<string, Nested> {
  const out: Record<string, Nested> = Object.create(null);
  let o = 0;
  for (const inp of tape.inputs) {
    const n = tape.nodes[inp.node];
    out[inp.name] = toNested(n.shape, flat.subarray(o, o + n.size)) as Nested;
    o += n.size;
  }
  return out;
}
