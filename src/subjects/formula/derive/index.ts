import { AgError } from '../../../core/errors.js';
import { limitsFrom, withDeadline, type Limits } from '../../../core/limits.js';
import { toTensors, buildNotes, type GradOptions } from '../grad.js';
import { buildTape } from '../../../core/graph/build.js';
import { displayName, localFormula } from '../../../core/graph/describe.js';
import { makeArena, type Tape, type TapeNode } from '../../../core/graph/tape.js';
import { jsEngine } from '../../../core/engine/js.js';
import { isFunctionName } from '../../../core/ops/index.js';
import { parseProgram } from '../../../core/parse/parse.js';
import type { Nested } from '../../../core/parse/values.js';
import { num } from '../../../core/number-format.js';
import { scalar, type Tensor } from '../../../core/tensor.js';
import { crossCheck, crossCheckTensor, type CrossCheck } from './check.js';
import { SIMPLIFY_BUDGET_MS, simplifyWithin } from './budget.js';
import { formulaOf, MAX_EXPR, printStepsFor, type PrintSteps } from '../../../core/graph/print.js';
import { tensorGradient } from './tensor.js';
import { assertJacobianShapes, jacobianShape, tensorJacobian } from './jacobian.js';
import { formulaToTex } from './simplify.js';
import { getOp } from '../../../core/ops/index.js';
import type { Program } from '../../../core/parse/ast.js';
import { shapeStr } from '../../../core/tensor.js';
import { freeVariables } from '../../../core/parse/free.js';
import { keptForms } from './keep.js';
import { hasSizedConstant, preferTextbook } from './textbook.js';
import {
  assertScalarSymbolic,
  inParams,
  keptInputs,
  localExpr,
  reverseSteps,
  reverseSymbolic,
  statementsOfText,
  valueExprs,
  withSteps,
  type Kept,
} from './symbolic.js';

export { crossCheck, type CrossCheck, type CheckPoint, type Disagreement } from './check.js';

export interface DeriveOptions extends Pick<GradOptions, 'limits'> {
  /** differentiate with respect to these (default: every variable) */
  wrt?: string[];
  /** a point to evaluate at and judge first (scalars only) */
  at?: Record<string, Tensor | Nested>;
  /** seed of the random check points */
  seed?: number;
  /** how many random points must agree (default 5) */
  points?: number;
  /** also write each derivative as LaTeX (mathjs toTex) */
  latex?: boolean;
  /** the simplifier (default mathjs simplify, on a worker thread under a time budget); tests put a broken one here */
  simplify?: (expr: string, opts?: { matrices?: boolean }) => string;
  /** milliseconds all simplifications together may take (default SIMPLIFY_BUDGET_MS) */
  simplifyBudgetMs?: number;
}

export interface DeriveEdge {
  /** the input node (where the gradient arrives) and the consumer (where it comes from) */
  from: number;
  to: number;
  fromLabel: string;
  toLabel: string;
  /** the op table's local derivative ∂to/∂from, in the nodes' names (the lecture's "local gradient") */
  local: string;
  /** the same, written in the variables and simplified */
  localInVariables: string;
}

export interface DeriveResult {
  formula: string;
  /** the formula's statements as written, one per line (`sigma(t) = 1/(1+exp(-t))`, `f = sigma(w*x + b)`) */
  statements: string[];
  /** the definitions and steps the derivatives may use (every statement but the last), for evaluating them */
  prelude: string;
  /** the variables differentiated, in order of first appearance */
  variables: string[];
  /** the formula's value written out in the variables */
  expression: string;
  /** ∂f/∂v, simplified; named steps and inline functions kept as written */
  derivatives: Record<string, string>;
  /** ∂f/∂v as reverse accumulation wrote it, before simplify */
  unsimplified: Record<string, string>;
  /** every edge a gradient flows along, in backprop order */
  edges: DeriveEdge[];
  check: CrossCheck;
  /** with --at: the value and both gradients there */
  at: { point: Record<string, number>; value: number; gradient: Record<string, number> } | null;
  notes: string[];
  /** tensor formulas: the shapes of the variables (from --at; scalars otherwise) */
  shapes?: Record<string, number[]>;
  /** tensor formulas: --at gave values (the first cross-check point) */
  shapesGiven?: boolean;
  /** a vector f: each ∂f/∂v is its Jacobian, of this shape ([m, n], or [m] for a scalar v) */
  jacobians?: Record<string, number[]>;
  /** with `latex`: ∂f/∂v as LaTeX */
  latex?: Record<string, string>;
  /** with `latex`: the steps and inline functions (every statement but the last) as LaTeX */
  latexDefinitions?: string[];
}

