import { AgError } from '../../../core/errors.js';
import { grad, pointOf as shownPoint, type EdgeReport, type GradResult, type Shown } from '../grad.js';
import { checkDirections, secondOrderTape, type SecondOrderTape } from '../hessian.js';
import { tapeInputs } from '../../../verify/tape.js';
import { checkDeadlineNow } from '../../../core/limits.js';
import type { Limits } from '../../../core/limits.js';
import type { Program, Stmt } from '../../../core/parse/ast.js';
import type { Nested } from '../../../core/parse/values.js';
import { err } from '../../../core/number-format.js';
import { scalar, sizeOf, subscript, type Tensor } from '../../../core/tensor.js';
import {
  compare,
  counterexample,
  distinct,
  fitsShape,
  isRowFor,
  partial,
  pointText,
  shapeMismatch,
  verdictWords,
  type AnswerForm,
} from '../../../verify/compare.js';
import { nameMistake, transposed, type Factor, type Mistake, type MistakeCode, type OutEdge } from '../../../verify/mistakes.js';
import { DEFAULT_MIN_DIGITS } from '../../../verify/precision.js';
import { evaluateExpected, evaluateTogether, outerProductHint, type Expected } from './expect.js';
import { cached, located, Located, type Answer, type Compiled, type FormulaSpec } from './compile.js';
import { flat, stepTruths, type Sample } from './point.js';
import type { JacobianResult } from '../jacobian.js';

/**
 * Judging a formula check (a case, a key's problem, a library call) at its points: the
 * truth itself (f finite, autodiff against finite differences), then each answer against
 * the truth by the verdict layer — written digits or rtol/atol, shapes kept, the usual
 * mistakes named — and the findings over all points gathered into one failure per answer.
 */

export type FailureKind = 'gradient' | 'value' | 'step' | 'hessian' | 'jacobian' | 'shape' | 'autodiff' | 'second-order' | 'nonfinite' | 'unjudged';

/** One thing a case got wrong, with the first point where it was wrong. */
export interface CaseFailure {
  kind: FailureKind;
  /** `∂f/∂x`, `∂f/∂W1[3,7]`, `f`, `q` */
  entry: string;
  /** the counterexample in plain words (with the mistake, when one is recognised) */
  message: string;
  /** the usual mistake it is, when recognised at every point where the answer was wrong */
  mistake?: MistakeCode;
  /** the field of the case it is about (`expect.gradient.x`, `f`) and its line */
  field: string;
  line: number;
  point: Record<string, Shown>;
  yours?: number;
  truth?: number;
  fd?: number;
  /** at how many of the judged points it was wrong */
  failedPoints: number;
  /** a wrong tensor answer: its entries wrong (at the point where most were) of all; none when its shape was wrong at any point */
  entries?: Entries;
}

/** How many of an answer's entries were wrong, of how many. */
export interface Entries {
  wrong: number;
  of: number;
}

/** A gradient as grad gives it (nested arrays) as a tensor of the variable's shape; no check of its entries. */
function tensorOf(n: Nested): Tensor {
  if (typeof n === 'number') return scalar(n);
  if (Array.isArray(n[0])) return { shape: [n.length, (n[0] as number[]).length], data: Float64Array.from(flat(n)) };
  return { shape: [n.length], data: Float64Array.from(n as number[]) };
}

/**
 * A formula answer's value at a sample, evaluated once per sample for every answer written
 * the same way. The first asked for at a sample brings the case's other formula answers
 * with it, from one tape (see evaluateTogether); when that tape cannot be built, each
 * answer is evaluated alone and fails with its own error.
 */
function answerAt(c: Compiled, e: Expected, s: Sample, limits: Limits): Tensor {
  if (e.kind === 'numbers') return e.tensor;
  if (!s.answers) {
    s.answers = new Map();
    const joint = jointAnswers(c);
    if (joint) {
      try {
        const got = evaluateTogether(joint.program, joint.names, s.values, limits);
        joint.texts.forEach((text, i) => s.answers!.set(text, got[i]));
      } catch (err) {
        if (!(err instanceof AgError)) throw err;
        // one answer's error spoils the whole: from now on each is evaluated alone
        jointPrograms.set(c, null);
      }
    }
  }
  return cached(s.answers, e.text, () => evaluateExpected(e, s.values, limits));
}

