import type { Expr } from '../parse/ast.js';
import { CONSTANTS, parseProgram } from '../parse/parse.js';
import { isFunctionName } from './index.js';
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
