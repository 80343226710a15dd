import { jsEngine } from '../engine/js.js';
import { buildTape, VALUE_PLAN } from '../graph/build.js';
import type { Limits } from '../limits.js';
import { makeArena, view } from '../graph/tape.js';
import { isFunctionName } from '../ops/index.js';
import type { Program, Stmt } from '../parse/ast.js';
import { parseProgram } from '../parse/parse.js';
import { fromNested } from '../parse/values.js';
import type { Tensor } from '../tensor.js';
import type { RawExpected } from './load.js';

/**
 * What a case expects: numbers (a value, a gradient) or formulas — a student's
 * hand-derived ∂f/∂x — evaluated at each point and compared with autodiff. A wrong
 * answer becomes a counterexample in plain words.
 */
export type Expected =
  | { kind: 'numbers'; tensor: Tensor }
  | { kind: 'formula'; text: string; program: Program };

/**
 * An expected answer from the case file. Strings are formulas; arrays may mix numbers
 * and formulas (`["2*x1", 0]`), which become one array formula. `steps` are the named
 * steps and inline functions of f, so an answer may use them (`z` for ∂f/∂x of `q = x + y; f = q*z`, or `q`).
 */
export function compileExpected(raw: RawExpected, what: string, steps: Stmt[], limits?: Limits): Expected {
  if (typeof raw === 'string' || (Array.isArray(raw) && raw.some((x) => typeof x === 'string' || (Array.isArray(x) && x.some((y) => typeof y === 'string'))))) {
    const text = typeof raw === 'string' ? raw : arrayFormula(raw);
    const program = parseProgram(text, { isFunction: isFunctionName, limits });
    return { kind: 'formula', text, program: { source: text, stmts: [...steps, ...program.stmts] } };
  }
  return { kind: 'numbers', tensor: fromNested(raw, what) };
}

function arrayFormula(v: RawExpected): string {
  return Array.isArray(v) ? `[${v.map(arrayFormula).join(', ')}]` : String(v);
}

/** The expected value at a point (its variables' values), under the case's limits. */
export function evaluateExpected(e: Expected, values: Record<string, Tensor>, limits?: Limits): Tensor {
  if (e.kind === 'numbers') return e.tensor;
  // every variable is a constant here: nothing is differentiated, only evaluated
  const tape = buildTape(e.program, values, { wrt: [], limits, plan: VALUE_PLAN });
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  const out = tape.nodes[tape.output];
  return { shape: out.shape, data: view(arena, out).slice() };
}

