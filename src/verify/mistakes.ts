import { num } from '../core/number-format.js';
import type { Tensor } from '../core/tensor.js';
import type { InputSpec } from './evaluator.js';
import { failed, type EntryCheck } from './fd.js';
import type { FunctionCheck } from './function.js';

/**
 * The usual mistakes, tried when an answer is wrong, so the verdict can say "your ∂f/∂W
 * is the transpose of the true gradient" instead of showing a wall of entries. Pure
 * numbers in, words out: `check`, `grade` and `gradcheck` all ask here.
 *
 * Each mistake is a candidate the answer is compared with, by the answer's own rule (its
 * written digits, or rtol/atol): the truth negated, transposed, times a simple constant,
 * another variable's gradient, or the truth without one local derivative of the graph
 * (a forgotten link of the chain), one branch's share where a fork's shares add, the
 * gradient of the node one step on (stopped one node early), an answer right only for a
 * symmetric matrix. An answer right to the digits written but with too few
 * of them is named first. A user's own code (gradcheck) is tried further (`code`): any
 * constant factor, a zero gradient, permuted entries, a difference proportional to an
 * input, one wrong entry — against the entries finite differences judged (`judged`).
 */

export type MistakeCode =
  | 'digits'
  | 'negated'
  | 'transposed'
  | 'swapped'
  | 'symmetric'
  | 'fork'
  | 'factor'
  | 'chain'
  | 'early'
  | 'missing'
  | 'permuted'
  | 'proportional'
  | 'entry';

export interface Mistake {
  code: MistakeCode;
  words: string;
}

/** The local derivative of one edge of the graph at the point. */
export interface Factor {
  /** `x → x^2` */
  edge: string;
  /** its formula, `2*x` */
  local: string;
  value: Tensor;
}

/** An edge out of the quantity's node: `x → x'*A*x`, its share of ∂f/∂x, and ∂f/∂(x'*A*x). */
export interface OutEdge {
  edge: string;
  /** the node it leads to */
  to: string;
  share: Tensor;
  /** the gradient of the node it leads to (its shape may differ from the quantity's) */
  upstream: Tensor;
  /** the edge's local derivative, when it is not a full Jacobian */
  local: Tensor | null;
}

export interface MistakeInput {
  /** `∂f/∂W`, `f`, `q` */
  what: string;
  yours: Tensor;
  /** the true value, shaped like the quantity */
  truth: Tensor;
  /** whether an answer agrees with a candidate, by the answer's own rule */
  agrees: (yours: Tensor, candidate: Tensor) => boolean;
  /**
   * The other quantities of the same kind (the other gradients): their true values, and
   * the answers given for them, for "swapped" (both answers crossed over).
   */
  others?: { what: string; truth: Tensor; yours?: Tensor }[];
  /** the graph's local derivatives at the point, asked for only when needed */
  factors?: () => Factor[];
  /** the edges out of the quantity's node at the point: each one's share of the gradient (they add at a fork), and the gradient of the node it leads to */
  edges?: () => OutEdge[];
  /**
   * The square matrices of the point that are not symmetric: each made symmetric,
   * (M + M')/2, with the answer (when it can be evaluated there) and the truth there.
   */
  symmetric?: () => { matrix: string; yours?: Tensor; truth?: Tensor }[];
  /** every wrong entry is right to the digits written, but fewer than `min` were written */
  fewDigits?: { written: number; min: number };
  /** try constant factors (default true; a value is no derivative that lost a 2) */
  constantFactors?: boolean;
  /** the entries that count (those finite differences judged): candidates are fitted and compared on these only; all when absent */
  judged?: ArrayLike<boolean>;
  /** a user's own code (gradcheck): the further patterns its gradient is tried against */
  code?: CodePatterns;
}

/**
 * What a user's code gets wrong besides a student's usual mistakes: any constant factor
 * (fitted by least squares; 1/N named when N is a size), a gradient that is zero, the
 * right entries in the wrong places, a difference proportional to an input, one wrong entry.
 */