/** The program of a case's formula answers together: f's steps, then each answer's expression as a step of its own. */
interface JointAnswers {
  program: Program;
  /** the steps holding the answers (names no formula can write) */
  names: string[];
  /** the answers' texts, in the same order */
  texts: string[];
}

/** Each case's joint program, made once: the same program at every point finds its tape built (expect.ts). */
const jointPrograms = new WeakMap<Compiled, JointAnswers | null>();

/** The joint program of c's formula answers that are one expression each; null when fewer than two are. */
function jointAnswers(c: Compiled): JointAnswers | null {
  let joint = jointPrograms.get(c);
  if (joint !== undefined) return joint;
  const texts: string[] = [];
  const stmts: Stmt[] = [...c.steps];
  for (const a of c.answers) {
    const e = a.expected;
    if (e.kind !== 'formula' || texts.includes(e.text)) continue;
    const own = e.program.stmts.slice(c.steps.length);
    if (own.length !== 1 || own[0].k !== 'expr') continue;
    stmts.push({ k: 'assign', name: `#${texts.length}`, expr: own[0].expr, span: own[0].span, nameSpan: own[0].span });
    texts.push(e.text);
  }
  joint = texts.length < 2 ? null : { program: { source: c.spec.f, stmts }, names: texts.map((_, i) => `#${i}`), texts };
  jointPrograms.set(c, joint);
  return joint;
}

/** Something wrong at one point. */
export interface Finding {
  kind: FailureKind;
  /** aggregation key across points: one failure per kind and variable */
  key: string;
  entry: string;
  field: string;
  /** the counterexample, with the mistake when one was recognised */
  message: string;
  /** the counterexample alone */
  detail: string;
  mistake?: Mistake;
  yours?: number;
  truth?: number;
  fd?: number;
  entries?: Entries;
}

/**
 * Judge one point: the value is finite, autodiff agrees with finite differences, and
 * the expected answers (numbers or formulas) agree with autodiff.
 */
export function judge(c: Compiled, values: Record<string, Tensor>, r: GradResult): Finding[] {
  return judgeSample(c, { values, r, steps: stepTruths(c, values) });
}

export function judgeSample(c: Compiled, s: Sample): Finding[] {
  const out = judgeAutodiff(c, s);
  if (out.some((f) => f.kind === 'nonfinite')) return out;
  if (c.order === 2 && !s.jac) out.push(...judgeSecondOrder(c, s));
  for (const a of c.answers) {
    const v = judgeAnswer(c, a, s);
    if (!v.ok) out.push(v.finding);
  }
  return out;
}

function where(c: Compiled, s: Sample): string {
  return pointText(s.values, [...new Set([...c.variables, ...Object.keys(s.r.point)])]);
}

/** The truth itself at a point: f finite there, autodiff and finite differences agreeing. */
export function judgeAutodiff(c: Compiled, s: Sample): Finding[] {
  if (s.jac) return judgeJacobianTruth(c, s, s.jac);
  const { r } = s;
  const at = where(c, s);
  const out: Finding[] = [];
  const finding = (f: Omit<Finding, 'detail'>) => out.push({ ...f, detail: f.message });
  if (!Number.isFinite(r.value)) {
    const why = r.warnings.find((w) => w.code === 'nonfinite');
    finding({ kind: 'nonfinite', key: 'nonfinite', entry: 'f', field: 'f', message: `f is ${r.value} at ${at}${why ? ` (${why.message})` : ''}` });
    return out;
  }
  const chk = r.check;
  if (chk) out.push(...autodiffFindings(chk, (e) => `∂f/∂${e.entry}`, at));
  const dir = chk?.directions?.find((d) => d.status === 'fail');
  if (dir && !chk!.failures.length) {
    finding({
      kind: 'autodiff',
      key: 'autodiff:direction',
      entry: '∇f·u',
      field: 'f',
      message: `autodiff and finite differences disagree along a random direction u at ${at}: ∇f·u = ${distinct(dir.ad, dir.fd)[0]}, finite differences give ${distinct(dir.ad, dir.fd)[1]}`,
      truth: dir.ad,
      fd: dir.fd,
    });
  }
  // a check that judged nothing has not passed: without an answer, autodiff against finite differences is the case's whole verdict
  // (with one, the answer is judged against autodiff, and the differences' silence at a kink is a warning)
  if (chk?.unjudgedReason && !chk.passed && !out.length && !c.answers.length) {
    const [what, help] = chk.unjudgedReason.split(' — ');
    const how = c.unjudgedAdvice ?? help;
    finding({ kind: 'unjudged', key: 'unjudged', entry: 'f', field: 'f', message: `${what} at ${at} — ${how}` });
  }
  return out;
}

