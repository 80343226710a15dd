import { checkJacobian, type JacobianCheck } from '../../verify/fd.js';
import { runSync } from '../../verify/evaluator.js';
import { evaluationsPerCoordinate } from '../../verify/steps.js';
import { tapeOutputs } from '../../verify/tape.js';
import { DEFAULT_ATOL, DEFAULT_FD_MAX, DEFAULT_RTOL, relError, withinTolerance } from '../../verify/tolerance.js';
import { inputSlots } from '../../core/engine/js.js';
import { selectEngine, type EngineChoice } from '../../core/engine/select.js';
import { AgError } from '../../core/errors.js';
import { pointOf, prepare, toTensors, buildNotes, type GradOptions, type Shown } from './grad.js';
import { ENTRY_BYTES, limitName, limitsFrom, memoryError, withDeadline, type Limits } from '../../core/limits.js';
import { forwardJacobian, reverseJacobian } from '../../core/engine/modes.js';
import { makeArena, view } from '../../core/graph/tape.js';
import type { Nested } from '../../core/parse/values.js';
import { subscript, toNested, type Tensor } from '../../core/tensor.js';

export type JacobianMode = 'both' | 'auto' | 'forward' | 'reverse';

export interface JacobianOptions extends Pick<GradOptions, 'limits'> {
  wrt?: string[];
  engine?: EngineChoice;
  /** both (default): run the two and compare; auto: the one with fewer passes; or one of them */
  mode?: JacobianMode;
  /** compare with central differences (default true) */
  check?: boolean;
  rtol?: number;
  atol?: number;
  eps?: number;
  method?: 'central' | 'richardson';
  /** difference only while the inputs have at most this many entries */
  fdMax?: number;
  /** largest Jacobian (m·n entries) computed */
  maxEntries?: number;
}

export interface ModeRun {
  /** one jvp per input entry (forward) or one seeded reverse pass per output entry (reverse) */
  passes: number;
  ms: number;
}

export type { JacobianCheck } from '../../verify/fd.js';

export interface JacobianResult {
  formula: string;
  engine: 'js' | 'native';
  point: Record<string, Shown>;
  variables: string[];
  value: Nested;
  outputShape: number[];
  /** output entries (rows) */
  m: number;
  /** input entries (columns) */
  n: number;
  /** `f`, `f[1]`, `f[2,3]` */
  rows: string[];
  /** `x`, `W[1,2]` */
  columns: string[];
  /** ∂f_i/∂x_j, m rows of n */
  jacobian: number[][];
  forward: ModeRun | null;
  reverse: ModeRun | null;
  /** forward against reverse, when both ran */
  agreement: { maxAbsDiff: number; maxRelDiff: number; passed: boolean } | null;
  check: JacobianCheck | null;
  /** which mode `auto` picked, and why */
  choice: { mode: 'forward' | 'reverse'; reason: string } | null;
  notes: string[];
}

/** Most Jacobian entries computed by default. */
export const DEFAULT_MAX_JACOBIAN = 4_000_000;

/**
 * The full Jacobian of a (vector-valued) formula two ways: forward mode, one tangent
 * pass per input entry (n passes, a column each), and reverse mode, one seeded
 * pass per output entry (m passes, a row each). Which is cheaper is the lecture's
 * table: n ≫ m → reverse, m ≫ n → forward.
 */
export function jacobian(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: JacobianOptions = {}): JacobianResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => jacobianRun(formula, valuesIn, opts, limits));
}

/** The Jacobian's own copies besides the tape's run: forward's and reverse's matrices, the rows handed out, and their text. */
const JACOBIAN_COPIES = 2 + 1 + 3;