/** A derivative longer than this (characters, accumulated) is written with named steps. */
export const STEPS_OVER = 3000;
/** Edges past this many are shown in the variables without simplifying each one. */
const SIMPLIFY_EDGES = 60;
/** Expressions longer than this are not given to simplify at all. */
const SIMPLIFY_MAX_CHARS = 20_000;

/**
 * The symbolic derivative: reverse accumulation of the op table's local formulas over
 * the tape, then simplify, then a numeric cross-check against the engine. A
 * disagreement is an error (a bug report), never a printed derivative.
 */
export function derive(formula: string, opts: DeriveOptions = {}): DeriveResult {
  const limits = limitsFrom(opts.limits);
  const r = withDeadline(limits.timeout, () => deriveRun(formula, opts, limits));
  if (opts.latex) {
    // a derivative's own steps (t1 = …) are definitions, once each
    const split = Object.entries(r.derivatives).map(([v, d]) => [v, statementsOfText(d)] as const);
    const steps = [...new Set(split.flatMap(([, parts]) => parts.slice(0, -1)))];
    r.latex = Object.fromEntries(split.map(([v, parts]) => [v, formulaToTex(parts.at(-1)!)]));
    // the steps and inline functions the derivatives are written with
    r.latexDefinitions = [...r.statements.slice(0, -1), ...steps].map(formulaToTex);
  }
  return r;
}