/** An entry autodiff and finite differences disagree on, as the check of a gradient or a Jacobian reports it. */
interface Disagreement {
  variable: string;
  ad: number;
  fd: number;
  absError: number;
  relError: number;
}

/** Autodiff against finite differences: the first disagreement of each variable, named by `entryOf` (`∂f/∂x[2]`, `∂f[1]/∂z[3]`). */
function autodiffFindings<E extends Disagreement>(chk: { failures: E[]; rtol: number; atol: number }, entryOf: (e: E) => string, at: string): Finding[] {
  const out: Finding[] = [];
  const reported = new Set<string>();
  for (const e of chk.failures) {
    if (reported.has(e.variable)) continue;
    reported.add(e.variable);
    const entry = entryOf(e);
    const [ad, fd] = distinct(e.ad, e.fd);
    const message = `autodiff ${entry} = ${ad} at ${at}, but finite differences give ${fd} (abs err ${err(e.absError)}, rel err ${err(e.relError)}, rtol ${chk.rtol}, atol ${chk.atol})`;
    out.push({ kind: 'autodiff', key: `autodiff:${e.variable}`, entry, field: 'f', message, detail: message, truth: e.ad, fd: e.fd });
  }
  return out;
}

/** A vector f's truth at a point: its value finite, its Jacobian (autodiff) agreeing with finite differences. */
function judgeJacobianTruth(c: Compiled, s: Sample, j: JacobianResult): Finding[] {
  const at = where(c, s);
  const finding = (f: Omit<Finding, 'detail'>): Finding[] => [{ ...f, detail: f.message }];
  const value = flat(j.value);
  const bad = value.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const entry = `f${subscript(j.outputShape, bad)}`;
    return finding({ kind: 'nonfinite', key: 'nonfinite', entry, field: 'f', message: `${entry} is ${value[bad]} at ${at}` });
  }
  const chk = j.check;
  const out = chk ? autodiffFindings(chk, (e) => `∂${e.row}/∂${e.column}`, at) : [];
  if (chk && !chk.passed && chk.unjudgedReason && !out.length)
    (s.notes ??= []).push(`the Jacobian at ${at}: ${chk.unjudgedReason.split(' — ')[0]}; the answers are judged against autodiff`);
  return out;
}

/** ∂f/∂x of a vector f at a point, from its Jacobian: [m, n] for x of shape [n], [m] for a scalar x. */
function jacobianBlock(j: JacobianResult, x: string, field: string): Tensor {
  const k = j.variables.indexOf(x);
  if (k < 0) throw new Located(field, new AgError('bad-value', `${x} is not differentiated here`));
  const offset = j.columns.findIndex((col) => col === x || col.startsWith(`${x}[`));
  let n = 0;
  while (offset + n < j.columns.length && (j.columns[offset + n] === x || j.columns[offset + n].startsWith(`${x}[`))) n++;
  const data = new Float64Array(j.m * n);
  for (let i = 0; i < j.m; i++) for (let q = 0; q < n; q++) data[i * n + q] = j.jacobian[i][offset + q];
  const scalarX = n === 1 && j.columns[offset] === x;
  return { shape: scalarX ? [...j.outputShape] : [j.m, n], data };
}

/** One entry of a Jacobian by the entries it pairs: `∂f[2]/∂z[3]`, `∂f[2]/∂t`. */
function jacobianEntry(a: Answer, s: Sample, k: number): string {
  const fShape = s.jac!.outputShape;
  const xShape = s.values[a.name]?.shape ?? [];
  const n = sizeOf(xShape);
  return `∂f${subscript(fShape, Math.floor(k / n))}/∂${a.name}${subscript(xShape, k % n)}`;
}

/** The formula's tape with its gradient's graph at a point, built once per point. */
function secondAt(c: Compiled, s: Sample): SecondOrderTape {
  s.second ??= located('f', () => secondOrderTape(c.spec.f, s.values, { wrt: c.grad.wrt, engine: c.grad.engine, limits: c.grad.limits }));
  return s.second;
}