function jacobianRun(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: JacobianOptions, limits: Limits): JacobianResult {
  const values = toTensors(valuesIn);
  const tape = prepare(formula, values, { wrt: opts.wrt, limits });
  if (tape.inputs.length === 0) throw new AgError('usage', 'the formula has no variables to differentiate', { source: formula });
  const engine = selectEngine(opts.engine ?? 'auto', tape);
  const arena = makeArena(tape, values);
  engine.forward(tape, arena);
  const out = tape.nodes[tape.output];
  const m = out.size;
  const slots = inputSlots(tape);
  const n = slots.length;
  const max = opts.maxEntries ?? DEFAULT_MAX_JACOBIAN;
  if (m * n > max) {
    throw new AgError('limit', `the Jacobian would have ${m} × ${n} = ${m * n} entries; the limit is ${max}`, {
      hint: 'use grad on a scalar reduction, or --wrt to take fewer variables',
    });
  }
  const jBytes = m * n * ENTRY_BYTES * JACOBIAN_COPIES;
  if (jBytes > limits.maxMemory) throw memoryError(jBytes, `the ${m} × ${n} Jacobian`, limits);
  const mode = opts.mode ?? 'both';
  const choice = mode === 'auto' ? choose(n, m) : null;
  const runForward = mode === 'both' || mode === 'forward' || choice?.mode === 'forward';
  const runReverse = mode === 'both' || mode === 'reverse' || choice?.mode === 'reverse';
  const fdMax = opts.fdMax ?? DEFAULT_FD_MAX;
  const passes = (runForward ? n : 0) + (runReverse ? m : 0) + (opts.check !== false && n <= fdMax ? 1 + evaluationsPerCoordinate({ eps: opts.eps }) * n : 0);
  if (passes > limits.maxEvaluations) {
    throw new AgError(
      'limit',
      `the Jacobian would take ${passes} passes over the graph; the limit is ${limits.maxEvaluations} (${limitName('maxEvaluations')})`,
      {
        hint: '--mode auto takes the cheaper mode; --no-check skips the differences',
      },
    );
  }

  let jf: Float64Array | null = null;
  let forward: ModeRun | null = null;
  if (runForward) {
    const t0 = performance.now();
    jf = forwardJacobian(engine, tape, arena, m, n);
    forward = { passes: n, ms: performance.now() - t0 };
  }
  let jr: Float64Array | null = null;
  let reverse: ModeRun | null = null;
  if (runReverse) {
    const t0 = performance.now();
    jr = reverseJacobian(engine, tape, arena, m, n);
    reverse = { passes: m, ms: performance.now() - t0 };
  }
  const J = (jr ?? jf)!;
  const tol = { rtol: opts.rtol ?? DEFAULT_RTOL, atol: opts.atol ?? DEFAULT_ATOL };

  let agreement: JacobianResult['agreement'] = null;
  if (jf && jr) {
    let maxAbsDiff = 0;
    let maxRelDiff = 0;
    let passed = true;
    for (let k = 0; k < J.length; k++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(jf[k] - jr[k]));
      if (Math.abs(jf[k] - jr[k]) > tol.atol) maxRelDiff = Math.max(maxRelDiff, relError(jf[k], jr[k]));
      if (!withinTolerance(jf[k], jr[k], tol) && !(Number.isNaN(jf[k]) && Number.isNaN(jr[k]))) passed = false;
    }
    agreement = { maxAbsDiff, maxRelDiff, passed };
  }

  const rows = Array.from({ length: m }, (_, i) => `f${subscript(out.shape, i)}`);
  const columns: string[] = [];
  for (const inp of tape.inputs) {
    const node = tape.nodes[inp.node];
    for (let k = 0; k < node.size; k++) columns.push(inp.name + subscript(node.shape, k));
  }
  const notes: string[] = buildNotes(tape);
  let check: JacobianCheck | null = null;
  if (opts.check !== false) {
    if (n <= fdMax) {
      const { fn, evaluator } = tapeOutputs(engine, tape, arena);
      check = runSync(checkJacobian(fn, J, rows, { ...tol, eps: opts.eps, method: opts.method }), evaluator);
    } else notes.push(`${n} input entries: finite differences skipped (more than --fd-max ${fdMax})`);
  }

  const jac: number[][] = [];
  for (let i = 0; i < m; i++) jac.push(Array.from(J.subarray(i * n, (i + 1) * n)));
  return {
    formula,
    engine: engine.name,
    point: pointOf(
      values,
      tape.inputs.map((i) => i.name),
    ),
    variables: tape.inputs.map((i) => i.name),
    value: toNested(out.shape, view(arena, out)) as Nested,
    outputShape: [...out.shape],
    m,
    n,
    rows,
    columns,
    jacobian: jac,
    forward,
    reverse,
    agreement,
    check,
    choice,
    notes,
  };
}

/** Fewer passes wins: n input entries (forward) against m output entries (reverse). */
export function choose(n: number, m: number): { mode: 'forward' | 'reverse'; reason: string } {
  const passes = (k: number) => `${k} pass${k === 1 ? '' : 'es'}`;
  const entries = (k: number, what: string) => `${k} ${what} entr${k === 1 ? 'y' : 'ies'}`;
  if (n < m)
    return {
      mode: 'forward',
      reason: `n = ${entries(n, 'input')} < m = ${entries(m, 'output')}: forward mode takes ${passes(n)} (one per input entry), reverse ${passes(m)}`,
    };
  if (m < n)
    return {
      mode: 'reverse',
      reason: `m = ${entries(m, 'output')} < n = ${entries(n, 'input')}: reverse mode takes ${passes(m)} (one per output entry), forward ${passes(n)}`,
    };
  return { mode: 'forward', reason: `n = m = ${n}: the same number of passes either way; forward mode keeps no tape of adjoints` };
}
