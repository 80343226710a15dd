import type { Span } from '../core/errors.js';
import { localFormula } from '../core/graph/describe.js';
import { view, type Tape, type TapeNode } from '../core/graph/tape.js';
import { jvpAll } from '../core/engine/js.js';
import { vjpNow } from '../core/ops/eager.js';
import type { Tensor } from '../core/tensor.js';

const bad = (a: Float64Array) => a.findIndex((v) => !Number.isFinite(v));

function where(tape: Tape, n: TapeNode): string {
  if (!n.span) return n.label;
  return `${tape.source.slice(n.span.start, n.span.end)} at column ${n.span.start + 1}`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

/** What a node got at its first non-finite entry: `the argument 800`, `the arguments 0, 0`. */
function argsText(tape: Tape, arena: Float64Array, n: TapeNode, k: number): string {
  const args = n.inputs.map((i) => {
    const v = view(arena, tape.nodes[i]);
    return fmt(v.length === view(arena, n).length ? v[k] : v[0]);
  });
  return args.length === 1 ? `the argument ${args[0]}` : `the arguments ${args.join(', ')}`;
}

/** `overflows to Infinity` for ±Inf out of finite arguments; `gives NaN` otherwise. */
function whatItGives(v: number): string {
  return Number.isNaN(v) ? `gives ${v}` : `overflows to ${v}`;
}

/**
 * The first node (in evaluation order) whose value is NaN or ±Inf although all its
 * inputs are finite: where a non-finite value starts. Null when every value is finite.
 */
export function firstNonFinite(tape: Tape, arena: Float64Array): { node: TapeNode; k: number } | null {
  for (const n of tape.nodes) {
    if (n.inputs.length === 0 || !n.active) continue;
    const k = bad(view(arena, n));
    if (k < 0) continue;
    if (n.inputs.every((i) => bad(view(arena, tape.nodes[i])) < 0)) return { node: n, k };
  }
  return null;
}

/** What a matrix function's non-finite value means: its matrix has no inverse, or a negative determinant. */
function matrixWords(n: TapeNode, v: number): string | null {
  if (n.op === 'inv' || n.op === 'solve') return 'its matrix is singular (a zero pivot in its LU factorization: no inverse)';
  if (n.op === 'logdet')
    return v === Number.NEGATIVE_INFINITY ? 'its matrix is singular (det = 0)' : 'its matrix has a negative determinant (log det is not real)';
  return null;
}

/** `exp (exp(x) at column 5), which overflows to Infinity for the argument 800` */
function originText(tape: Tape, arena: Float64Array, n: TapeNode, k: number): string {
  const matrix = matrixWords(n, view(arena, n)[k]);
  if (matrix) return `${n.op} (${where(tape, n)}), where ${matrix}`;
  return `${n.op} (${where(tape, n)}), which ${whatItGives(view(arena, n)[k])} for ${argsText(tape, arena, n, k)}`;
}

/**
 * The value is NaN or ±Inf: walk back from the output through non-finite inputs to the
 * node where it first appears (all of whose inputs are finite), and say what it got.
 */
export function diagnoseForward(tape: Tape, arena: Float64Array): { message: string; span?: Span } {
  let n = tape.nodes[tape.output];
  for (;;) {
    const next = n.inputs.map((i) => tape.nodes[i]).find((m) => bad(view(arena, m)) >= 0);
    if (!next) break;
    n = next;
  }
  const k = bad(view(arena, n));
  return {
    message: `the value is ${fmt(view(arena, tape.nodes[tape.output])[0])}: it starts at ${originText(tape, arena, n, k)}`,
    span: n.span,
  };
}

/**
 * An intermediate value overflowed (or became NaN) while f itself is finite: its
 * gradient is not to be trusted there. Null when every intermediate is finite.
 */
export function diagnoseOverflow(tape: Tape, arena: Float64Array): { message: string; span?: Span } | null {
  const first = firstNonFinite(tape, arena);
  if (!first) return null;
  return {
    message: `the value is finite, but it passes through ${originText(tape, arena, first.node, first.k)}: the gradient through it is not to be trusted`,
    span: first.node.span,
  };
}

/**
 * The value is finite but a gradient is not: find the edge where a finite upstream
 * gradient meets an infinite (or undefined) local derivative, walking the nodes from
 * the output down and recomputing only their contributions (by the op table's rules),
 * so it needs no recorded edges; an overflowed intermediate is named with it.
 */
export function diagnoseGradient(tape: Tape, arena: Float64Array, adjoint: Float64Array): { message: string; span?: Span } {
  const t = (n: TapeNode, buf = arena): Tensor => ({ shape: n.shape, data: view(buf, n) });
  const overflow = firstNonFinite(tape, arena);
  const also = overflow ? `; it passes through ${originText(tape, arena, overflow.node, overflow.k)}` : '';
  for (let id = tape.output; id >= 0; id--) {
    const to = tape.nodes[id];
    if (!to.active || to.inputs.length === 0 || bad(view(adjoint, to)) >= 0) continue;
    const need = to.inputs.map((i) => tape.nodes[i].active && bad(view(adjoint, tape.nodes[i])) >= 0);
    if (!need.some(Boolean)) continue;
    const contribs = vjpNow(
      to.op,
      to.inputs.map((i) => t(tape.nodes[i])),
      t(to),
      t(to, adjoint),
      to.attrs,
      need,
    );
    for (let e = 0; e < need.length; e++) {
      const c = contribs[e]?.data;
      const k = need[e] && c ? bad(c) : -1;
      if (k < 0) continue;
      const from = tape.nodes[to.inputs[e]];
      const arg = view(arena, from);
      return {
        message: `the gradient becomes ${fmt(c![k])} at ${to.op} (${where(tape, to)}): its local derivative ${localFormula(tape, to, e)} is not finite at ${from.label} = ${fmt(arg[Math.min(k, arg.length - 1)])}${also}`,
        span: to.span,
      };
    }
  }
  return { message: `a gradient is not finite${also}` };
}

/**
 * Forward mode gives a non-finite gradient entry (flat entry j) where reverse mode does
 * not: seed that entry, and find the node where the tangent first stops being finite
 * while its inputs' tangents are finite (an intermediate derivative that overflowed).
 */
export function diagnoseTangent(tape: Tape, arena: Float64Array, j: number): { message: string; span?: Span } {
  let k = tape.inputs.findIndex((inp) => {
    const size = tape.nodes[inp.node].size;
    if (j < size) return true;
    j -= size;
    return false;
  });
  if (k < 0) k = 0;
  const dots = tape.inputs.map((inp, i) => {
    if (i !== k) return null;
    const d = new Float64Array(tape.nodes[inp.node].size);
    d[j] = 1;
    return d;
  });
  const tan = jvpAll(tape, arena, dots);
  const name = tape.inputs[k].name;
  for (const n of tape.nodes) {
    const t = tan[n.id];
    if (!t || n.inputs.length === 0) continue;
    const e = bad(t);
    if (e < 0 || n.inputs.some((i) => tan[i] && bad(tan[i]!) >= 0)) continue;
    return {
      message: `forward mode gives ${fmt(tan[tape.output]?.[0] ?? NaN)} for ∂f/∂${name}: the tangent becomes ${fmt(t[e])} at ${n.op} (${where(tape, n)}), whose value is ${fmt(view(arena, n)[Math.min(e, n.size - 1)])}; reverse mode gives a finite gradient`,
      span: n.span,
    };
  }
  return { message: `forward mode gives a gradient that is not finite for ∂f/∂${name}` };
}