function deriveRun(formula: string, opts: DeriveOptions, limits: Limits): DeriveResult {
  const program = parseProgram(formula, { isFunction: isFunctionName, limits });
  const given = toTensors(opts.at ?? {});
  const { variables: names } = freeVariables(program);
  // derive needs no values: scalar placeholders give every variable its shape
  const values: Record<string, Tensor> = Object.create(null);
  for (const n of names) values[n] = scalar(1);
  for (const n of Object.keys(given)) values[n] = given[n];
  const tape = buildTape(program, values, { limits });
  if (isTensorFormula(tape)) return deriveTensor(formula, program, given, names, opts, limits);
  assertScalarSymbolic(tape);
  if (tape.inputs.length === 0) throw new AgError('usage', 'the formula has no variables to differentiate', { source: formula });
  const all = tape.inputs.map((i) => i.name);
  const wrt = opts.wrt ?? all;
  for (const w of wrt) {
    if (!all.includes(w)) {
      throw new AgError('usage', `--wrt ${w}: there is no variable ${w} in the formula`, { hint: `the variables are ${all.join(', ')}` });
    }
  }
  const missing = opts.at ? all.filter((v) => !(v in given)) : [];
  if (missing.length)
    throw new AgError('missing-value', `--at gives no value for ${missing.join(', ')}`, { hint: `give every variable a value, or leave --at out` });

  // named steps and inline functions stay as written (their definitions are the prelude)
  const kept = keptForms(program, tape, limits);
  const exprs = valueExprs(tape, kept);
  const notes: string[] = buildNotes(tape);
  // a derivative too long as one formula is written with named steps (t1 = …; t2 = …; formula), as matrixcalculus.org writes temporaries
  const inline = accumulateInline(tape, exprs, kept);
  const longest = inline ? Math.max(...wrt.map((v) => inline[v].length)) : Infinity;
  const stepped = longest > STEPS_OVER ? reverseSteps(tape, exprs, kept, freshNames(program.source)) : null;
  const raw = stepped?.out ?? inline!;
  const steps = stepped?.steps ?? [];
  if (stepped) notes.push(stepsNote(longest, steps, 'each the gradient arriving at a node that passes it on along several edges'));
  const statements = statementsOf(program);
  const prelude = statements.slice(0, -1).join('; ');

  // every edge a gradient flows along, in backprop order (a kept call is one step: from its arguments); the first SIMPLIFY_EDGES are simplified too
  const edges = edgesOf(tape, (n, k) => localExpr(tape, exprs, n, k, kept), kept);
  if (edges.length > SIMPLIFY_EDGES) notes.push(`edges past the first ${SIMPLIFY_EDGES} are shown unsimplified`);

  // one batch for simplify, under its budget: what it cannot finish in time is shown as accumulated
  const unsimplified: Record<string, string> = Object.create(null);
  for (const v of wrt) unsimplified[v] = withSteps(steps, raw[v]);
  const todo = [...wrt.map((v) => raw[v]), ...steps.map((st) => st.text), ...edges.slice(0, SIMPLIFY_EDGES).map((e) => e.localInVariables)];
  const firstEdge = wrt.length + steps.length;
  const big = todo.map((e) => e.length > SIMPLIFY_MAX_CHARS);
  // a name or a number is as simple as it gets, and equal expressions are simplified once (simplify is most of derive's time)
  const plain = (e: string) => /^-?[\w.]+$/.test(e.trim());
  const unique = [...new Set(todo.filter((e, i) => !big[i] && !plain(e)))];
  const tidy = simplifyWithin(unique, opts.simplifyBudgetMs ?? SIMPLIFY_BUDGET_MS, opts.simplify);
  const index = new Map(unique.map((e, k) => [e, k]));
  const results = todo.map((e, i) => (big[i] ? null : plain(e) ? e.trim() : tidy.out[index.get(e)!]));
  const failures = todo.map((e, i) => (big[i] || plain(e) ? null : tidy.errors[index.get(e)!]));
  const what = (i: number) =>
    i < wrt.length ? `∂f/∂${wrt[i]}` : i < firstEdge ? `the step ${steps[i - wrt.length].name}` : `the local derivative of edge ${i - firstEdge + 1}`;
  failures.forEach((f, i) => {
    if (f !== null) notes.push(`simplify could not handle ${what(i)} (${f}); it is shown as accumulated`);
  });
  if (big.some(Boolean)) notes.push(`expressions longer than ${SIMPLIFY_MAX_CHARS} characters are shown as accumulated, not simplified`);
  if (tidy.timedOut)
    notes.push(
      `simplify ran out of its time budget (${((opts.simplifyBudgetMs ?? SIMPLIFY_BUDGET_MS) / 1000).toFixed(0)} s); what it did not finish is shown as accumulated (correct, not simplified)`,
    );
  const derivatives: Record<string, string> = Object.create(null);
  const tidySteps = steps.map((st, k) => ({ name: st.name, text: results[wrt.length + k] ?? st.text }));
  wrt.forEach((v, i) => (derivatives[v] = withSteps(tidySteps, results[i] ?? raw[v])));
  edges.forEach((e, k) => {
    if (k < SIMPLIFY_EDGES) e.localInVariables = results[firstEdge + k] ?? e.localInVariables;
  });

  const at = opts.at ? Object.fromEntries(all.map((v) => [v, given[v].data[0]])) : undefined;
  const check = crossCheck(tape, derivatives, { at, seed: opts.seed, points: opts.points, limits, prelude });
  if (!check.passed) throw bugReport(formula, tape, derivatives, unsimplified, check, opts, prelude);
  if (check.points.length === 0) {
    throw new AgError('bad-value', `cannot cross-check the derivative: the formula or its gradient is not finite at any of the ${check.skipped} points tried`, {
      source: formula,
      hint: 'give a point inside its domain with --at',
    });
  }

  let atResult: DeriveResult['at'] = null;
  if (at) {
    const p = check.points.find((x) => x.point === at);
    if (p) atResult = { point: at, value: valueAt(tape, given), gradient: p.engine };
    else notes.push('at the --at point the formula or its gradient is not finite, so it was not used');
  }

  return {
    formula,
    statements,
    prelude,
    variables: wrt,
    expression: writtenOut(tape, exprs),
    derivatives,
    unsimplified,
    edges,
    check,
    at: atResult,
    notes,
  };
}