export interface CodePatterns {
  /** sizes a factor 1/N may come from: `8` with `the first dimension of X` */
  sizes: { n: number; what: string }[];
  /** the inputs a difference may be proportional to (this one, `own`, among them) */
  inputs: { name: string; value: Tensor }[];
  own: string;
  /** the entries judged wrong: `W[2,3]` at flat 5 */
  wrong: { flat: number; entry: string }[];
}

/** Simple constant factors a hand derivation gets wrong by: a lost or doubled 2, a 3 from a cube, … */
const FACTORS: [number, string][] = [
  [2, '2'],
  [0.5, '½'],
  [3, '3'],
  [1 / 3, '⅓'],
  [4, '4'],
  [0.25, '¼'],
  [1.5, '3/2'],
  [2 / 3, '⅔'],
  [-2, '−2'],
  [-0.5, '−½'],
  [-3, '−3'],
  [-1 / 3, '−⅓'],
  [-4, '−4'],
  [-0.25, '−¼'],
];

export function nameMistake(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  if (m.fewDigits) {
    const { written, min } = m.fewDigits;
    return { code: 'digits', words: `too few digits (${written} written, at least ${min} asked for)` };
  }
  if (!Array.from(yours.data).every(Number.isFinite)) return null;
  const counts = (k: number) => !m.judged || m.judged[k];
  const nonzero = truth.data.some((v, k) => counts(k) && v !== 0);
  if (m.code && nonzero && agrees(yours, scaled(truth, 0)))
    return { code: 'missing', words: `your ${what} is zero: this input's gradient is missing (never computed, or never added in)` };
  if (nonzero && agrees(yours, scaled(truth, -1))) return { code: 'negated', words: `your ${what} has the wrong sign: it is the true value negated` };
  if (truth.shape.length > 0) {
    const t = transposed(truth);
    if (!sameData(t, truth) && agrees(yours, t)) return { code: 'transposed', words: `your ${what} is the transpose of the true value` };
  }
  for (const o of m.others ?? []) {
    if (!o.yours || o.truth.data.length !== truth.data.length || sameData(o.truth, truth)) continue;
    const crossed = agrees(yours, { shape: truth.shape, data: o.truth.data }) && agrees({ shape: truth.shape, data: o.yours.data }, truth);
    if (crossed) return { code: 'swapped', words: `your ${what} and ${o.what} are swapped: each is the other's true value` };
  }
  const graph = symmetricMatrix(m) ?? forkShare(m);
  if (graph) return graph;
  // a local derivative of the graph is a better explanation than a constant that happens to equal it
  const chain = chainLink(m) ?? oneNodeEarly(m);
  if (chain) return chain;
  if (nonzero && m.constantFactors !== false && yours.data.length === truth.data.length) {
    const ratio = fit(yours.data, truth.data, counts);
    // one number is a multiple of any other: only the classic lost or doubled 2 is named for it
    const factors = truth.data.length > 1 ? FACTORS : FACTORS.filter(([c]) => Math.abs(c) === 2 || Math.abs(c) === 0.5);
    for (const [c, text] of factors) {
      if (Math.abs(ratio - c) <= 0.02 * Math.abs(c) && agrees(yours, scaled(truth, c))) {
        return { code: 'factor', words: `your ${what} is off by a constant factor: it is ${text} × the true value` };
      }
    }
  }
  return m.code ? codePattern(m, m.code, counts, nonzero) : null;
}

/** The least-squares c of yours ≈ c·truth over the entries that count. */
function fit(yours: ArrayLike<number>, truth: ArrayLike<number>, counts: (k: number) => boolean): number {
  let yt = 0;
  let tt = 0;
  for (let k = 0; k < truth.length; k++) {
    if (!counts(k)) continue;
    yt += yours[k] * truth[k];
    tt += truth[k] * truth[k];
  }
  return yt / tt;
}