/**
 * order: 2 — the gradient's own derivatives (gradgradcheck): Hessian-vector products
 * along random directions against central differences of the gradient along them.
 */
export function judgeSecondOrder(c: Compiled, s: Sample): Finding[] {
  const v = checkDirections(secondAt(c, s), { rtol: c.rule.rtol, atol: c.rule.atol, eps: c.grad.eps, seed: c.seed });
  const kinks = v.directions.filter((d) => d.status === 'kink').length;
  if (kinks)
    (s.notes ??= []).push(
      `order 2: ${kinks} of ${v.directions.length} directions cross a kink at ${where(c, s)}; differences of the gradient cannot judge the second derivatives there`,
    );
  const worst = v.failures[0];
  if (v.passed || !worst) return [];
  const dir = v.directions.find((d) => d.status === 'fail');
  const message = `second derivatives: autodiff ${worst.entry} = ${distinct(worst.ad, worst.fd)[0]} at ${where(c, s)}, but differences of the gradient give ${distinct(worst.ad, worst.fd)[1]} (abs err ${err(worst.absError)}, rel err ${err(worst.relError)}${dir ? `; ${v.directions.filter((d) => d.status === 'fail').length} of ${v.directions.length} directions disagree` : ''})`;
  return [
    {
      kind: 'second-order',
      key: 'second-order',
      entry: worst.entry,
      field: c.spec.pos?.order ? 'order' : 'f',
      message,
      detail: message,
      truth: worst.ad,
      fd: worst.fd,
    },
  ];
}

/**
 * ∂²f/∂x∂y at a point: one Hessian-vector product per entry of y, read at x's entries.
 * Its shape: y's when x is a scalar, x's when y is a scalar, [entries of x, entries of y]
 * otherwise (a matrix variable's entries in row-major order), a number for two scalars.
 */
function hessianBlock(c: Compiled, s: Sample, x: string, y: string, field: string): Tensor {
  const so = secondAt(c, s);
  const inputs = tapeInputs(so.tape);
  const fail = (name: string): never => {
    throw new Located(field, new AgError('bad-value', `${name} is not differentiated here`));
  };
  const place = (name: string) => inputs.find((i) => i.name === name) ?? fail(name);
  const [px, py] = [place(x), place(y)];
  const limits = c.grad.limits as Limits;
  if (py.size > limits.maxEvaluations || px.size * py.size > limits.maxEntries) {
    throw new Located(
      field,
      new AgError(
        'limit',
        `∂²f/∂${x}∂${y} has ${px.size} × ${py.size} entries; the limits are ${limits.maxEvaluations} passes (--max-evaluations) and ${limits.maxEntries} entries (--max-entries)`,
      ),
    );
  }
  const data = new Float64Array(px.size * py.size);
  const u = new Float64Array(so.n);
  for (let j = 0; j < py.size; j++) {
    if ((j & 15) === 0) checkDeadlineNow();
    u[py.offset + j] = 1;
    const col = so.hvp(u);
    u[py.offset + j] = 0;
    for (let i = 0; i < px.size; i++) data[i * py.size + j] = col[px.offset + i];
  }
  const shape = px.shape.length === 0 ? py.shape : py.shape.length === 0 ? px.shape : [px.size, py.size];
  return { shape, data };
}

/** One entry of ∂²f/∂x∂y by the entries it pairs: `∂²f/∂x[2]∂y[1]`, `∂²f/∂x∂W[1,2]`, `∂²f/∂x²`. */
function hessianEntry(a: Answer, s: Sample, k: number): string {
  const [sx, sy] = [s.values[a.name].shape, s.values[a.by!].shape];
  const ny = sy.reduce((p, d) => p * d, 1);
  const [i, j] = [Math.floor(k / ny), k % ny];
  const [ex, ey] = [sx.length ? subscript(sx, i) : '', sy.length ? subscript(sy, j) : ''];
  if (!ex && !ey) return a.what;
  return ex === ey && a.name === a.by ? `∂²f/∂${a.name}${ex}²` : `∂²f/∂${a.name}${ex}∂${a.by}${ey}`;
}

