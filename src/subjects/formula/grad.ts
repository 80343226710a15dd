import { checkGradient, perVariable, type CheckOptions, type CheckResult } from '../../verify/fd.js';
import type { Program } from '../../core/parse/ast.js';
import { freeVariables } from '../../core/parse/free.js';
import { diagnoseForward, diagnoseGradient, diagnoseOverflow, diagnoseTangent } from '../../verify/nonfinite.js';
import { DEFAULT_DIRECTIONS, DEFAULT_FD_MAX, DEFAULT_SAMPLE } from '../../verify/tolerance.js';
import { evaluationsPerCoordinate } from '../../verify/steps.js';
import { fmt, uncertainties } from '../../verify/words.js';
import { selectEngine, type EngineChoice } from '../../core/engine/select.js';
import { forwardJacobian, gatherInputs } from '../../core/engine/modes.js';
import type { EdgeFlow } from '../../core/engine/types.js';
import { AgError, type Span } from '../../core/errors.js';
import { buildSteps, buildTape, GRAD_PLAN, type MemoryPlan } from '../../core/graph/build.js';
import { collectGarbage, ENTRY_BYTES, limitName, limitsFrom, withDeadline, type Limits } from '../../core/limits.js';
import { displayName, fullName, localFormulaParts } from '../../core/graph/describe.js';
import { makeArena, view, type Tape } from '../../core/graph/tape.js';
import { localValue } from '../../core/ops/eager.js';
import { isFunctionName } from '../../core/ops/index.js';
import { CONSTANTS, parseProgram } from '../../core/parse/parse.js';
import { checkName, fromNested, type Nested } from '../../core/parse/values.js';
import { Rng } from '../../core/random.js';
import { norm2, shapeStr, toNested, type Shape, type Tensor } from '../../core/tensor.js';

export interface GradOptions extends CheckOptions {
  /** differentiate only with respect to these variables */
  wrt?: string[];
  engine?: EngineChoice;
  /** compare with finite differences (default true) */
  check?: boolean;
  /** also run forward mode (default true) */
  forwardMode?: boolean;
  /** record what flows along every edge (default true) */
  edges?: boolean;
  /** tensors up to this many entries are given whole in nodes/edges; larger ones summarised (default 64) */
  fullTensorLimit?: number;
  /** the resource limits (src/core/limits.ts); the defaults for any not given */
  limits?: Limits | Partial<Limits>;
  /**
   * Also differentiate with respect to these named steps (`q` of `q = x + y; f = q*z`):
   * ∂f/∂q, the adjoint arriving at q's node, with its own finite-difference check. `wrt`
   * may name steps too.
   */
  steps?: string[];
}

/** A tensor too large to print: its shape and a few statistics. */
export interface Summary {
  shape: number[];
  norm: number;
  min: number;
  max: number;
  first: number[];
}

export type Shown = Nested | Summary;

export interface Warning {
  code:
    | 'kink'
    | 'noisy'
    | 'nonfinite'
    | 'overflow'
    | 'unused-value'
    | 'unused-argument'
    | 'shadowed-name'
    | 'notation'
    | 'index-variable'
    | 'directional'
    | 'forward-directional';
  message: string;
  span?: Span;
}

export interface NodeReport {
  id: number;
  /** the tape's label (`x`, `q`, `add#2`) */
  label: string;
  /** what people call it: a step's name, or the formula text it computes (inside an inline function, with the call's arguments put in), in full */
  name: string;
  op: string;
  inputs: number[];
  shape: number[];
  value: Shown;
  /** ∂f/∂node (null where the node does not depend on a variable) */
  grad: Shown | null;
  span?: Span;
  text?: string;
}