/** A fitted constant needs this many judged entries: through one or two numbers some constant always passes. */
const FIT_MIN = 3;

/** The patterns of a user's code, tried after the usual mistakes; each must explain every entry that counts. */
function codePattern(m: MistakeInput, p: CodePatterns, counts: (k: number) => boolean, nonzero: boolean): Mistake | null {
  const { what, yours, truth, agrees } = m;
  const n = truth.data.length;
  let judged = 0;
  for (let k = 0; k < n; k++) if (counts(k) && truth.data[k] !== 0) judged++;
  if (nonzero && judged >= FIT_MIN) {
    const c = fit(yours.data, truth.data, counts);
    if (Number.isFinite(c) && c !== 0 && agrees(yours, scaled(truth, c)))
      return { code: 'factor', words: `your ${what} is off by a constant factor: it is ${factorText(c, p.sizes)}` };
  }
  const moved = judged >= 2 ? permuted(m) : null;
  if (moved) return { code: 'permuted', words: `your ${what} has the right entries in the wrong places: ${moved}` };
  // yours − truth = c·X for an input X: least squares over the judged entries
  for (const inp of p.inputs) {
    const X = inp.value.data;
    if (X.length !== n || judged < FIT_MIN) continue;
    let dx = 0;
    let xx = 0;
    for (let k = 0; k < n; k++) {
      if (!counts(k)) continue;
      dx += (yours.data[k] - truth.data[k]) * X[k];
      xx += X[k] * X[k];
    }
    const c = dx / xx;
    if (!Number.isFinite(c) || c === 0) continue;
    const plus = (a: number) => ({ shape: truth.shape, data: truth.data.map((t, k) => t + a * X[k]) });
    if (!agrees(yours, plus(c))) continue;
    // the fewest digits that still explain it (a float32 fit of 0.1 is 0.09999)
    const r = [1, 2, 3].map((d) => Number(c.toPrecision(d))).find((a) => agrees(yours, plus(a))) ?? c;
    const by = `${num(r, 4)}·${inp.name}`;
    const why =
      inp.name !== p.own
        ? ''
        : r < 0
          ? `: a regulariser term ${num(-r, 4)}·‖${inp.name}‖² missing its factor 2, or a term ${num(-r / 2, 4)}·‖${inp.name}‖² whose gradient was left out?`
          : `: a regulariser's gradient counted twice, or one the function does not have?`;
    return { code: 'proportional', words: `your ${what} differs by ${by} everywhere${why}` };
  }
  let counted = 0;
  for (let k = 0; k < n; k++) if (counts(k)) counted++;
  if (p.wrong.length === 1 && counted >= 2) {
    const w = p.wrong[0];
    const y = yours.data[w.flat];
    const t = truth.data[w.flat];
    const sign = t !== 0 && agrees(yours, { shape: truth.shape, data: yours.data.map((v, k) => (k === w.flat ? -t : v)) }) ? ', with the wrong sign' : '';
    return {
      code: 'entry',
      words: `one entry of your ${what} is wrong: ${w.entry}${sign}${sign ? '' : ` (${num(y, 6)}, not ${num(t, 6)})`}; every other entry ${counted < n ? 'judged ' : ''}agrees`,
    };
  }
  return null;
}

/** `1/8 × the true value (8 = the first dimension of X: a mean where the function has a sum?)`, `0.73 × the true value`. */
function factorText(c: number, sizes: CodePatterns['sizes']): string {
  for (const s of sizes) {
    if (s.n < 2) continue;
    if (Math.abs(c * s.n - 1) <= 1e-3) return `1/${s.n} × the true value (${s.n} = ${s.what}: a mean where the function has a sum?)`;
    if (Math.abs(c / s.n - 1) <= 1e-3) return `${s.n} × the true value (${s.n} = ${s.what}: a sum where the function has a mean?)`;
    if (Math.abs(c * s.n + 1) <= 1e-3) return `−1/${s.n} × the true value (${s.n} = ${s.what})`;
  }
  // four digits, more where they would round a factor like 1.0001 to 1
  const text = Math.abs(Number(num(c, 4))) === 1 ? num(c, 8) : num(c, 4);
  return `${text} × the true value`;
}