/** How a second derivative's answer is laid out, for a shape error. */
function hessianShapeWords(a: Answer): string {
  return `∂²f/∂${a.name}∂${a.by} has one row per entry of ${a.name} and one column per entry of ${a.by} (the shape of ${a.by} when ${a.name} is a scalar, of ${a.name} when ${a.by} is)`;
}

/** The true value of an answer's quantity at a point. */
function truthOf(c: Compiled, a: Answer, s: Sample): Tensor {
  if (a.kind === 'jacobian') {
    if (!s.jac)
      throw new Located(
        a.field,
        new AgError('shape', `${c.fieldName(a.field)}: f is a scalar: its Jacobian is its gradient (answer it as gradient.${a.name})`),
      );
    return jacobianBlock(s.jac, a.name, a.field);
  }
  if (a.kind === 'value') return s.jac ? { shape: [...s.jac.outputShape], data: Float64Array.from(flat(s.jac.value)) } : scalar(s.r.value);
  if (a.kind === 'step') return s.steps[a.name];
  if (a.kind === 'hessian') return hessianBlock(c, s, a.name, a.by!, a.field);
  return tensorOf(s.r.gradient[a.name]);
}

/** How one answer fares at one point: right (with the rule that judged it), or a finding. */
export type Verdict = { ok: true; words: string } | { ok: false; finding: Finding };

export function judgeAnswer(c: Compiled, a: Answer, s: Sample): Verdict {
  const limits = c.grad.limits as Limits;
  const truth = truthOf(c, a, s);
  const yours = located(a.field, () => answerAt(c, a.expected, s, limits));
  // a vector's gradient may be a row or a column, unless the key asks layout: strict
  const row = a.kind === 'gradient' && c.spec.layout !== 'strict';
  const form: AnswerForm =
    a.expected.kind === 'numbers' ? { digits: a.expected.digits, decimals: a.expected.decimals, literal: a.expected.literal, row } : { row };
  const cmp = compare(yours, truth.data, truth.shape, c.rule, form);
  if (cmp.ok) return { ok: true, words: verdictWords(cmp, c.rule) };
  const at = where(c, s);
  const agrees = (y: Tensor, candidate: Tensor) => compare(y, candidate.data, candidate.shape, c.rule, form).ok;
  const key = a.part;
  const entryName = a.kind === 'gradient' || a.kind === 'hessian' || a.kind === 'jacobian' ? a.what : a.name;
  if (cmp.shape) {
    const fix = shapeFix(a, yours, truth, agrees, s.values, limits, c.spec.layout === 'strict');
    // the fix already says it: no words before the message
    const mistake: Mistake | undefined = fix.transposed ? { code: 'transposed', words: '' } : undefined;
    const detail = shapeMismatch(
      a.what,
      yours,
      a.kind === 'value' ? 'f' : a.kind === 'hessian' || a.kind === 'jacobian' ? a.what : a.name,
      truth.shape,
      at,
      a.kind === 'hessian'
        ? (fix.words ?? hessianShapeWords(a))
        : a.kind === 'jacobian'
          ? (fix.words ?? `∂f/∂${a.name} has one row per entry of f and one column per entry of ${a.name} (the shape of f when ${a.name} is a scalar)`)
          : fix.words,
    );
    return { ok: false, finding: { kind: 'shape', key, entry: entryName, field: a.field, message: detail, detail, mistake } };
  }
  const entry =
    a.kind === 'gradient'
      ? partial(a.name, truth.shape, cmp.flat)
      : a.kind === 'hessian'
        ? hessianEntry(a, s, cmp.flat)
        : a.kind === 'jacobian'
          ? jacobianEntry(a, s, cmp.flat)
          : truth.shape.length
            ? `${a.name}${subscript(truth.shape, cmp.flat)}`
            : a.what;
  const chk = s.r.check;
  const fd = a.kind === 'gradient' && chk ? (chk.entries.find((e) => e.entry === a.name + subscript(truth.shape, cmp.flat)) ?? undefined) : null;
  const more = truth.data.length > 1 ? `; wrong in ${cmp.wrong} of ${truth.data.length} entries` : '';
  const detail = `${counterexample(entry, cmp.yours, cmp.truth, at, fd)}; ${verdictWords(cmp, c.rule)}${more}`;
  const mistake =
    nameMistake({
      what: a.what,
      yours,
      truth,
      agrees,
      others: othersOf(c, a, s),
      factors: a.kind === 'gradient' ? () => factorsAt(c, s) : undefined,
      edges: a.kind === 'gradient' ? () => outEdges(c, s, a.name) : undefined,
      symmetric: a.kind === 'gradient' ? () => symmetricAt(c, a, s) : undefined,
      fewDigits: cmp.few ? { written: cmp.digits, min: c.rule.minDigits ?? DEFAULT_MIN_DIGITS } : undefined,
      constantFactors: a.kind === 'gradient',
    }) ?? undefined;
  const kind: FailureKind = a.kind;
  return {
    ok: false,
    finding: {
      kind,
      key,
      entry,
      field: a.field,
      message: withMistake(detail, mistake),
      detail,
      mistake,
      yours: cmp.yours,
      truth: cmp.truth,
      fd: fd?.fd,
      ...(truth.data.length > 1 ? { entries: { wrong: cmp.wrong, of: truth.data.length } } : {}),
    },
  };
}