/**
 * Matrix calculus: the gradient's graph (graph/gradient.ts) written as one formula per
 * variable, simplified with matrix products kept in order, cross-checked entry by entry
 * against reverse mode at the values given, at random values, and at other shapes.
 */
function deriveTensor(formula: string, program: Program, given: Record<string, Tensor>, names: string[], opts: DeriveOptions, limits: Limits): DeriveResult {
  // shapes come from --at; a variable without a value is a scalar, and the result says so
  const missing = names.filter((v) => !(v in given));
  const values: Record<string, Tensor> = { ...Object.fromEntries(missing.map((v) => [v, scalar(0.5)])), ...given };
  const tape = buildTape(program, values, { wrt: opts.wrt, limits });
  // a vector f: each ∂f/∂v is its Jacobian, a matrix [m, n] (a column [m] for a scalar v)
  const jacobian = tape.nodes[tape.output].size !== 1;
  if (jacobian) assertJacobianShapes(tape, formula);
  if (tape.inputs.length === 0) throw new AgError('usage', 'the formula has no variables to differentiate', { source: formula });
  const wrt = tape.inputs.map((i) => i.name);
  const g = jacobian ? tensorJacobian(tape) : tensorGradient(tape);
  const indexVars = Object.fromEntries(tape.indexVars.map((v) => [v, values[v].data[0]]));
  const notes: string[] = buildNotes(tape);
  const scalars = missing.filter((v) => !tape.indexVars.includes(v) && wrt.includes(v));
  if (scalars.length)
    notes.push(
      `${scalars.join(', ')} ${scalars.length === 1 ? 'is' : 'are'} taken as scalar${scalars.length === 1 ? '' : 's'}; give --at values (like ${scalars[0]}=randn(3,4)) for vectors and matrices`,
    );
  let unsimplified: Record<string, string> = {};
  let specific = false;
  // a number that counts entries (3 of sum(ones(3))): the derivative holds for these shapes only, whatever its text shows
  let sizedNumber = false;
  specific ||= !!g.sized;
  const write = (steps?: PrintSteps) =>
    wrt.forEach((v, k) => {
      const id = g.grads[k];
      if (id === null) {
        unsimplified[v] = '0';
        return;
      }
      const f = formulaOf(g, id, indexVars, steps);
      unsimplified[v] = f.text;
      specific ||= f.shapeSpecific;
      sizedNumber ||= f.sizedNumber;
    });
  // a derivative too long as one formula is written with named steps (t1 = …; formula): the nodes used more than once
  let longest: number;
  try {
    write();
    longest = Math.max(...wrt.map((v) => unsimplified[v].length));
  } catch (e) {
    if (!(e instanceof AgError && e.code === 'limit')) throw e;
    longest = Infinity;
  }
  let steps: { name: string; text: string }[] = [];
  if (longest > STEPS_OVER) {
    const printing = printStepsFor(
      g,
      g.grads.filter((x) => x !== null),
      freshNames(formula),
    );
    unsimplified = {};
    write(printing);
    steps = printing.list;
    notes.push(stepsNote(longest, steps));
  }
  // simplify under its budget, with matrix products kept in order; what it cannot finish is shown as accumulated
  const derivatives: Record<string, string> = Object.create(null);
  const tidy = simplifyWithin([...wrt.map((v) => unsimplified[v]), ...steps.map((st) => st.text)], opts.simplifyBudgetMs ?? SIMPLIFY_BUDGET_MS, opts.simplify, {
    matrices: true,
  });
  const tidySteps = steps.map((st, k) => ({ name: st.name, text: tidy.out[wrt.length + k] ?? st.text }));
  steps.forEach((st, k) => {
    if (tidy.errors[wrt.length + k] !== null)
      notes.push(`simplify could not handle the step ${st.name} (${tidy.errors[wrt.length + k]}); it is shown as accumulated`);
  });
  wrt.forEach((v, i) => {
    derivatives[v] = withSteps(tidySteps, tidy.out[i] ?? unsimplified[v]);
    unsimplified[v] = withSteps(steps, unsimplified[v]);
    if (tidy.errors[i] !== null) notes.push(`simplify could not handle ∂f/∂${v} (${tidy.errors[i]}); it is shown as accumulated`);
  });
  if (tidy.timedOut) notes.push(`simplify ran out of its time budget; what it did not finish is shown as accumulated (correct, not simplified)`);
  // each derivative on its own: simplify is not told everything about matrices (it may regroup
  // A .* (2 * B) * C), so a simplified form that disagrees falls back to the accumulated one
  const judge = (v: string, text: string): CrossCheck | null => {
    try {
      return crossCheckTensor(formula, { [v]: text }, values, {
        wrt: [v],
        indexVars: tape.indexVars,
        seed: opts.seed,
        points: opts.points,
        limits,
        // a number counting entries (mean's 1/N, marked by its rule) is a plain number in the text: checked at these shapes only, as a sized constant is
        sized: sizedNumber || (specific && hasSizedConstant(text)),
        jacobian,
      });
    } catch (e) {
      if (e instanceof AgError && e.code === 'engine') return null;
      throw e;
    }
  };
  const checks: CrossCheck[] = [];
  const shapes = Object.fromEntries(Object.entries(values).map(([k, t]) => [k, t.shape]));
  for (const v of wrt) {
    // the Matrix Cookbook's form of simplify's answer (textbook.ts), when it agrees with reverse mode
    const book = preferTextbook(derivatives[v], unsimplified[v], shapes, (text) => judge(v, text), `∂f/∂${v}`, notes);
    if (book) {
      derivatives[v] = book.text;
      notes.push(...book.notes);
    }
    let c = book?.check ?? judge(v, derivatives[v]);
    if (!c?.passed && derivatives[v] !== unsimplified[v]) {
      const raw = judge(v, unsimplified[v]);
      if (raw?.passed) {
        notes.push(`simplify changed ∂f/∂${v} into a formula that disagrees with reverse mode (${derivatives[v]}); the accumulated form is shown`);
        derivatives[v] = unsimplified[v];
        c = raw;
      }
    }
    if (!c)
      throw new AgError('engine', `derive: the formula ∂f/∂${v} = ${derivatives[v]} does not evaluate at the values given`, {
        source: formula,
        hint: 'this is a bug in autograd-cli, so no derivative is printed; please report it with the formula',
      });
    if (!c.passed) throw tensorBugReport(formula, derivatives, c);
    checks.push(c);
  }
  const check: CrossCheck = {
    ...checks[0],
    points: checks[0].points.map((p, k) => ({
      ...p,
      engine: Object.assign({}, ...checks.map((c) => c.points[k]?.engine)),
      symbolic: Object.assign({}, ...checks.map((c) => c.points[k]?.symbolic)),
    })),
    maxAbsError: Math.max(...checks.map((c) => c.maxAbsError)),
    maxRelError: Math.max(...checks.map((c) => c.maxRelError)),
    skipped: Math.max(...checks.map((c) => c.skipped)),
    shapes: Math.min(...checks.map((c) => c.shapes ?? 0)),
  };
  // the means, named with their N, say where the derivative's 1/N comes from
  const means = sizedNumber ? tape.nodes.filter((n) => n.op === 'mean' && n.active && tape.nodes[n.inputs[0]].size > n.size) : [];
  if (means.length) {
    const each = means.map((n) => `${n.span ? tape.source.slice(n.span.start, n.span.end) : n.label} divides by N = ${tape.nodes[n.inputs[0]].size / n.size}`);
    notes.push(`${each.join(', ')}: the derivative's 1/N is written as a number, for these shapes only`);
  }
  if (specific && wrt.some((v) => hasSizedConstant(derivatives[v])))
    notes.push('the formula has constants sized for these shapes (ones(…), a onehot length): it holds for them only');
  else if (sizedNumber && !means.length)
    notes.push('a number in the formula counts entries of these shapes (a sum of a broadcast value): it holds for them only');
  const m = tape.nodes[tape.output].size;
  const jacobians = jacobian ? Object.fromEntries(wrt.map((v) => [v, [...jacobianShape(m, values[v].shape)]])) : undefined;
  if (jacobians)
    notes.push(
      `f is a vector [${m}]: ${wrt.map((v) => `∂f/∂${v}`).join(', ')} ${wrt.length === 1 ? 'is its Jacobian' : 'are its Jacobians'}, row i the gradient of f[i] (${wrt.map((v) => `${v}: ${shapeStr(jacobians[v])}`).join(', ')}); check reads ${wrt.map((v) => `jacobian.${v}`).join(', ')}`,
    );
  // a tensor rule's local derivative is written with the upstream gradient (g*x'): it has no second reading in the variables
  const edges = edgesOf(tape, (n, k) => localFormula(tape, n, k));
  const statements = statementsOf(program);
  return {
    formula,
    statements,
    prelude: statements.slice(0, -1).join('; '),
    variables: wrt,
    expression: formula,
    derivatives,
    unsimplified,
    edges,
    check,
    at: null,
    notes,
    shapes: Object.fromEntries(names.filter((v) => v in values && !tape.indexVars.includes(v)).map((v) => [v, [...values[v].shape]])),
    shapesGiven: Object.keys(given).length > 0,
    ...(jacobians ? { jacobians } : {}),
  };
}

