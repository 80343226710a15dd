import { AgError } from '../errors.js';
import type { Tape, TapeNode } from '../graph/tape.js';
import { getOp } from '../ops/index.js';

/**
 * Symbolic reverse accumulation over the tape. The same walk as the numeric reverse
 * pass, with strings instead of numbers: every node's value is an expression in the
 * variables, and the adjoint of an input is Σ over its consumers of
 * upstream × local, where `local` is the op table's formula for that edge with the
 * inputs' expressions substituted for a, b, … and the node's own for s.
 */

/** Longest expression we build before calling the derivative too large to write down. */
export const MAX_EXPR = 200_000;

const INFIX: Record<string, string> = {
  add: '+', subtract: '-', multiply: '*', divide: '/', pow: '^',
  larger: '>', smaller: '<', largerEq: '>=', smallerEq: '<=', equal: '==', unequal: '!=',
  and: 'and', or: 'or',
};
const PREFIX: Record<string, string> = { unaryMinus: '-', unaryPlus: '+', not: 'not ' };

/** The op families whose scalar rules are formulas in a, b and s (and nothing else). */
const SYMBOLIC_FAMILIES = new Set(['elementwise', 'compare', 'leaf']);

/** Every node's value as an expression in the variables (constants written out). */
export function valueExprs(tape: Tape): string[] {
  const out: string[] = [];
  for (const n of tape.nodes) {
    const args = n.inputs.map((i) => wrap(out[i]));
    let e: string;
    if (n.op === 'input') e = n.label;
    else if (n.op === 'const') e = constText(n.attrs.value!.data[0]);
    else if (INFIX[n.op]) e = `${args[0]} ${INFIX[n.op]} ${args[1]}`;
    else if (PREFIX[n.op]) e = `${PREFIX[n.op]}${args[0]}`;
    else if (n.op === 'select') e = `${args[0]} ? ${args[1]} : ${args[2]}`;
    else e = `${n.op}(${n.inputs.map((i) => out[i]).join(', ')})`;
    out.push(guard(e));
  }
  return out;
}

/**
 * The op table's local derivative ∂node/∂input_k as an expression in the variables:
 * `cos(a)` with a = x^2 is `cos(x ^ 2)`.
 */
export function localExpr(tape: Tape, exprs: string[], n: TapeNode, k: number): string {
  const raw = getOp(n.op).local(n.inputs.length, n.attrs)[k];
  if (raw === undefined) throw new Error(`op ${n.op} has no local formula for input ${k + 1}`);
  const names = new Map<string, string>();
  n.inputs.forEach((id, j) => names.set('abcd'[j], wrap(exprs[id])));
  names.set('s', wrap(exprs[n.id]));
  return raw.replace(/\b[abcds]\b/g, (m) => names.get(m) ?? m);
}

/** Refuse what derive cannot write as a formula: tensors, and ops whose rules are not scalar formulas. */
export function assertScalarSymbolic(tape: Tape): void {
  for (const n of tape.nodes) {
    if (n.shape.length > 0) {
      const text = n.span ? tape.source.slice(n.span.start, n.span.end) : n.label;
      throw new AgError('unsupported', `derive works on scalar formulas, and ${text} has shape [${n.shape.join(',')}]`, {
        span: n.span,
        source: tape.source,
        hint: 'for tensors use autograd-cli grad (numbers), or autograd-cli jacobian for vector-valued formulas',
      });
    }
    const op = getOp(n.op);
    if (!SYMBOLIC_FAMILIES.has(op.family)) {
      throw new AgError('unsupported', `derive handles scalar elementwise ops; ${n.op} is a tensor op with no scalar local formula`, {
        span: n.span,
        source: tape.source,
        hint: 'use autograd-cli grad for its gradient',
      });
    }
  }
}

/** ∂output/∂v for every differentiable variable v, unsimplified: reverse accumulation of local formulas. */
export function reverseSymbolic(tape: Tape, exprs: string[]): Record<string, string> {
  const adjoint: string[][] = tape.nodes.map(() => []);
  adjoint[tape.output].push('1');
  for (let id = tape.output; id >= 0; id--) {
    const n = tape.nodes[id];
    const terms = adjoint[id];
    if (!n.active || n.inputs.length === 0 || terms.length === 0) continue;
    // gradients add at branches
    const upstream = sum(terms);
    n.inputs.forEach((i, k) => {
      if (!tape.nodes[i].active) return;
      const local = localExpr(tape, exprs, n, k);
      // downstream = upstream × local
      adjoint[i].push(guard(upstream === '1' ? `(${local})` : `${wrap(upstream)} * (${local})`));
    });
  }
  const out: Record<string, string> = Object.create(null);
  for (const inp of tape.inputs) out[inp.name] = adjoint[inp.node].length ? sum(adjoint[inp.node]) : '0';
  return out;
}

function sum(terms: string[]): string {
  return terms.length === 1 ? terms[0] : guard(terms.map(wrap).join(' + '));
}

/** An operand that needs no parentheses: a name, an unsigned number, or one balanced call f(...). */
export function wrap(s: string): string {
  if (/^[A-Za-z_]\w*$/.test(s) || /^\d[\d.]*(e[+-]?\d+)?$/.test(s)) return s;
  if (/^[A-Za-z_]\w*\(/.test(s) && s.endsWith(')') && closesAtEnd(s, s.indexOf('('))) return s;
  return `(${s})`;
}

function closesAtEnd(s: string, open: number): boolean {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i === s.length - 1;
  }
  return false;
}

function constText(v: number): string {
  if (v === Math.PI) return 'pi';
  if (v === Math.E) return 'e';
  // shortest text that reads back as the same float64
  return v < 0 ? `(${String(v)})` : String(v);
}

function guard(e: string): string {
  if (e.length > MAX_EXPR) {
    throw new AgError('limit', `the symbolic derivative grows past ${MAX_EXPR} characters (shared subexpressions repeat when written as one formula)`, {
      hint: 'use autograd-cli grad for its value at a point',
    });
  }
  return e;
}