export function withMistake(detail: string, m: { words: string } | undefined): string {
  return m ? `${m.words} — ${detail}` : detail;
}

/** The likely fix for an answer of the wrong shape: transpose it, or an outer product where a dot product was written. */
function shapeFix(
  a: Answer,
  yours: Tensor,
  truth: Tensor,
  agrees: (y: Tensor, t: Tensor) => boolean,
  values: Record<string, Tensor>,
  limits: Limits,
  strict: boolean,
): { words?: string; transposed: boolean } {
  const t = transposed(truth);
  if (fitsShape(yours.shape, t.shape)) {
    const right = agrees(yours, t);
    const gradient =
      a.kind !== 'gradient'
        ? ''
        : strict && isRowFor(yours.shape, truth.shape)
          ? " (the key asks layout: strict, so a vector's gradient is a column)"
          : ' (a gradient has the shape of its variable)';
    return { words: `${right ? 'it is the transpose of the true value' : 'transposed, and wrong besides'}${gradient}`, transposed: right };
  }
  if (yours.shape.length === 0 && truth.shape.length === 2) {
    const hint = outerProductHint(a.expected, values, limits);
    return { words: hint ? `for an outer product write ${hint}` : "a column times a row, u*v', is an outer product", transposed: false };
  }
  return { transposed: false };
}

/** The true values of the other quantities of the same kind at a point, for "swapped". */
function othersOf(c: Compiled, a: Answer, s: Sample): { what: string; truth: Tensor; yours?: Tensor }[] {
  const theirs = (name: string): Tensor | undefined => {
    const other = c.answers.find((b) => b.kind === a.kind && b.name === name);
    try {
      return other && answerAt(c, other.expected, s, c.grad.limits as Limits);
    } catch {
      return undefined;
    }
  };
  if (a.kind === 'gradient')
    return Object.keys(s.r.gradient)
      .filter((n) => n !== a.name)
      .map((n) => ({ what: `∂f/∂${n}`, truth: tensorOf(s.r.gradient[n]), yours: theirs(n) }));
  if (a.kind === 'step')
    return Object.keys(s.steps)
      .filter((n) => n !== a.name)
      .map((n) => ({ what: n, truth: s.steps[n], yours: theirs(n) }));
  return [];
}

/** The graph's edges at the point, with their values (another run, with edges, only when a wrong answer asks). */
function edgesAt(c: Compiled, s: Sample): EdgeReport[] {
  if (s.edges) return s.edges;
  s.edges = s.r.edges;
  if (!s.edges.length) {
    try {
      s.edges = grad(c.spec.f, s.values, { ...c.grad, steps: undefined, edges: true, check: false, forwardMode: false }).edges;
    } catch {
      s.edges = [];
    }
  }
  return s.edges;
}

/** A value an edge report shows, as a tensor: null when it was summarised (too large) or is a full Jacobian. */
function shownTensor(v: Shown | null): Tensor | null {
  if (v === null || (typeof v === 'object' && !Array.isArray(v))) return null;
  return tensorOf(v as Nested);
}

/** The local derivative of every edge at the point. */
function factorsAt(c: Compiled, s: Sample): Factor[] {
  s.factors ??= edgesAt(c, s).flatMap((e) => {
    const value = shownTensor(e.localValue);
    return value ? [{ edge: `${e.fromLabel} → ${e.toLabel}`, local: e.local, value }] : [];
  });
  return s.factors;
}