export interface EdgeReport {
  /** the input node (where the gradient arrives) */
  from: number;
  /** the consumer node (where the gradient comes from) */
  to: number;
  fromLabel: string;
  toLabel: string;
  /** which input of `to` this edge is (0-based) */
  input: number;
  /** symbolic local derivative ∂to/∂from, in the nodes' names (long ones shortened with …) */
  local: string;
  /** the same in the nodes' full names (a formula mathjs parses, for LaTeX) */
  localFull: string;
  /** its value (null when it is a full Jacobian) */
  localValue: Shown | null;
  /** ∂f/∂to */
  upstream: Shown;
  /** this edge's contribution to ∂f/∂from */
  downstream: Shown;
}

export interface GradResult {
  formula: string;
  engine: 'js' | 'native';
  /** the values used (tensors past `fullTensorLimit` entries summarised) */
  point: Record<string, Shown>;
  variables: string[];
  value: number;
  gradient: Record<string, Nested>;
  /** forward-mode gradient (null when the inputs are too large for one pass per entry) */
  forward: Record<string, Nested> | null;
  check: CheckResult | null;
  nodes: NodeReport[];
  edges: EdgeReport[];
  warnings: Warning[];
  /** scalar variables used as indices (fixed, not differentiated) */
  indexVariables: string[];
  /** the seed random values were drawn with (set by the CLI when --at used randn/rand) */
  seed?: number;
}

/**
 * Coerce library-style values (numbers, nested arrays, tensors) to tensors, in a
 * null-prototype table: a value named `constructor` or `__proto__` is a value like any other.
 */
export function toTensors(values: Record<string, Tensor | Nested>): Record<string, Tensor> {
  const out: Record<string, Tensor> = Object.create(null);
  for (const k of Object.keys(values)) {
    checkName(k, 'a value');
    const v = values[k];
    out[k] =
      typeof v === 'object' && v !== null && 'data' in v && 'shape' in v && (v as Tensor).data instanceof Float64Array ? (v as Tensor) : fromNested(v, k);
  }
  return out;
}

/**
 * An argument passed for a parameter its function never reads: the variables in it are
 * still reported (gradient 0 through that argument), and this says why.
 */
export function unusedArgumentNotes(tape: Tape): string[] {
  return (tape.unusedParams ?? []).map(
    ({ fn, param, arg }) => `${fn} does not use its parameter ${param}; ${arg}, passed for it, gets gradient 0 through ${fn}`,
  );
}

/** Everything the build notes in words: a name that shadows a constant or function, a call that reads two ways (max(A, 2)), an argument no body reads. */
export function buildNotes(tape: Tape): string[] {
  return [...(tape.shadowed ?? []), ...(tape.notation ?? []), ...unusedArgumentNotes(tape)];
}

/** Parse and build: the checked tape for a formula at these values. */
export function prepare(formula: string, values: Record<string, Tensor>, opts: Pick<GradOptions, 'wrt' | 'limits'> & { plan?: MemoryPlan } = {}): Tape {
  const limits = limitsFrom(opts.limits);
  const program = parseProgram(formula, { isFunction: isFunctionName, limits });
  return buildTape(program, values, { wrt: opts.wrt, limits, plan: opts.plan });
}

/**
 * The whole job: value, reverse-mode gradient, forward-mode gradient, finite-difference
 * check, and what flowed along every edge.
 */