/**
 * The truth's entries rearranged: two rows or columns exchanged, rows or columns in
 * another order, the data read in column-major order where it is row-major (or back).
 * Only where every entry was judged: a permutation moves entries to places not compared.
 */
function permuted(m: MistakeInput): string | null {
  const { yours, truth, agrees } = m;
  if (m.judged && !Array.from({ length: truth.data.length }, (_, k) => m.judged![k]).every(Boolean)) return null;
  const [r, c] = truth.shape.length === 2 ? truth.shape : [truth.data.length, 1];
  const rearranged = (from: (k: number) => number) => ({ shape: truth.shape, data: truth.data.map((_, k) => truth.data[from(k)]) });
  if (truth.shape.length === 2 && r > 1 && c > 1 && r !== c) {
    // a square matrix read in the other order is its transpose, named before
    if (
      agrees(
        yours,
        rearranged((k) => (k % r) * c + Math.floor(k / r)),
      )
    )
      return 'they are the true value laid out column-major and read row-major (a reshape in the wrong order?)';
    if (
      agrees(
        yours,
        rearranged((k) => (k % c) * r + Math.floor(k / c)),
      )
    )
      return 'they are the true value laid out row-major and read column-major (a reshape in the wrong order?)';
  }
  // line i of yours against line q of the truth: yours with that one line replaced
  const rowSwap = (i: number, q: number) => ({
    shape: truth.shape,
    data: yours.data.map((y, k) => (Math.floor(k / c) === i ? truth.data[q * c + (k % c)] : y)),
  });
  const colSwap = (j: number, q: number) => ({ shape: truth.shape, data: yours.data.map((y, k) => (k % c === j ? truth.data[Math.floor(k / c) * c + q] : y)) });
  const rows = r > 1 ? matchLines(r, truth.data.length, (i, q) => agrees(yours, rowSwap(i, q))) : null;
  if (
    rows &&
    agrees(
      yours,
      rearranged((k) => rows[Math.floor(k / c)] * c + (k % c)),
    )
  )
    return lineWords(rows, truth.shape.length === 2 && c > 1 ? 'row' : 'entry');
  const cols = truth.shape.length === 2 && c > 1 ? matchLines(c, truth.data.length, (j, q) => agrees(yours, colSwap(j, q))) : null;
  if (
    cols &&
    agrees(
      yours,
      rearranged((k) => Math.floor(k / c) * c + cols[k % c]),
    )
  )
    return lineWords(cols, 'column');
  return null;
}

/** For each line i of yours, the line p(i) of the truth it equals: a permutation other than the identity, or null. */
function matchLines(count: number, size: number, same: (i: number, p: number) => boolean): number[] | null {
  // each comparison is of the whole gradient: count² of them, kept to a few million numbers
  if (count > 64 || count * count * size > 2e7) return null;
  const p: number[] = [];
  const used = new Set<number>();
  for (let i = 0; i < count; i++) {
    let found = -1;
    for (let q = 0; q < count && found < 0; q++) if (!used.has(q) && same(i, q)) found = q;
    if (found < 0) return null;
    used.add(found);
    p.push(found);
  }
  return p.every((q, i) => q === i) ? null : p;
}

