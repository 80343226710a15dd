import { perVariable } from '../../verify/fd.js';
import { tapeInputs } from '../../verify/tape.js';
import { checkSecondOrder, type SecondOrderFunction, type SecondOrderVerdict } from '../../verify/second-order.js';
import { DEFAULT_ATOL, DEFAULT_FD_MAX, DEFAULT_RTOL } from '../../verify/tolerance.js';
import { symmetricEigenvalues } from './eigen.js';
import { inputSlots } from '../../core/engine/js.js';
import { gatherInputs } from '../../core/engine/modes.js';
import { selectEngine, type EngineChoice } from '../../core/engine/select.js';
import type { Engine } from '../../core/engine/types.js';
import { AgError } from '../../core/errors.js';
import { prepare, shown, toTensors, buildNotes, type GradOptions, type Shown } from './grad.js';
import { checkDeadlineNow, limitName, limitsFrom, memoryError, RUN_ARENA_COPIES, withDeadline, type Limits } from '../../core/limits.js';
import { TapeWriter } from '../../core/graph/append.js';
import { appendGradient } from '../../core/graph/gradient.js';
import { makeArena, type Tape } from '../../core/graph/tape.js';
import type { GraphNode } from '../../core/ops/types.js';
import type { Nested } from '../../core/parse/values.js';
import { Rng } from '../../core/random.js';
import { norm2, sameShape, shapeStr, subscript, type Tensor } from '../../core/tensor.js';

/**
 * Second derivatives from the gradient graph. The gradient of the formula is appended
 * to its tape as ordinary nodes (graph/gradient.ts), then one more scalar,
 * ⟨∇f(x), v⟩, with v a constant written into the arena before each run; one reverse
 * pass of that tape gives ∂⟨∇f, v⟩/∂x = H·v for every variable at once
 * (reverse-over-reverse; docs/design-notes.md says why). The forward values do not
 * depend on v, so a whole Hessian is one forward run and one reverse pass per column.
 */

export interface SecondOrderOptions extends Pick<GradOptions, 'limits'> {
  /** differentiate only with respect to these variables */
  wrt?: string[];
  engine?: EngineChoice;
  rtol?: number;
  atol?: number;
  /** relative finite-difference step */
  eps?: number;
  /** seed of the random directions */
  seed?: number;
  /** random directions of a directional check (default 4) */
  directions?: number;
}

export interface HessianOptions extends SecondOrderOptions {
  /** compare with finite differences of the gradient (default true) */
  check?: boolean;
  /** difference every column while the inputs have at most this many entries; above, random directions */
  fdMax?: number;
  /** largest input, in entries, whose whole Hessian is computed (default 4000; above, use hvp) */
  maxHessian?: number;
  /** eigenvalues while the Hessian is at most this many entries square (default 1000) */
  maxEigen?: number;
  /** the result is printed as JSON: its text counts in the memory estimate */
  json?: boolean;
}

export const DEFAULT_MAX_HESSIAN = 4000;
export const DEFAULT_MAX_EIGEN = 1000;
/** Bytes one Hessian entry costs in the result: the Float64Array, the nested arrays returned, the eigen-solver's copy. */
const BYTES_PER_ENTRY = 8 + 8 + 8;
/** …and in JSON text, for --json (a number with 17 digits and its separators). */
const JSON_BYTES_PER_ENTRY = 26;

export type Curvature = 'positive definite' | 'positive semidefinite' | 'negative definite' | 'negative semidefinite' | 'indefinite' | 'zero';

export interface SecondOrderCheck extends Omit<SecondOrderVerdict, 'directions'> {
  /** full: every column of H against differences along that input entry; directional: random directions */
  mode: 'full' | 'directional';
  /** the directions judged, for the directional mode */
  directions?: SecondOrderVerdict['directions'];
  /** entries whose difference steps crossed a kink (not judged) */
  kinks: string[];
  /** entries the differences could not judge (their own error is larger than the gap) */
  noisy: number;
}

/** What every second-order result starts with: the formula at its point, and its value and gradient there. */
export interface AtPoint {
  formula: string;
  engine: 'js' | 'native';
  /** the values, above 64 entries summarised */
  point: Record<string, Shown>;
  variables: string[];
  value: number;
  gradient: Record<string, Nested>;
}