export function grad(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: GradOptions = {}): GradResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => {
    const values = toTensors(valuesIn);
    const program = parseFormula(formula, limits);
    const stepNames = new Set(program.stmts.flatMap((s) => (s.k === 'assign' ? [s.name] : [])));
    const variables = new Set(freeVariables(program).variables);
    // --wrt q for a named step q (a variable of the same name wins)
    const wrtSteps = (opts.wrt ?? []).filter((w) => stepNames.has(w) && !variables.has(w));
    const unknown = (opts.wrt ?? []).find((w) => !stepNames.has(w) && !variables.has(w));
    if (unknown !== undefined && stepNames.size) {
      throw new AgError('usage', `--wrt ${unknown}: there is no variable or named step ${unknown} in the formula`, {
        hint: `the variables are ${[...variables].join(', ') || 'none'}; the named steps ${[...stepNames].join(', ')}`,
      });
    }
    const steps = [...new Set([...(opts.steps ?? []), ...wrtSteps])];
    const plan = planOf(opts);
    if (!steps.length) return gradRun(formula, values, opts, limits, buildTape(program, values, { wrt: opts.wrt, limits, plan }));
    const wrt = opts.wrt?.filter((w) => !wrtSteps.includes(w));
    const main = wrt === undefined || wrt.length ? gradRun(formula, values, { ...opts, wrt }, limits, buildTape(program, values, { wrt, limits, plan })) : null;
    return stepRuns(formula, program, values, steps, opts, limits).reduce<GradResult | null>(withSteps, main)!;
  });
}

/** The formula parsed last by `parseFormula`, under these limits. */
let lastParsed: { formula: string; limits: Limits; program: Program } | undefined;

/**
 * A formula parsed as grad parses it, or the program parsed from it by the call before
 * (a program is never changed once parsed): a check parses f, then asks for its gradient
 * at each of its points.
 */
export function parseFormula(formula: string, limits: Limits): Program {
  if (lastParsed?.formula === formula && lastParsed.limits === limits) return lastParsed.program;
  const program = parseProgram(formula, { isFunction: isFunctionName, limits });
  lastParsed = { formula, limits, program };
  return program;
}

function planOf(opts: GradOptions): MemoryPlan {
  return { ...GRAD_PLAN, edges: opts.edges !== false, fullOutput: (opts.fullTensorLimit ?? 64) === Infinity };
}

/**
 * ∂f/∂(step) for named steps: each step in turn is cut out of the graph as an input
 * holding its value at the point (build.ts `cut`), and the rest of the graph is
 * differentiated and checked as usual — finite differences perturb the step's value and
 * re-run what follows. One at a time, because a step cut further down would block the
 * gradient of one above it. Two steps that are one expression are one node: they share its gradient.
 */
function stepRuns(
  formula: string,
  program: Program,
  values: Record<string, Tensor>,
  steps: string[],
  opts: GradOptions,
  limits: Limits,
): { result: GradResult; alias: Record<string, string> }[] {
  const { tape: full, steps: nodes } = buildSteps(program, values, { wrt: [], limits, keep: steps });
  for (const s of steps) {
    if (!(s in nodes)) throw new AgError('usage', `--wrt ${s}: there is no variable or named step ${s} in the formula`);
  }
  const arena = makeArena(full, values);
  selectEngine(opts.engine ?? 'auto', full).forward(full, arena);
  const runs = new Map<number, { name: string; alias: Record<string, string> }>();
  for (const s of steps) {
    const seen = runs.get(nodes[s]);
    if (seen) seen.alias[s] = seen.name;
    else runs.set(nodes[s], { name: s, alias: Object.create(null) });
  }
  return [...runs].map(([id, { name, alias }]) => {
    const cut = { [name]: { shape: full.nodes[id].shape, data: view(arena, full.nodes[id]).slice() } };
    const at: Record<string, Tensor> = Object.assign(Object.create(null), values, cut);
    const tape = buildTape(program, at, { wrt: [name], limits, plan: planOf(opts), cut });
    return { result: gradRun(formula, at, { ...opts, wrt: [name] }, limits, tape), alias };
  });
}

