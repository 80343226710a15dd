import { AgError } from '../../../core/errors.js';
import { MAX_EXPR, wrap } from '../../../core/graph/print.js';
import type { Tape, TapeNode } from '../../../core/graph/tape.js';
import { getOp } from '../../../core/ops/index.js';
import { localIn } from '../../../core/graph/describe.js';
import { localText } from '../../../core/ops/text.js';
import { argName, LOCAL_NAME } from '../../../core/ops/types.js';

/**
 * Symbolic reverse accumulation over the tape. The same walk as the numeric reverse
 * pass, with strings instead of numbers: every node's value is an expression in the
 * variables, and the adjoint of an input is Σ over its consumers of
 * upstream × local, where `local` is the op table's formula for that edge with the
 * inputs' expressions substituted for a, b, … and the node's own for s.
 */

/** Longest expression we build before calling the derivative too large to write down. */

const INFIX: Record<string, string> = {
  add: '+',
  subtract: '-',
  multiply: '*',
  divide: '/',
  pow: '^',
  larger: '>',
  smaller: '<',
  largerEq: '>=',
  smallerEq: '<=',
  equal: '==',
  unequal: '!=',
  and: 'and',
  or: 'or',
};
const PREFIX: Record<string, string> = { unaryMinus: '-', unaryPlus: '+', not: 'not ' };

/** The op families whose scalar rules are formulas in a, b and s (and nothing else). */
const SYMBOLIC_FAMILIES = new Set(['elementwise', 'compare', 'leaf']);

/**
 * What derive writes as the user did rather than expanded: named steps by their names,
 * calls of inline functions as calls, with each function's partial derivatives.
 */
export interface Kept {
  /** node id → the step name it is written as (never the output) */
  names: Map<number, string>;
  /** node id of a call's value → the call */
  calls: Map<number, KeptCall>;
}

export interface KeptCall {
  fn: string;
  params: string[];
  /** the argument nodes, one per parameter */
  args: number[];
  /** ∂fn/∂param, one per parameter, as formulas in the parameters (and fn itself: `sigma(t)*(1 - sigma(t))`) */
  partials: string[];
}

/** The inputs a node is written with: a kept call's arguments, or its own inputs. */
export function keptInputs(n: TapeNode, kept?: Kept): number[] {
  return kept?.calls.get(n.id)?.args ?? n.inputs;
}