export interface HessianResult extends AtPoint {
  /** input entries: the Hessian is n × n */
  n: number;
  /** `x`, `W[1,2]`: the rows and columns */
  entries: string[];
  /** ∂²f/∂entry_i∂entry_j */
  hessian: number[][];
  /** how it was computed: one Hessian-vector product per input entry */
  method: 'reverse-over-reverse';
  passes: number;
  ms: number;
  symmetry: { maxAbsDiff: number; maxRelDiff: number; passed: boolean };
  check: SecondOrderCheck | null;
  /** eigenvalues of (H + Hᵀ)/2, ascending, and what they say (null above maxEigen) */
  eigen: { values: number[]; curvature: Curvature; tolerance: number } | null;
  notes: string[];
}

export interface HvpResult extends AtPoint {
  /** v, per variable (zero for the variables it does not name); above 64 entries summarised, as grad's nodes */
  direction: Record<string, Shown>;
  /** H·v, per variable */
  hvp: Record<string, Nested>;
  /** input entries */
  n: number;
  ms: number;
  /** H·v against differences of the gradient along v */
  check: SecondOrderVerdict | null;
}

/** A formula at a point, ready for second derivatives: see the module comment. */
export interface SecondOrderTape {
  /** the formula's own tape and the engine running it */
  tape: Tape;
  engine: Engine;
  /** the tape with ∇f and ⟨∇f, v⟩ appended */
  extended: Tape;
  value: number;
  /** ∇f, flat in tape-input order */
  gradient: Float64Array;
  /** input entries */
  n: number;
  /** entry names, `x`, `W[1,2]` */
  names: string[];
  /** H·u for a flat u (tape-input order); the forward values of the extended tape are reused */
  hvp(u: Float64Array): Float64Array;
  /** run the extended tape's forward again (what an H·v at a new point costs on top of hvp) */
  forward(): void;
  /** the function under a second-order check: the gradient at moved points, and kinks */
  fn: SecondOrderFunction;
}

/** Parse, build, append the gradient graph and ⟨∇f, v⟩, and run it once at the point. */
export function secondOrderTape(
  formula: string,
  values: Record<string, Tensor>,
  opts: SecondOrderOptions & { beforeGraph?: (tape: Tape, n: number) => void } = {},
): SecondOrderTape {
  const limits = limitsFrom(opts.limits);
  const tape = prepare(formula, values, { wrt: opts.wrt, limits });
  const out = tape.nodes[tape.output];
  if (out.size !== 1) {
    throw new AgError('shape', `the formula's value has shape ${shapeStr(out.shape)}; a Hessian needs a scalar`, {
      span: out.span,
      source: formula,
      hint: 'reduce it (sum(...), norm(...)), or use autograd-cli jacobian for the first derivatives of a vector',
    });
  }
  if (tape.inputs.length === 0) throw new AgError('usage', 'the formula has no variables to differentiate', { source: formula });
  const slots = inputSlots(tape);
  const n = slots.length;
  opts.beforeGraph?.(tape, n);

  // the extended tape's arena, its adjoint, and the formula's own runs for the differences
  const w = new TapeWriter(tape, { maxNodes: limits.maxNodes, maxEntries: limits.maxEntries, maxMemory: limits.maxMemory, arenaCopies: RUN_ARENA_COPIES });
  const inputs = tape.inputs.map((i) => i.node);
  const grads = appendGradient(w, tape.output, inputs);
  const dirs = tape.inputs.map((i) => w.slot(i.shape, `v_${i.name}`));
  // ⟨∇f, v⟩: its reverse pass reads v (multiply's vjp) but no value that depends on v
  let dot: GraphNode | null = null;
  grads.forEach((g, k) => {
    if (g === null) return;
    const term = w.sum(w.mul(g, dirs[k]));
    dot = dot === null ? term : w.add(dot, term);
  });
  const { tape: extended, ids } = w.finish(dot ?? w.constant(0), [tape.output, ...grads.filter((g): g is number => g !== null), ...dirs]);
  const engine = selectEngine(opts.engine ?? 'auto', extended);
  const arena = makeArena(extended, values);
  engine.forward(extended, arena);

  const gradient = new Float64Array(n);
  const dirOffsets: number[] = [];
  let o = 0;
  tape.inputs.forEach((_inp, k) => {
    const node = extended.nodes[ids[dirs[k]]];
    dirOffsets.push(node.offset);
    const g = grads[k];
    if (g !== null) {
      const gn = extended.nodes[ids[g]];
      gradient.set(arena.subarray(gn.offset, gn.offset + gn.size), o);
    }
    o += node.size;
  });
  const sizes = tape.inputs.map((i) => tape.nodes[i.node].size);
  const hvp = (u: Float64Array): Float64Array => {
    let at = 0;
    dirOffsets.forEach((off, k) => {
      arena.set(u.subarray(at, at + sizes[k]), off);
      at += sizes[k];
    });
    return gatherInputs(extended, engine.reverse(extended, arena).adjoint);
  };

  // the formula's own tape runs the gradient at moved points (finite differences of ∇f)
  const base = makeArena(tape, values);
  const point = Float64Array.from(slots, (s) => base[s]);
  const names: string[] = [];
  for (const inp of tape.inputs) for (let k = 0; k < tape.nodes[inp.node].size; k++) names.push(inp.name + subscript(inp.shape, k));
  const fn: SecondOrderFunction = {
    point,
    names,
    gradientAt(u, step) {
      const work = base.slice();
      for (let j = 0; j < n; j++) if (u[j] !== 0) work[slots[j]] += step * u[j];
      engine.forward(tape, work);
      return gatherInputs(tape, engine.reverse(tape, work).adjoint);
    },
    branchAt(u, step) {
      return engine.evaluate(tape, base, Int32Array.of(-1), Float64Array.of(step), u).branches[0];
    },
  };
  const forward = () => engine.forward(extended, arena);
  return { tape, engine, extended, value: arena[extended.nodes[ids[tape.output]].offset], gradient, n, names, hvp, forward, fn };
}