/** `rows 1 and 3 swapped`, `rows shifted by 1 (your row i is the true row i+1)`, `rows in the order 2, 4, 1, 3 of the true value's`. */
function lineWords(p: number[], line: string): string {
  const lines = line === 'entry' ? 'entries' : `${line}s`;
  const moved = p.map((q, i) => [i, q]).filter(([i, q]) => i !== q);
  if (moved.length === 2) return `${lines} ${moved[0][0] + 1} and ${moved[1][0] + 1} swapped`;
  const k = p[0];
  if (p.length > 3 && p.every((q, i) => q === (i + k) % p.length))
    return `${lines} shifted by ${k} (your ${line} i is the true ${line} i+${k}, wrapping round)`;
  const order =
    p.length > 12
      ? `${p
          .slice(0, 12)
          .map((q) => q + 1)
          .join(', ')}, …`
      : p.map((q) => q + 1).join(', ');
  return `${lines} in the order ${order} of the true value's`;
}

/** The answer times one edge's local derivative is the truth: that link of the chain was left out. */
function chainLink(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  for (const f of m.factors?.() ?? []) {
    const L = f.value.data;
    if (L.length !== 1 && L.length !== truth.data.length) continue;
    // a local derivative of ±1 or 0 changes nothing a missing factor could explain
    if (trivial(f.value)) continue;
    if (yours.data.length !== 1 && yours.data.length !== truth.data.length) continue;
    const product = new Float64Array(truth.data.length);
    for (let k = 0; k < product.length; k++) product[k] = yours.data[yours.data.length === 1 ? 0 : k] * L[L.length === 1 ? 0 : k];
    if (agrees({ shape: yours.data.length === product.length ? yours.shape : truth.shape, data: product }, truth)) {
      const value = L.length === 1 ? ` = ${num(L[0], 4)}` : '';
      return { code: 'chain', words: `your ${what} leaves out one link of the chain: the local derivative ${f.local}${value} of the edge ${f.edge}` };
    }
  }
  return null;
}

/**
 * `2*A*x` for ∂(x'*A*x)/∂x: right only where A is symmetric. A formula answer is tried
 * with each matrix made symmetric; a number answer, as every share of a fork taken
 * equal to one of them (the two shares Ax and A'x are equal only then).
 */
function symmetricMatrix(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  const mats = m.symmetric?.() ?? [];
  if (!mats.length) return null;
  const words = (matrix: string): Mistake => ({
    code: 'symmetric',
    words: `your ${what} assumed ${matrix} symmetric: it equals the true value only where ${matrix} = ${matrix}'`,
  });
  for (const s of mats) if (s.yours && s.truth && agrees(s.yours, s.truth)) return words(s.matrix);
  const shares = m.edges?.() ?? [];
  if (shares.length < 2 || mats.some((s) => s.yours)) return null;
  const same = shares.some((e) => fits(e.share, truth) && agrees(yours, scaled(inShape(e.share, truth), shares.length)));
  return same ? words(mats[0].matrix) : null;
}

/** One branch's share of the gradient where the quantity feeds several nodes: the shares were not added. */
function forkShare(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  const out = m.edges?.() ?? [];
  if (out.length < 2) return null;
  const one = out.find((e) => fits(e.share, truth) && agrees(yours, inShape(e.share, truth)));
  if (!one) return null;
  const rest = out.filter((e) => e !== one).map((e) => e.to);
  return {
    code: 'fork',
    words: `the gradients at a fork were not added: your ${what} is only the share through the edge ${one.edge}; it also feeds ${rest.join(', ')}, and the shares of all its branches add up`,
  };
}

/** The gradient of the node the quantity feeds, one step short of it: the last local derivative not applied. */
function oneNodeEarly(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  const out = m.edges?.() ?? [];
  // through a local derivative of ±1 or 0 (a sum, a max that routes elsewhere) the gradient one node on is no step short
  const hit = out.find(
    (e) => !(e.local && trivial(e.local)) && fits(e.upstream, truth) && !sameData(e.upstream, truth) && agrees(yours, inShape(e.upstream, truth)),
  );
  if (!hit) return null;
  return {
    code: 'early',
    words: `your ${what} stopped one node early: it is ∂f/∂(${hit.to}), the gradient of the node it feeds; one more step back through the edge ${hit.edge}`,
  };
}