/**
 * Every edge a gradient flows along, in backprop order, with the op table's local formula
 * and its reading in the variables; a kept call is one step, from its arguments.
 */
function edgesOf(tape: Tape, inVariables: (n: TapeNode, k: number) => string, kept?: Kept): DeriveEdge[] {
  const edges: DeriveEdge[] = [];
  const reached = new Set([tape.output]);
  for (let id = tape.output; id >= 0; id--) {
    const n = tape.nodes[id];
    if (!n.active || !reached.has(id)) continue;
    const call = kept?.calls.get(id);
    keptInputs(n, kept).forEach((from, k) => {
      reached.add(from);
      if (!tape.nodes[from].active) return;
      const local = call
        ? inParams(
            call.partials[k],
            call.params,
            call.args.map((a) => displayName(tape, tape.nodes[a])),
          )
        : localFormula(tape, n, k);
      edges.push({ from, to: id, fromLabel: displayName(tape, tape.nodes[from]), toLabel: displayName(tape, n), local, localInVariables: inVariables(n, k) });
    });
  }
  return edges;
}

/** ∂f/∂v written as one formula each, or null when one grows past the limit of a formula's length. */
function accumulateInline(tape: Tape, exprs: string[], kept: Kept): Record<string, string> | null {
  try {
    return reverseSymbolic(tape, exprs, kept);
  } catch (e) {
    if (e instanceof AgError && e.code === 'limit') return null;
    throw e;
  }
}