/**
 * The Hessian of a scalar formula: one Hessian-vector product per input entry, its
 * symmetry, a check against central differences of the gradient (every column, or
 * random directions above fdMax), and the eigenvalues of small Hessians.
 */
export function hessian(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: HessianOptions = {}): HessianResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => hessianRun(formula, valuesIn, { ...opts, limits }, limits));
}

function hessianRun(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: HessianOptions, limits: Limits): HessianResult {
  const values = toTensors(valuesIn);
  const maxHessian = opts.maxHessian ?? DEFAULT_MAX_HESSIAN;
  const maxEigen = opts.maxEigen ?? DEFAULT_MAX_EIGEN;
  const so = secondOrderTape(formula, values, {
    ...opts,
    // refused before the gradient graph or the n × n matrix exists
    beforeGraph: (tape, n) => {
      if (n > maxHessian) {
        throw new AgError('limit', `the Hessian of ${n} input entries would be ${n} × ${n}; the limit is ${maxHessian} input entries (--max-hessian)`, {
          source: formula,
          hint: `use --hvp ${tape.inputs.map((i) => `${i.name}=...`).join(',')} for a Hessian-vector product, or --wrt to take fewer variables`,
        });
      }
      const bytes = n * n * (BYTES_PER_ENTRY + (opts.json ? JSON_BYTES_PER_ENTRY : 0));
      if (bytes > limits.maxMemory) {
        throw new AgError('limit', memoryError(bytes, `the ${n} × ${n} Hessian`, limits).message, {
          source: formula,
          hint: 'use --hvp for a Hessian-vector product, or --wrt to take fewer variables',
        });
      }
      // one reverse pass per column, and four gradients per column (or direction) for the differences
      const check = opts.check === false ? 0 : n <= (opts.fdMax ?? DEFAULT_FD_MAX) ? 4 * n : 5 * (opts.directions ?? 4);
      if (n + check > limits.maxEvaluations) {
        throw new AgError(
          'limit',
          `the Hessian would take ${n + check} passes over the graph; the limit is ${limits.maxEvaluations} (${limitName('maxEvaluations')})`,
          {
            source: formula,
            hint: '--no-check skips the differences; --hvp gives one product',
          },
        );
      }
    },
  });
  const { n, names } = so;
  const H = new Float64Array(n * n);
  const u = new Float64Array(n);
  const t0 = performance.now();
  for (let j = 0; j < n; j++) {
    if ((j & 15) === 0) checkDeadlineNow();
    u[j] = 1;
    // row j: ∂(∂f/∂x_j)/∂x
    H.set(so.hvp(u), j * n);
    u[j] = 0;
  }
  const ms = performance.now() - t0;
  const tol = { rtol: opts.rtol ?? DEFAULT_RTOL, atol: opts.atol ?? DEFAULT_ATOL };

  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let symmetric = true;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const [a, b] = [H[i * n + j], H[j * n + i]];
      const d = Math.abs(a - b);
      const scale = Math.max(Math.abs(a), Math.abs(b));
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? maxAbsDiff : d;
      // relative only where the absolute tolerance does not already cover the gap (1e-16 against 0 is not 200%)
      if (d > tol.atol && d / scale > maxRelDiff) maxRelDiff = d / scale;
      if (!(d <= tol.atol + tol.rtol * scale) && !(Number.isNaN(a) && Number.isNaN(b))) symmetric = false;
    }
  }

  const notes: string[] = buildNotes(so.tape);
  let check: SecondOrderCheck | null = null;
  const fdMax = opts.fdMax ?? DEFAULT_FD_MAX;
  if (opts.check !== false) {
    if (n <= fdMax) {
      // column j of H against (∇f(x + h e_j) − ∇f(x − h e_j)) / 2h
      const columns = names.map((name, j) => {
        const e = new Float64Array(n);
        e[j] = 1;
        return { u: e, hu: Float64Array.from({ length: n }, (_, i) => H[i * n + j]), name, column: name };
      });
      check = summarize(checkSecondOrder(so.fn, columns, opts), 'full');
    } else {
      check = summarize(checkDirections(so, opts), 'directional');
      notes.push(
        `${n} input entries: checked ${check.directions!.length} random directions against differences of the gradient instead of every column (--fd-max ${fdMax})`,
      );
    }
  }

  let eigen: HessianResult['eigen'] = null;
  if (n <= maxEigen) {
    const sym = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = (H[i * n + j] + H[j * n + i]) / 2;
    if (sym.every(Number.isFinite)) {
      const values = Array.from(symmetricEigenvalues(sym, n));
      eigen = { values, ...curvatureOf(values) };
    } else notes.push('the Hessian has entries that are not finite: no eigenvalues');
  } else notes.push(`eigenvalues are computed for Hessians up to ${maxEigen} × ${maxEigen}`);

  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(H.subarray(i * n, (i + 1) * n)));
  return {
    ...atPoint(formula, so, values),
    n,
    entries: names,
    hessian: rows,
    method: 'reverse-over-reverse',
    passes: n,
    ms,
    symmetry: { maxAbsDiff, maxRelDiff, passed: symmetric },
    check,
    eigen,
    notes,
  };
}