/** The variables' result with a step's gradient and check added (or the step's alone). */
function withSteps(main: GradResult | null, s: { result: GradResult; alias: Record<string, string> }): GradResult {
  const r = s.result;
  for (const [name, as] of Object.entries(s.alias)) {
    r.variables.push(name);
    r.gradient[name] = r.gradient[as];
    if (r.forward) r.forward[name] = r.forward[as];
    if (r.check) {
      r.check.variables[name] = r.check.variables[as];
      if (r.check.finiteDifference) r.check.finiteDifference[name] = r.check.finiteDifference[as];
    }
  }
  if (!main) return r;
  const merge = <T>(a: Record<string, T>, b: Record<string, T>) => Object.assign(Object.create(null) as Record<string, T>, a, b);
  const a = main.check;
  const b = r.check;
  const check: CheckResult | null =
    a && b
      ? {
          ...a,
          passed: a.passed && b.passed,
          maxAbsError: Math.max(a.maxAbsError, b.maxAbsError),
          maxRelError: Math.max(a.maxRelError, b.maxRelError),
          evaluations: a.evaluations + b.evaluations,
          mode: a.mode === 'full' && b.mode === 'full' ? 'full' : 'directional',
          entries: [...a.entries, ...b.entries],
          ...(a.directions || b.directions ? { directions: [...(a.directions ?? []), ...(b.directions ?? [])] } : {}),
          ...(a.finiteDifference && b.finiteDifference ? { finiteDifference: merge(a.finiteDifference, b.finiteDifference) } : {}),
          variables: merge(a.variables, b.variables),
          failures: [...a.failures, ...b.failures].sort((x, y) => y.absError - x.absError).slice(0, 5),
        }
      : (a ?? b);
  const seen = new Set(main.warnings.map((w) => w.message));
  return {
    ...main,
    variables: [...main.variables, ...r.variables],
    gradient: merge(main.gradient, r.gradient),
    forward: main.forward && r.forward ? merge(main.forward, r.forward) : null,
    check,
    warnings: [...main.warnings, ...r.warnings.filter((w) => !seen.has(w.message))],
  };
}

