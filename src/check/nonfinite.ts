import type { EdgeFlow } from '../engine/types.js';
import type { Span } from '../errors.js';
import { localFormula } from '../graph/describe.js';
import { view, type Tape, type TapeNode } from '../graph/tape.js';

const bad = (a: Float64Array) => a.findIndex((v) => !Number.isFinite(v));

function where(tape: Tape, n: TapeNode): string {
  if (!n.span) return n.label;
  return `${tape.source.slice(n.span.start, n.span.end)} at column ${n.span.start + 1}`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
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
  const out = view(arena, n);
  const k = bad(out);
  const args = n.inputs.map((i) => {
    const v = view(arena, tape.nodes[i]);
    return fmt(v.length === out.length ? v[k] : v[0]);
  });
  return {
    message: `the value is ${fmt(view(arena, tape.nodes[tape.output])[0])}: it starts at ${n.op} (${where(tape, n)}), which gives ${fmt(out[k])} for ${args.length === 1 ? `the argument ${args[0]}` : `the arguments ${args.join(', ')}`}`,
    span: n.span,
  };
}

/**
 * The value is finite but a gradient is not: find the edge where a finite upstream
 * gradient met an infinite (or undefined) local derivative.
 */
export function diagnoseGradient(tape: Tape, arena: Float64Array, adjoint: Float64Array, edges?: EdgeFlow[]): { message: string; span?: Span } {
  for (const e of edges ?? []) {
    const to = tape.nodes[e.to];
    if (bad(view(adjoint, to)) < 0 && bad(e.contribution) >= 0) {
      const from = tape.nodes[e.from];
      const k = bad(e.contribution);
      const arg = view(arena, from);
      return {
        message: `the gradient becomes ${fmt(e.contribution[k])} at ${to.op} (${where(tape, to)}): its local derivative ${localFormula(tape, to, e.input)} is not finite at ${from.label} = ${fmt(arg[Math.min(k, arg.length - 1)])}`,
        span: to.span,
      };
    }
  }
  return { message: 'a gradient is not finite' };
}