/**
 * One Hessian-vector product H·v, for inputs too large for the whole Hessian: v is
 * given per variable (variables it leaves out move by 0), checked against central
 * differences of the gradient along v.
 */
export function hvp(
  formula: string,
  valuesIn: Record<string, Tensor | Nested>,
  directionIn: Record<string, Tensor | Nested>,
  opts: SecondOrderOptions & { check?: boolean } = {},
): HvpResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => hvpRun(formula, valuesIn, directionIn, { ...opts, limits }));
}

function hvpRun(
  formula: string,
  valuesIn: Record<string, Tensor | Nested>,
  directionIn: Record<string, Tensor | Nested>,
  opts: SecondOrderOptions & { check?: boolean },
): HvpResult {
  const values = toTensors(valuesIn);
  const direction = toTensors(directionIn);
  const so = secondOrderTape(formula, values, opts);
  const vars = so.tape.inputs.map((i) => i.name);
  for (const name of Object.keys(direction)) {
    const inp = so.tape.inputs.find((i) => i.name === name);
    if (!inp)
      throw new AgError('usage', `--hvp ${name}: there is no variable ${name} to move${so.tape.indexVars.includes(name) ? ` (${name} is an index)` : ''}`, {
        hint: `the variables are ${vars.join(', ')}`,
      });
    if (!sameShape(inp.shape, direction[name].shape)) {
      throw new AgError('shape', `--hvp ${name}: the direction has shape ${shapeStr(direction[name].shape)}, but ${name} has shape ${shapeStr(inp.shape)}`);
    }
  }
  const u = new Float64Array(so.n);
  const inputs = tapeInputs(so.tape);
  for (const inp of inputs) if (direction[inp.name]) u.set(direction[inp.name].data, inp.offset);
  const t0 = performance.now();
  const hu = so.hvp(u);
  const ms = performance.now() - t0;
  const check = opts.check === false ? null : checkSecondOrder(so.fn, [{ u, hu, name: 'v' }], opts);
  return {
    ...atPoint(formula, so, values),
    direction: Object.fromEntries(inputs.map((inp) => [inp.name, shown(inp.shape, u.subarray(inp.offset, inp.offset + inp.size), 64)])),
    hvp: perVariable(so.tape, hu),
    n: so.n,
    ms,
    check,
  };
}

export interface SecondOrderCheckResult extends AtPoint {
  passed: boolean;
  check: SecondOrderVerdict;
}