function gradRun(formula: string, values: Record<string, Tensor>, opts: GradOptions, limits: Limits, tape: Tape): GradResult {
  const limit = opts.fullTensorLimit ?? 64;
  const warnings: Warning[] = [];
  const used = new Set([...tape.inputs.map((i) => i.name), ...tape.indexVars, ...usedConstNames(tape)]);
  for (const name of Object.keys(values)) {
    if (name in CONSTANTS && !used.has(name)) {
      warnings.push({ code: 'unused-value', message: `${name} is a constant (${CONSTANTS[name]}); the value given for it is not used` });
      continue;
    }
    if (!used.has(name) && !formulaMentions(formula, name))
      warnings.push({ code: 'unused-value', message: `a value was given for ${name}, which the formula does not use` });
  }
  for (const message of tape.shadowed ?? []) warnings.push({ code: 'shadowed-name', message });
  for (const message of tape.notation ?? []) warnings.push({ code: 'notation', message });
  for (const message of unusedArgumentNotes(tape)) warnings.push({ code: 'unused-argument', message });
  if (tape.indexVars.length) {
    warnings.push({
      code: 'index-variable',
      message: `${tape.indexVars.join(', ')} ${tape.indexVars.length > 1 ? 'are' : 'is'} used as an index, so ${tape.indexVars.length > 1 ? 'they are' : 'it is'} fixed and not differentiated`,
    });
  }
  const out = tape.nodes[tape.output];
  if (out.size !== 1) {
    throw new AgError('shape', `the formula's value has shape ${shapeStr(out.shape)}; grad needs a scalar`, {
      span: out.span,
      source: formula,
      hint: 'use `autograd-cli jacobian` for vector-valued formulas, or reduce it (sum(...), norm(...))',
    });
  }
  if (tape.inputs.length === 0) {
    throw new AgError('usage', 'the formula has no variables to differentiate', {
      source: formula,
      hint: opts.wrt ? undefined : 'use a name that is not a constant, like x, and give its value with --at x=...',
    });
  }
  // the work is bounded before it starts: evaluations of the check and forward mode's passes
  const nEntries = tape.inputs.reduce((s, i) => s + tape.nodes[i.node].size, 0);
  const fdMax = opts.fdMax ?? DEFAULT_FD_MAX;
  const full = nEntries <= fdMax;
  const per = evaluationsPerCoordinate({ eps: opts.eps });
  const evaluations =
    (opts.check !== false
      ? 1 + per * (full ? nEntries : Math.min(opts.sample ?? DEFAULT_SAMPLE, nEntries)) + (full ? 0 : per * (opts.directions ?? DEFAULT_DIRECTIONS))
      : 0) + (opts.forwardMode !== false ? (full ? nEntries : 2) : 0);
  if (evaluations > limits.maxEvaluations) {
    throw new AgError(
      'limit',
      `the check would take ${evaluations} evaluations of the formula; the limit is ${limits.maxEvaluations} (${limitName('maxEvaluations')})`,
      {
        hint: full ? 'lower --fd-max to use the directional check' : 'use fewer --directions and --sample',
      },
    );
  }
  const engine = selectEngine(opts.engine ?? 'auto', tape);
  const arenaBytes = tape.arenaSize * ENTRY_BYTES;
  // a large run collects its dead copies between phases (values evaluated, forward mode, the check)
  collectGarbage(arenaBytes);
  const arena = makeArena(tape, values);
  engine.forward(tape, arena);
  const value = arena[out.offset];
  const show = (shape: Shape, data: Float64Array): Shown => shown(shape, data, limit);

  const rev = engine.reverse(tape, arena, { edges: opts.edges !== false });
  const adFlat = gatherInputs(tape, rev.adjoint);
  const gradient = perVariable(tape, adFlat);

  if (!Number.isFinite(value)) {
    warnings.push({ code: 'nonfinite', ...diagnoseForward(tape, arena) });
  } else if (adFlat.some((v) => !Number.isFinite(v))) {
    warnings.push({ code: 'nonfinite', ...diagnoseGradient(tape, arena, rev.adjoint) });
  } else {
    const overflow = diagnoseOverflow(tape, arena);
    if (overflow) warnings.push({ code: 'overflow', ...overflow });
  }

  // forward mode: one tangent pass per input entry while that is affordable
  let forward: Record<string, Nested> | null = null;
  let fwFlat: Float64Array | undefined;
  if (opts.forwardMode !== false) {
    if (full) {
      // the gradient as a 1 × n Jacobian, one tangent pass per input entry
      fwFlat = forwardJacobian(engine, tape, arena, 1, nEntries);
      forward = perVariable(tape, fwFlat);
    } else {
      warnings.push(forwardAlongDirections(engine, tape, arena, adFlat, opts.seed ?? 0));
    }
  }

  if (fwFlat && !warnings.some((w) => w.code === 'nonfinite')) {
    const j = fwFlat.findIndex((v, k) => !Number.isFinite(v) && Number.isFinite(adFlat[k]));
    if (j >= 0) warnings.push({ code: 'nonfinite', ...diagnoseTangent(tape, arena, j) });
  }

  let check: CheckResult | null = null;
  if (opts.check !== false) {
    collectGarbage(arenaBytes);
    check = checkGradient(engine, tape, arena, adFlat, opts, { forward: fwFlat, adjoint: rev.adjoint });
    warnings.push(...uncertainties(check, 'autodiff', 'formula'));
    if (check.mode === 'directional') {
      warnings.push({
        code: 'directional',
        message: `${nEntries} input entries: checked ${check.directions?.length ?? 0} random directions and ${check.entries.length} sampled entries instead of all (--fd-max ${opts.fdMax ?? DEFAULT_FD_MAX})`,
      });
    }
  }

  const nodes: NodeReport[] = tape.nodes.map((n) => ({
    id: n.id,
    label: n.label,
    name: fullName(tape, n),
    op: n.op,
    inputs: n.inputs,
    shape: [...n.shape],
    value: show(n.shape, view(arena, n)),
    grad: n.active ? show(n.shape, view(rev.adjoint, n)) : null,
    ...(n.span ? { span: n.span, text: formula.slice(n.span.start, n.span.end) } : {}),
  }));
  const edges = (rev.edges ?? []).map((e) => edgeReport(tape, arena, rev.adjoint, e, show));

  return {
    formula,
    engine: engine.name,
    point: pointOf(values, [...used], limit),
    variables: tape.inputs.map((i) => i.name),
    value,
    gradient,
    forward,
    check,
    nodes,
    edges,
    warnings,
    indexVariables: tape.indexVars,
  };
}

