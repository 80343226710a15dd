import { num } from '../number-format.js';
import type { Tensor } from '../tensor.js';

/**
 * The usual mistakes, tried when an answer is wrong, so the verdict can say "your ∂f/∂W
 * is the transpose of the true gradient" instead of showing a wall of entries. Pure
 * numbers in, words out: `check`, `grade` and `gradcheck` all ask here.
 *
 * Each mistake is a candidate the answer is compared with, by the answer's own rule (its
 * written digits, or rtol/atol): the truth negated, transposed, times a simple constant,
 * another variable's gradient, or the truth without one local derivative of the graph
 * (a forgotten link of the chain). An answer right to the digits written but with too few
 * of them is named first.
 */

export type MistakeCode = 'digits' | 'negated' | 'transposed' | 'swapped' | 'factor' | 'chain';

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
  /** every wrong entry is right to the digits written, but fewer than `min` were written */
  fewDigits?: { written: number; min: number };
  /** try constant factors (default true; a value is no derivative that lost a 2) */
  constantFactors?: boolean;
}

/** Simple constant factors a hand derivation gets wrong by: a lost or doubled 2, a 3 from a cube, … */
const FACTORS: [number, string][] = [
  [2, '2'], [0.5, '½'], [3, '3'], [1 / 3, '⅓'], [4, '4'], [0.25, '¼'], [1.5, '3/2'], [2 / 3, '⅔'],
  [-2, '−2'], [-0.5, '−½'], [-3, '−3'], [-1 / 3, '−⅓'], [-4, '−4'], [-0.25, '−¼'],
];

export function nameMistake(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  if (m.fewDigits) {
    const { written, min } = m.fewDigits;
    return { code: 'digits', words: `too few digits (${written} written, at least ${min} asked for)` };
  }
  if (!Array.from(yours.data).every(Number.isFinite)) return null;
  const nonzero = truth.data.some((v) => v !== 0);
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
  // a local derivative of the graph is a better explanation than a constant that happens to equal it
  const chain = chainLink(m);
  if (chain) return chain;
  if (nonzero && m.constantFactors !== false && yours.data.length === truth.data.length) {
    let yt = 0;
    let tt = 0;
    truth.data.forEach((t, k) => {
      yt += yours.data[k] * t;
      tt += t * t;
    });
    const ratio = yt / tt;
    // one number is a multiple of any other: only the classic lost or doubled 2 is named for it
    const factors = truth.data.length > 1 ? FACTORS : FACTORS.filter(([c]) => Math.abs(c) === 2 || Math.abs(c) === 0.5);
    for (const [c, text] of factors) {
      if (Math.abs(ratio - c) <= 0.02 * Math.abs(c) && agrees(yours, scaled(truth, c))) {
        return { code: 'factor', words: `your ${what} is off by a constant factor: it is ${text} × the true value` };
      }
    }
  }
  return null;
}

/** The answer times one edge's local derivative is the truth: that link of the chain was left out. */
function chainLink(m: MistakeInput): Mistake | null {
  const { what, yours, truth, agrees } = m;
  for (const f of m.factors?.() ?? []) {
    const L = f.value.data;
    if (L.length !== 1 && L.length !== truth.data.length) continue;
    // a local derivative of ±1 or 0 changes nothing a missing factor could explain
    if (Array.from(L).every((v) => Math.abs(Math.abs(v) - 1) < 1e-12 || v === 0)) continue;
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