/** One Hessian-vector product under test: the direction u, the product H·u, and a name for it. */
export type SecondOrderDirection = Parameters<typeof checkSecondOrder>[1][number];

/**
 * The second-order check (gradgradcheck): Hessian-vector products against central
 * differences of the gradient along their directions. The library's one name for it:
 * - of a formula, along random unit directions: `secondOrderCheck(formula, values).passed`
 *   (for test suites and case files);
 * - of any function that gives a gradient (`SecondOrderFunction`), along the directions
 *   given with their products under test: `secondOrderCheck(fn, directions)`.
 */
export function secondOrderCheck(formula: string, values: Record<string, Tensor | Nested>, opts?: SecondOrderOptions): SecondOrderCheckResult;
export function secondOrderCheck(fn: SecondOrderFunction, directions: SecondOrderDirection[], opts?: SecondOrderOptions): SecondOrderVerdict;
export function secondOrderCheck(
  subject: string | SecondOrderFunction,
  second: Record<string, Tensor | Nested> | SecondOrderDirection[],
  opts: SecondOrderOptions = {},
): SecondOrderCheckResult | SecondOrderVerdict {
  if (typeof subject !== 'string') return checkSecondOrder(subject, second as SecondOrderDirection[], opts);
  return formulaSecondOrderCheck(subject, second as Record<string, Tensor | Nested>, opts);
}

function formulaSecondOrderCheck(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: SecondOrderOptions): SecondOrderCheckResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => {
    const values = toTensors(valuesIn);
    const so = secondOrderTape(formula, values, { ...opts, limits });
    const check = checkDirections(so, opts);
    return { passed: check.passed, ...atPoint(formula, so, values), check };
  });
}

/** K random unit directions u (seeded), H·u by the graph against differences of ∇f along u. */
export function checkDirections(so: SecondOrderTape, opts: SecondOrderOptions): SecondOrderVerdict {
  const rng = new Rng(opts.seed ?? 0);
  const K = opts.directions ?? 4;
  const dirs = Array.from({ length: K }, (_, k) => {
    const u = Float64Array.from({ length: so.n }, () => rng.normal());
    const norm = norm2(u);
    for (let j = 0; j < u.length; j++) u[j] /= norm || 1;
    return { u, hu: so.hvp(u), name: `direction ${k + 1}` };
  });
  return checkSecondOrder(so.fn, dirs, opts);
}

function summarize(v: SecondOrderVerdict, mode: 'full' | 'directional'): SecondOrderCheck {
  const { directions, ...rest } = v;
  return {
    ...rest,
    mode,
    ...(mode === 'directional' ? { directions } : {}),
    kinks: directions.filter((d) => d.status === 'kink').map((d) => d.direction),
    noisy: directions.reduce((s, d) => s + d.noisy, 0),
  };
}

function atPoint(formula: string, so: SecondOrderTape, values: Record<string, Tensor>): AtPoint {
  return {
    formula,
    engine: so.engine.name,
    point: pointOf(so.tape, values),
    variables: so.tape.inputs.map((i) => i.name),
    value: so.value,
    gradient: perVariable(so.tape, so.gradient),
  };
}

/** What the eigenvalues say about the curvature, with the tolerance that decides "≈ 0". */
export function curvatureOf(values: number[]): { curvature: Curvature; tolerance: number } {
  const big = Math.max(0, ...values.map(Math.abs));
  const tolerance = 1e-9 * big;
  if (big === 0) return { curvature: 'zero', tolerance };
  const pos = values.filter((v) => v > tolerance).length;
  const neg = values.filter((v) => v < -tolerance).length;
  const zero = values.length - pos - neg;
  const curvature: Curvature =
    pos && neg ? 'indefinite' : pos ? (zero ? 'positive semidefinite' : 'positive definite') : zero ? 'negative semidefinite' : 'negative definite';
  return { curvature, tolerance };
}

/** The values the formula uses (its variables, and those held fixed by --wrt or used as indices); above 64 entries summarised. */
function pointOf(tape: Tape, values: Record<string, Tensor>): Record<string, Shown> {
  const used = new Set([...tape.inputs.map((i) => i.name), ...tape.indexVars, ...tape.nodes.filter((n) => n.op === 'const').map((n) => n.label)]);
  return Object.fromEntries(
    Object.entries(values)
      .filter(([k]) => used.has(k))
      .map(([k, v]) => [k, shown(v.shape, v.data, 64)]),
  );
}