/** The edges out of a variable's (or named step's) node at the point: each one's share of its gradient, and the gradient of the node it feeds. */
function outEdges(c: Compiled, s: Sample, name: string): OutEdge[] {
  return edgesAt(c, s).flatMap((e) => {
    const share = e.fromLabel === name ? shownTensor(e.downstream) : null;
    const upstream = share && shownTensor(e.upstream);
    return share && upstream ? [{ edge: `${e.fromLabel} → ${e.toLabel}`, to: e.toLabel, share, upstream, local: shownTensor(e.localValue) }] : [];
  });
}

/**
 * The square matrices of the point that are not symmetric, each made symmetric: the
 * truth there, and a formula answer's value there (a number answer has only its numbers).
 */
function symmetricAt(c: Compiled, a: Answer, s: Sample): { matrix: string; yours?: Tensor; truth?: Tensor }[] {
  const limits = c.grad.limits as Limits;
  return Object.entries(s.values).flatMap(([matrix, m]) => {
    const [r, k] = m.shape;
    if (m.shape.length !== 2 || r !== k || r < 2) return [];
    const sym = new Float64Array(m.data.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) sym[i * r + j] = (m.data[i * r + j] + m.data[j * r + i]) / 2;
    if (sym.every((v, q) => v === m.data[q])) return [];
    if (a.expected.kind !== 'formula') return [{ matrix }];
    const values = { ...s.values, [matrix]: { shape: m.shape, data: sym } };
    // autodiff there once per point and matrix: every wrong answer (every student's) asks the same
    s.symmetric ??= new Map();
    if (!s.symmetric.has(matrix)) {
      try {
        s.symmetric.set(matrix, grad(c.spec.f, values, { ...c.grad, edges: false, check: false, forwardMode: false }).gradient);
      } catch (e) {
        // a limit says what this run could afford, not what the formula is: it stops the judging, as any limit does
        if (e instanceof AgError && e.code === 'limit') throw e;
        s.symmetric.set(matrix, null);
      }
    }
    const g = s.symmetric.get(matrix)?.[a.name];
    if (g === undefined) return [];
    try {
      return [{ matrix, yours: evaluateExpected(a.expected, values, limits), truth: tensorOf(g) }];
    } catch (e) {
      if (e instanceof AgError && e.code === 'limit') throw e;
      return [];
    }
  });
}

/**
 * What was wrong over all the points, one failure per key: the words of the first point
 * where it was wrong, at how many points it was, and the mistake when the same mistake
 * explains every one of them. `findings[k]` are those at `samples[k]`.
 */
export function failuresOver(spec: FormulaSpec, samples: Sample[], findings: Finding[][]): CaseFailure[] {
  const failures = new Map<string, CaseFailure & { detail: string; words?: string }>();
  findings.forEach((list, k) => {
    const s = samples[k];
    for (const f of list) {
      const seen = failures.get(f.key);
      if (seen) {
        seen.failedPoints++;
        if (seen.entries) seen.entries = f.entries && { ...f.entries, wrong: Math.max(seen.entries.wrong, f.entries.wrong) };
        if (seen.mistake !== f.mistake?.code) seen.mistake = undefined;
      } else {
        failures.set(f.key, {
          kind: f.kind,
          entry: f.entry,
          message: f.message,
          detail: f.detail,
          mistake: f.mistake?.code,
          words: f.mistake?.words,
          field: f.field,
          line: spec.pos?.[f.field]?.line ?? spec.line ?? 1,
          point: shownPoint(s.values, Object.keys(s.r.point)),
          yours: f.yours,
          truth: f.truth,
          fd: f.fd,
          failedPoints: 1,
          ...(f.entries ? { entries: { ...f.entries } } : {}),
        });
      }
    }
  });
  return [...failures.values()].map(({ detail, words, ...f }) => {
    f.message = withMistake(detail, f.mistake && words ? { words } : undefined);
    if (!f.mistake) delete f.mistake;
    if (samples.length > 1)
      f.message += `${/; wrong in \d+ of \d+ entries$/.test(f.message) ? ',' : '; wrong'} at ${f.failedPoints} of ${samples.length} points`;
    return f;
  });
}