/** Every node's value as an expression in the variables (constants written out; with `kept`, steps and calls as written). */
export function valueExprs(tape: Tape, kept?: Kept): string[] {
  const out: string[] = [];
  for (const n of tape.nodes) {
    const name = kept?.names.get(n.id);
    if (name !== undefined && n.id !== tape.output) {
      out.push(name);
      continue;
    }
    const call = kept?.calls.get(n.id);
    if (call) {
      out.push(guard(`${call.fn}(${call.args.map((i) => out[i]).join(', ')})`));
      continue;
    }
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
export function localExpr(tape: Tape, exprs: string[], n: TapeNode, k: number, kept?: Kept): string {
  const call = kept?.calls.get(n.id);
  if (call)
    return inParams(
      call.partials[k],
      call.params,
      call.args.map((i) => exprs[i]),
    );
  // tidied with the inputs put in, so a guard on a constant is decided (x^2: 2*x)
  const tidied = localIn(tape, n, k, (x) => ({ text: exprs[x.id], atomic: wrap(exprs[x.id]) === exprs[x.id] }));
  if (tidied !== null) return tidied;
  const raw = localText(
    n.op,
    n.attrs,
    n.inputs.map((i) => tape.nodes[i].shape),
    n.shape,
    k,
  );
  if (!raw) throw new Error(`op ${n.op} has no local formula for input ${k + 1}`);
  const names = new Map<string, string>();
  n.inputs.forEach((id, j) => names.set(argName(j), wrap(exprs[id])));
  names.set('s', wrap(exprs[n.id]));
  return raw.replace(LOCAL_NAME, (m) => names.get(m) ?? m);
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

/** A formula in a function's parameters with the call's arguments put in (`sigma(t)` with t = w*x + b). */
export function inParams(formula: string, params: string[], args: string[]): string {
  return formula.replace(/(?<![\w.])([A-Za-z_]\w*)(?!\w|\s*\()/g, (name, _m: string, at: number) => {
    const k = params.indexOf(name);
    if (k < 0) return name;
    // a sole argument, f(t), needs no parentheses of its own
    const before = formula.slice(0, at).trimEnd().slice(-1);
    const after = formula.slice(at + name.length).trimStart()[0];
    return (before === '(' || before === ',') && (after === ')' || after === ',') ? args[k] : wrap(args[k]);
  });
}

/** ∂output/∂v for every differentiable variable v, unsimplified: reverse accumulation of local formulas. */
export function reverseSymbolic(tape: Tape, exprs: string[], kept?: Kept): Record<string, string> {
  return reverseSteps(tape, exprs, kept, null).out;
}

/** A derivative written with named steps: `t1 = …; t2 = …` (in order, each using the ones before), then the formula using them. */
export interface Stepped {
  steps: { name: string; text: string }[];
  /** per variable: the formula, in the variables and the steps */
  out: Record<string, string>;
}

/**
 * The same accumulation with named steps, for derivatives too long written as one
 * formula: the gradient arriving at a node that passes it on along two edges or more
 * (a shared subexpression of the inline form, repeated once per edge) becomes a step
 * of its own, `t1 = …`, and the edges use its name. `fresh` gives unused names; null:
 * no steps, the whole derivative inline.
 */
export function reverseSteps(tape: Tape, exprs: string[], kept: Kept | undefined, fresh: (() => string) | null): Stepped {
  const adjoint: string[][] = tape.nodes.map(() => []);
  const steps: Stepped['steps'] = [];
  adjoint[tape.output].push('1');
  for (let id = tape.output; id >= 0; id--) {
    const n = tape.nodes[id];
    const terms = adjoint[id];
    const inputs = keptInputs(n, kept);
    if (!n.active || inputs.length === 0 || terms.length === 0) continue;
    let upstream = sum(terms);
    const edges = inputs.filter((i) => tape.nodes[i].active).length;
    // gradients add at branches; one arriving at a fork is a step (with names to give)
    if (fresh && edges > 1 && wrap(upstream) !== upstream) {
      const name = fresh();
      steps.push({ name, text: upstream });
      upstream = name;
    }
    inputs.forEach((i, k) => {
      if (!tape.nodes[i].active) return;
      const local = localExpr(tape, exprs, n, k, kept);
      // a local derivative of 1 passes the step on by its name (no step t2 = 1 * t1)
      adjoint[i].push(guard(upstream === '1' ? `(${local})` : local.trim() === '1' ? upstream : `(${local}) * ${wrap(upstream)}`));
    });
  }
  const out: Record<string, string> = Object.create(null);
  for (const inp of tape.inputs) out[inp.name] = adjoint[inp.node].length ? sum(adjoint[inp.node]) : '0';
  return { steps, out };
}

/** A derivative with its steps as one formula text, `t1 = …; t2 = …; formula`: only the steps it uses (directly or through others). */
export function withSteps(steps: { name: string; text: string }[], formula: string): string {
  const uses = (text: string, name: string) => new RegExp(`(?<![\\w.])${name}(?![\\w(])`).test(text);
  const needed = new Set<string>();
  for (let k = steps.length - 1; k >= 0; k--) {
    const st = steps[k];
    if (uses(formula, st.name) || [...needed].some((m) => uses(steps.find((x) => x.name === m)!.text, st.name))) needed.add(st.name);
  }
  const used = steps.filter((st) => needed.has(st.name));
  return used.length ? `${used.map((st) => `${st.name} = ${st.text}`).join('; ')}; ${formula}` : formula;
}

function sum(terms: string[]): string {
  return terms.length === 1 ? terms[0] : guard(terms.map(wrap).join(' + '));
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

/** A formula's statements (`t1 = …; t2 = …; formula`), split at the semicolons outside brackets (a matrix's rows `[1, 2; 3, 4]` stay). */
export function statementsOfText(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ';' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out;
}