/** Every entry ±1 or 0. */
function trivial(t: Tensor): boolean {
  return Array.from(t.data).every((v) => Math.abs(Math.abs(v) - 1) < 1e-12 || v === 0);
}

/** Same number of entries (a candidate is compared in the truth's shape). */
function fits(a: Tensor, truth: Tensor): boolean {
  return a.data.length === truth.data.length;
}

function inShape(a: Tensor, truth: Tensor): Tensor {
  return { shape: truth.shape, data: a.data };
}

function scaled(t: Tensor, c: number): Tensor {
  return { shape: t.shape, data: t.data.map((v) => v * c) };
}

/** The transpose as on paper: a column [n] becomes the row [1,n], a row the column [n]. */
export function transposed(t: Tensor): Tensor {
  if (t.shape.length === 0) return t;
  if (t.shape.length === 1) return { shape: [1, t.shape[0]], data: t.data };
  const [m, n] = t.shape;
  if (m === 1) return { shape: [n], data: t.data };
  const data = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) data[j * m + i] = t.data[i * n + j];
  return { shape: [n, m], data };
}

function sameData(a: Tensor, b: Tensor): boolean {
  return a.data.length === b.data.length && a.data.every((v, k) => v === b.data[k]);
}

/** A mistake named in a user's gradient, and the input it is about. */
export interface CodeMistake extends Mistake {
  input: string;
}

/**
 * The mistakes in a user's own gradient (gradcheck of a JS function, a module, a program),
 * one per input that failed, from the entries finite differences judged: those are the
 * truth, and a pattern is named only when it explains every one of them by the check's
 * own rule (its rtol/atol, and three times the differences' estimated error, as a failure
 * needs). A directional check names patterns from its sampled entries only; a failed
 * Jacobian check, which keeps only its worst entries, from its diagnosis: your vjp of a
 * random u against differences of uᵀf.
 */
