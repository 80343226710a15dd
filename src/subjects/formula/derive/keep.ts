import { jsEngine } from '../../../core/engine/js.js';
import { buildTape } from '../../../core/graph/build.js';
import type { Tape } from '../../../core/graph/tape.js';
import { makeArena } from '../../../core/graph/tape.js';
import type { Limits } from '../../../core/limits.js';
import { isFunctionName } from '../../../core/ops/index.js';
import type { Program } from '../../../core/parse/ast.js';
import { freeVariables } from '../../../core/parse/free.js';
import { parseProgram } from '../../../core/parse/parse.js';
import { scalar, type Tensor } from '../../../core/tensor.js';
import { assertScalarSymbolic, reverseSymbolic, valueExprs, type Kept, type KeptCall } from './symbolic.js';

/**
 * What derive keeps as the user wrote it: every named step (written by its name), and
 * every call of an inline function whose body uses nothing but its parameters (written
 * as the call; its partial derivatives derived once per function, from its body). A
 * one-parameter function whose derivative is a polynomial of degree ≤ 2 in the function
 * itself is differentiated in those terms, as by hand: sigma' = sigma*(1 - sigma),
 * tanh-like ones 1 - f^2, exponentials c*f.
 */
export function keptForms(program: Program, tape: Tape, limits: Limits, cache = new Map<string, string[] | null>()): Kept {
  const kept: Kept = { names: new Map(), calls: new Map() };
  for (const n of tape.nodes) {
    if (n.name && n.op !== 'input') kept.names.set(n.id, n.name);
    const site = n.callRoot;
    if (!site || site.args.some((a) => a < 0) || site.args.length !== site.params.length || !pure(tape, n.id, site.args)) continue;
    if (!cache.has(site.fn)) cache.set(site.fn, partialsOf(program, site.fn, limits, cache));
    const partials = cache.get(site.fn);
    if (partials) kept.calls.set(n.id, { fn: site.fn, params: site.params, args: site.args, partials } satisfies KeptCall);
  }
  return kept;
}

/** The call's value depends on the variables only through its arguments. */
function pure(tape: Tape, root: number, args: number[]): boolean {
  if (args.includes(root)) return false;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || args.includes(id)) continue;
    seen.add(id);
    const n = tape.nodes[id];
    if (n.op === 'input') return false;
    stack.push(...n.inputs);
  }
  return true;
}

/** ∂fn/∂param for each parameter, from fn's body (null when the body cannot be derived on its own). */
function partialsOf(program: Program, fn: string, limits: Limits, cache: Map<string, string[] | null>): string[] | null {
  const defs = program.stmts.filter((s) => s.k === 'def');
  const def = defs.filter((s) => s.name === fn).pop();
  if (def?.k !== 'def') return null;
  const text = (span: { start: number; end: number }) => program.source.slice(span.start, span.end);
  // the body on its own, with the other functions it may call
  const source = [...defs.filter((s) => s.name !== fn).map((s) => text(s.span)), text(def.body.span)].join('; ');
  try {
    const sub = parseProgram(source, { isFunction: isFunctionName, limits });
    const names = freeVariables(sub).variables;
    const values: Record<string, Tensor> = Object.create(null);
    for (const v of names) values[v] = scalar(1);
    const used = def.params.filter((p) => names.includes(p));
    if (used.length !== names.length) return null;
    const tape = buildTape(sub, values, { limits });
    assertScalarSymbolic(tape);
    const kept = keptForms(sub, tape, limits, cache);
    const raw = reverseSymbolic(tape, valueExprs(tape, kept), kept);
    const partials = def.params.map((p) => (used.includes(p) ? raw[p] : '0'));
    if (def.params.length === 1 && used.length === 1) return [inItself(tape, fn, def.params[0]) ?? partials[0]];
    return partials;
  } catch {
    return null;
  }
}

/** Sample ranges for the fit: positive first (log, sqrt), then signed, then > 1 (acosh). */
const RANGES: [number, number][] = [
  [0.2, 2.5],
  [-2.5, 2.5],
  [1.1, 4],
];

/**
 * f' as c0 + c1·f + c2·f² with small rational coefficients, when that holds at every
 * sampled point (to 1e-9): `f(t)*(1 - f(t))` for the sigmoid. Null otherwise, or when
 * f' does not depend on f (c1 = c2 = 0).
 */
function inItself(tape: Tape, fn: string, param: string): string | null {
  const input = tape.inputs.find((i) => i.name === param);
  if (!input) return null;
  const pts: { f: number; d: number }[] = [];
  for (let k = 0; k < 24 && pts.length < 12; k++) {
    const [lo, hi] = RANGES[k % RANGES.length];
    const t = lo + (hi - lo) * ((k * 0.618034) % 1);
    const arena = makeArena(tape, { [param]: scalar(t) });
    jsEngine.forward(tape, arena);
    const f = arena[tape.nodes[tape.output].offset];
    const d = jsEngine.reverse(tape, arena).adjoint[tape.nodes[input.node].offset];
    if (Number.isFinite(f) && Number.isFinite(d) && !pts.some((p) => Math.abs(p.f - f) < 1e-6)) pts.push({ f, d });
  }
  if (pts.length < 6) return null;
  const c = solve3(
    pts.slice(0, 3).map((p) => [1, p.f, p.f * p.f]),
    pts.slice(0, 3).map((p) => p.d),
  );
  if (!c) return null;
  const nice = c.map(rational);
  if (nice.some((x) => x === null) || (nice[1]!.v === 0 && nice[2]!.v === 0)) return null;
  const fits = pts.every((p) => Math.abs(nice[0]!.v + nice[1]!.v * p.f + nice[2]!.v * p.f * p.f - p.d) <= 1e-9 * Math.max(1, Math.abs(p.d)));
  return fits ? polynomial(nice as Rational[], `${fn}(${param})`) : null;
}

interface Rational {
  v: number;
  text: string;
}

/** A number as a fraction with a denominator up to 6 (within 1e-9), or null. */
function rational(x: number): Rational | null {
  for (let q = 1; q <= 6; q++) {
    const p = Math.round(x * q);
    if (Math.abs(p / q - x) <= 1e-9 * Math.max(1, Math.abs(x))) return { v: p / q, text: q === 1 ? String(p) : `${p}/${q}` };
  }
  return null;
}

function solve3(a: number[][], b: number[]): number[] | null {
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const d = det(a);
  if (Math.abs(d) < 1e-12) return null;
  return [0, 1, 2].map((j) => det(a.map((row, i) => row.map((x, k) => (k === j ? b[i] : x)))) / d);
}

/** c0 + c1·F + c2·F² written as by hand: `F*(1 - F)`, `1 - F^2`, `2*F`. */
function polynomial([c0, c1, c2]: Rational[], F: string): string {
  const times = (c: Rational, x: string) => (c.v === 1 ? x : c.v === -1 ? `-${x}` : `${c.text}*${x}`);
  const join = (terms: string[]) => terms.filter(Boolean).reduce((s, t) => (s === '' ? t : t.startsWith('-') ? `${s} - ${t.slice(1)}` : `${s} + ${t}`), '');
  if (c0.v === 0) {
    if (c2.v === 0) return times(c1, F);
    if (c1.v === 0) return times(c2, `${F}^2`);
    return `${F}*(${join([c1.text, times(c2, F)])})`;
  }
  return join([c0.text, c1.v ? times(c1, F) : '', c2.v ? times(c2, `${F}^2`) : '']);
}