/** Names for the steps of a derivative, t1, t2, …: none the formula uses (a variable, a step, a function) or a function of the language. */
function freshNames(source: string): () => string {
  const taken = new Set(source.match(/[A-Za-z_]\w*/g) ?? []);
  let k = 0;
  return () => {
    let name: string;
    do name = `t${++k}`;
    while (taken.has(name) || isFunctionName(name));
    return name;
  };
}

/** What the note says of a derivative written with steps. */
function stepsNote(longest: number, steps: { name: string }[], what = 'each a subexpression used more than once'): string {
  const names = `${steps
    .slice(0, 2)
    .map((st) => st.name)
    .join(', ')}${steps.length > 2 ? ', …' : ''}`;
  const why = Number.isFinite(longest)
    ? `the derivative is ${longest} characters long written as one formula`
    : `written as one formula the derivative grows past ${MAX_EXPR} characters`;
  return `${why}: it is written with named steps (${names}), ${what}; check --expect reads it so`;
}

/** Tensors, or ops with no scalar local formula: matrix calculus. */
function isTensorFormula(tape: Tape): boolean {
  return tape.nodes.some((n) => n.shape.length > 0 || !['elementwise', 'compare', 'leaf'].includes(getOp(n.op).family));
}

function tensorBugReport(formula: string, derivatives: Record<string, string>, check: CrossCheck): AgError {
  const d = check.disagreement!;
  const v = d.variable.replace(/\[.*$/, '');
  return new AgError(
    'engine',
    `derive: the matrix formula ∂f/∂${v} = ${derivatives[v]} gives ${num(d.entry!.symbolic, 17)} for ${d.variable} at shapes ${JSON.stringify(d.shapes)}, but the engine's gradient is ${num(d.entry!.engine, 17)}`,
    { source: formula, hint: 'this is a bug in autograd-cli, so no derivative is printed; please report it with the formula' },
  );
}

/** The formula's statements as written, one each; the last, when an expression, as `f = …`. */
function statementsOf(program: Program): string[] {
  return program.stmts.map((st, i) => {
    const text = program.source.slice(st.span.start, st.span.end).trim();
    return i === program.stmts.length - 1 && st.k === 'expr' ? `f = ${text}` : text;
  });
}

/** The formula written out in the variables; as kept (steps, calls) when writing it out would pass the limit. */
function writtenOut(tape: Tape, kept: string[]): string {
  try {
    return valueExprs(tape)[tape.output];
  } catch (e) {
    if (e instanceof AgError && e.code === 'limit') return kept[tape.output];
    throw e;
  }
}

function valueAt(tape: Tape, values: Record<string, Tensor>): number {
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  return arena[tape.nodes[tape.output].offset];
}

/** A disagreement: the numbers, and whether simplify or the accumulation is to blame. */
function bugReport(
  formula: string,
  tape: Tape,
  derivatives: Record<string, string>,
  unsimplified: Record<string, string>,
  check: CrossCheck,
  opts: DeriveOptions,
  prelude: string,
): AgError {
  const d = check.disagreement!;
  const point = Object.entries(d.point)
    .map(([k, v]) => `${k}=${num(v, 17)}`)
    .join(', ');
  const rawCheck = crossCheck(
    tape,
    { [d.variable]: unsimplified[d.variable] },
    { at: d.point, seed: opts.seed, points: opts.points, limits: limitsFrom(opts.limits), prelude },
  );
  const blame = rawCheck.passed
    ? `mathjs simplify changed it: the unsimplified ${unsimplified[d.variable].length > 200 ? 'expression' : unsimplified[d.variable]} agrees`
    : 'the reverse accumulation of local formulas is wrong before simplify too (an op table local formula?)';
  return new AgError(
    'engine',
    `derive: the symbolic ∂f/∂${d.variable} = ${derivatives[d.variable]} gives ${num(d.symbolic[d.variable], 17)} at ${point}, but the engine's gradient is ${num(d.engine[d.variable], 17)}; ${blame}`,
    { source: formula, hint: 'this is a bug in autograd-cli, so no derivative is printed; please report it with the formula' },
  );
}