export function codeMistakes(r: FunctionCheck, inputs: InputSpec[], values: Record<string, Tensor>, outputs: number): CodeMistake[] {
  const c = r.check ?? r.diagnosis?.check;
  const analytic = r.check ? r.analytic : r.diagnosis?.analytic;
  if (!c || !analytic || c.passed) return [];
  const n = inputs.reduce((s, i) => s + i.size, 0);
  const index = entryIndex(inputs, c.entries, n);
  const truth = new Float64Array(n).fill(NaN);
  const err = new Float64Array(n);
  const judged = new Array<boolean>(n).fill(false);
  c.entries.forEach((e, q) => {
    const j = index[q];
    if (j < 0 || !(e.status === 'pass' || e.status === 'fail') || !Number.isFinite(e.fd)) return;
    truth[j] = e.fd;
    err[j] = e.fdError;
    judged[j] = true;
  });
  const of = (name: string) => (r.mode === 'gradient' ? `∂f/∂${name}` : `∂(uᵀf)/∂${name}`);
  const part = (inp: InputSpec, a: ArrayLike<number>): Tensor => ({
    shape: inp.shape,
    data: Float64Array.from({ length: inp.size }, (_, k) => a[inp.offset + k]),
  });
  const sizes = sizesOf(values, outputs, new Set(inputs.map((i) => i.name)));
  const out: CodeMistake[] = [];
  for (const inp of inputs) {
    if (c.variables[inp.name]?.passed !== false) continue;
    const mask = judged.slice(inp.offset, inp.offset + inp.size);
    const t = part(inp, truth);
    // in a lower precision each input is judged by its own atol (fd.ts inputTolerances), and so is a pattern in it
    const tol = { rtol: c.rtol, atol: c.variables[inp.name]?.atol ?? c.atol };
    // the differences' own error at each entry, at least the input's median (an entry moved by a permutation brings its source's error)
    const errs = Array.from({ length: inp.size }, (_, k) => err[inp.offset + k])
      .filter((e, k) => mask[k] && Number.isFinite(e))
      .sort((a, b) => a - b);
    const typical = errs.length ? errs[Math.floor(errs.length / 2)] : 0;
    let tmax = 0;
    for (let k = 0; k < inp.size; k++) if (mask[k]) tmax = Math.max(tmax, Math.abs(t.data[k]));
    const agrees = (y: Tensor, cand: Tensor): boolean => {
      // the transpose of a matrix that is not square does not fit: its entries in this shape are a reshape, named as one
      if (cand.shape.length !== t.shape.length || cand.shape.some((d, i) => d !== t.shape[i])) return false;
      let cmax = 0;
      for (let k = 0; k < mask.length; k++) if (mask[k]) cmax = Math.max(cmax, Math.abs(cand.data[k]));
      // a candidate c·truth carries c times the differences' error: not a failure by the check's rule, |gap| ≤ atol + rtol·size + 3·error
      const scale = 3 * Math.max(1, tmax > 0 ? cmax / tmax : 1);
      for (let k = 0; k < mask.length; k++) {
        if (!mask[k]) continue;
        const a = y.data[k];
        const b = cand.data[k];
        const e = Number.isFinite(err[inp.offset + k]) ? Math.max(err[inp.offset + k], typical) : typical;
        if (!(Math.abs(a - b) <= tol.atol + tol.rtol * Math.max(Math.abs(a), Math.abs(b)) + scale * e)) return false;
      }
      return true;
    };
    const wrong = c.entries.flatMap((e, q) =>
      failed(e.status) && e.variable === inp.name && index[q] >= 0 ? [{ flat: index[q] - inp.offset, entry: e.entry }] : [],
    );
    const m = nameMistake({
      what: of(inp.name),
      yours: part(inp, analytic),
      truth: t,
      agrees,
      others: inputs.filter((o) => o !== inp).map((o) => ({ what: of(o.name), truth: part(o, truth), yours: part(o, analytic) })),
      judged: mask,
      code: { sizes, inputs: Object.keys(values).map((name) => ({ name, value: values[name] })), own: inp.name, wrong },
    });
    if (m) out.push({ input: inp.name, ...m });
  }
  return out;
}

/** The flat index of each entry judged (`W[2,3]` of input W): in order when every entry was differenced, else read from its subscript. */
function entryIndex(inputs: InputSpec[], entries: EntryCheck[], n: number): number[] {
  if (entries.length === n) return entries.map((_, j) => j);
  const byName = new Map(inputs.map((i) => [i.name, i]));
  return entries.map((e) => {
    const inp = byName.get(e.variable);
    if (!inp) return -1;
    const sub = e.entry.slice(e.variable.length);
    const idx = sub ? sub.slice(1, -1).split(',').map(Number) : [];
    if (idx.length !== inp.shape.length) return -1;
    return inp.offset + idx.reduce((f, v, d) => f * inp.shape[d] + v - 1, 0);
  });
}

/** The sizes a lost 1/N comes from: every dimension and entry count of the inputs (the data, not differentiated, first: a batch is data), and f's entries. */
function sizesOf(values: Record<string, Tensor>, outputs: number, wrt: Set<string>): CodePatterns['sizes'] {
  const sizes: CodePatterns['sizes'] = [];
  const ord = ['first', 'second', 'third', 'fourth'];
  const names = Object.keys(values);
  for (const name of [...names.filter((k) => !wrt.has(k)), ...names.filter((k) => wrt.has(k))]) {
    const shape = values[name].shape;
    shape.forEach((d, i) => sizes.push({ n: d, what: shape.length === 1 ? `the length of ${name}` : `the ${ord[i] ?? `${i + 1}th`} dimension of ${name}` }));
    if (shape.length > 1) sizes.push({ n: values[name].data.length, what: `the number of entries of ${name}` });
  }
  if (outputs > 1) sizes.push({ n: outputs, what: 'the number of entries of f' });
  return sizes;
}