/** The values of these names (those given), in a null-prototype table, large ones summarised. */
export function pointOf(values: Record<string, Tensor>, names: Iterable<string>, limit = 64): Record<string, Shown> {
  const out: Record<string, Shown> = Object.create(null);
  for (const k of names) {
    const v = values[k];
    if (v) out[k] = shown(v.shape, v.data, limit);
  }
  return out;
}

function usedConstNames(tape: Tape): string[] {
  // variables excluded by --wrt became constants labelled by their name
  return tape.nodes.filter((n) => n.op === 'const' && /^[A-Za-z_]\w*$/.test(n.label)).map((n) => n.label);
}

function formulaMentions(formula: string, name: string): boolean {
  return new RegExp(`(^|[^\\w.])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w]|$)`).test(formula);
}

export function shown(shape: Shape, data: Float64Array, limit: number): Shown {
  if (data.length <= limit) return toNested(shape, data) as Nested;
  return summarize(shape, data);
}

export function summarize(shape: Shape, data: Float64Array): Summary {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { shape: [...shape], norm: norm2(data), min, max, first: Array.from(data.subarray(0, 4)) };
}

export function edgeReport(tape: Tape, arena: Float64Array, adjoint: Float64Array, e: EdgeFlow, show: (s: Shape, d: Float64Array) => Shown): EdgeReport {
  const to = tape.nodes[e.to];
  const from = tape.nodes[e.from];
  const ins = to.inputs.map((i) => ({ shape: tape.nodes[i].shape, data: view(arena, tape.nodes[i]) }));
  const lv = localValue(to.op, ins, { shape: to.shape, data: view(arena, to) }, e.input, to.attrs);
  return {
    from: e.from,
    to: e.to,
    fromLabel: displayName(tape, from),
    toLabel: displayName(tape, to),
    input: e.input,
    ...(({ text, full }) => ({ local: text, localFull: full }))(localFormulaParts(tape, to, e.input)),
    localValue: lv ? show(to.shape, lv) : null,
    upstream: show(to.shape, view(adjoint, to)),
    downstream: show(from.shape, e.contribution),
  };
}

function forwardAlongDirections(engine: ReturnType<typeof selectEngine>, tape: Tape, arena: Float64Array, ad: Float64Array, seed: number): Warning {
  // forward mode along random directions u: the tangent must equal ∇f·u from reverse mode
  const rng = new Rng(seed + 1);
  let worst = 0;
  const K = 2;
  for (let k = 0; k < K; k++) {
    const dots = tape.inputs.map((i) => {
      // filled in place: Float64Array.from with a map function builds a JS array of boxed numbers first
      const d = new Float64Array(tape.nodes[i.node].size);
      for (let j = 0; j < d.length; j++) d[j] = rng.normal();
      return d;
    });
    const t = engine.jvp(tape, arena, dots)[0];
    let r = 0;
    let o = 0;
    for (const d of dots) for (let j = 0; j < d.length; j++) r += ad[o++] * d[j];
    worst = Math.max(worst, Math.abs(t - r) / Math.max(1e-300, Math.abs(t), Math.abs(r)));
  }
  return {
    code: 'forward-directional',
    message: `${ad.length} input entries: forward mode ran along ${K} random directions instead of once per entry; largest relative gap to reverse mode ${fmt(worst)}`,
  };
}

/** `x, W[1,2], …` — the first five entries' names. */
