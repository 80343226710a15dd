import type { Expr } from '../parse/ast.js';
import { CONSTANTS, parseProgram } from '../parse/parse.js';
import { ruleFor, type ElementwiseDef } from './elementwise.js';
import { isFunctionName, OPS } from './index.js';
import type { GraphNode, GraphOps } from './types.js';

/**
 * A scalar partial-derivative formula of the op table (`b*a^(b-1)`, `a > 0 ? 1 : 0`)
 * applied entry by entry to the named nodes, through any GraphOps: appended as tape,
 * computed now, or printed. Parsed once per text.
 */
export function applyFormula(G: GraphOps, text: string, names: Record<string, GraphNode>): GraphNode {
  return translate(G, parsed(text), names, text);
}

const cache = new Map<string, Expr>();

function parsed(text: string): Expr {
  let e = cache.get(text);
  if (!e) {
    const p = parseProgram(text, { isFunction: isFunctionName });
    const st = p.stmts[0];
    if (p.stmts.length !== 1 || st.k !== 'expr') throw new Error(`gradient graph: ${text} is not one expression`);
    e = st.expr;
    cache.set(text, e);
  }
  return e;
}

function translate(G: GraphOps, e: Expr, names: Record<string, GraphNode>, text: string): GraphNode {
  const t = (x: Expr) => translate(G, x, names, text);
  switch (e.k) {
    case 'num':
      return G.constant(e.v);
    case 'sym': {
      const id = names[e.name];
      if (id !== undefined) return id;
      if (e.name in CONSTANTS) return G.constant(CONSTANTS[e.name]);
      throw new Error(`gradient graph: ${text} names ${e.name}, which is not an argument`);
    }
    case 'cond':
      return G.op('select', [t(e.test), t(e.then), t(e.else)]);
    case 'call': {
      const args = e.args.map(t);
      // every operator of a scalar formula is elementwise
      const op = ELEMENTWISE_NAMES[e.fn] ?? e.fn;
      if (op === 'unaryPlus') return args[0];
      if (op === 'sum' && args.length === 1) return G.sum(args[0]);
      return G.op(op, args);
    }
    default:
      throw new Error(`gradient graph: ${text} is not a scalar formula`);
  }
}

/** Operators of a scalar formula, as the elementwise ops they are. */
const ELEMENTWISE_NAMES: Record<string, string> = {
  dotMultiply: 'multiply',
  dotDivide: 'divide',
  dotPow: 'pow',
};

/** A scalar formula as a function of its names' values (`env[j]` the value of `names[j]`). */
export type ScalarFunction = (env: Float64Array) => number;

const compiled = new Map<string, ScalarFunction | null>();

/**
 * The same formula computed one entry at a time: each operator is its elementwise op's
 * scalar rule (the function its forward kernel applies to every entry), so the numbers
 * are those `applyFormula` through eager ops gives, without a tensor per step. null when
 * the formula uses anything that is not entry by entry (the caller takes the eager way).
 */
export function scalarFormula(text: string, names: readonly string[]): ScalarFunction | null {
  const key = `${names.join(',')}|${text}`;
  let f = compiled.get(key);
  if (f === undefined) {
    f = compile(parsed(text), names);
    compiled.set(key, f);
  }
  return f;
}

function compile(e: Expr, names: readonly string[]): ScalarFunction | null {
  switch (e.k) {
    case 'num': {
      const v = e.v;
      return () => v;
    }
    case 'sym': {
      const j = names.indexOf(e.name);
      if (j >= 0) return (env) => env[j];
      if (!(e.name in CONSTANTS)) return null;
      const v = CONSTANTS[e.name];
      return () => v;
    }
    case 'cond':
      return entrywise('select', [e.test, e.then, e.else], names);
    case 'call': {
      const op = ELEMENTWISE_NAMES[e.fn] ?? e.fn;
      if (op === 'unaryPlus' && e.args.length === 1) return compile(e.args[0], names);
      return entrywise(op, e.args, names);
    }
    default:
      return null;
  }
}

/** op applied to the arguments entry by entry, by its scalar rule; null for an op that is not elementwise. */
function entrywise(op: string, args: Expr[], names: readonly string[]): ScalarFunction | null {
  const def = OPS.get(op) as ElementwiseDef | undefined;
  if (!def?.rules) return null;
  let f: (...v: number[]) => number;
  try {
    f = ruleFor(def, args.length).f;
  } catch {
    return null;
  }
  const fs: ScalarFunction[] = [];
  for (const a of args) {
    const g = compile(a, names);
    if (!g) return null;
    fs.push(g);
  }
  if (fs.length === 1) {
    const [x] = fs;
    return (env) => f(x(env));
  }
  if (fs.length === 2) {
    const [x, y] = fs;
    return (env) => f(x(env), y(env));
  }
  if (fs.length === 3) {
    const [x, y, z] = fs;
    return (env) => f(x(env), y(env), z(env));
  }
  return (env) => f(...fs.map((x) => x(env)));
}
