import { jsEngine } from '../../../core/engine/js.js';
import { buildSteps, VALUE_PLAN } from '../../../core/graph/build.js';
import type { Limits } from '../../../core/limits.js';
import { makeArena, view, type Tape } from '../../../core/graph/tape.js';
import { isFunctionName } from '../../../core/ops/index.js';
import type { Expr, Program, Stmt } from '../../../core/parse/ast.js';
import { parseProgram } from '../../../core/parse/parse.js';
import { fromNested, type Nested } from '../../../core/parse/values.js';
import { writtenDecimals, writtenDigits } from '../../../verify/precision.js';
import type { Tensor } from '../../../core/tensor.js';

/** An expected value or gradient entry: numbers/arrays, or a formula in the variables (a hand-derived answer). */
export type RawExpected = number | RawExpected[] | string;

/**
 * What a case expects: numbers (a value, a gradient) or formulas — a student's
 * hand-derived ∂f/∂x — evaluated at each point and compared with autodiff. A wrong
 * answer becomes a counterexample in plain words.
 */
export type Expected =
  | {
      kind: 'numbers';
      tensor: Tensor;
      /** significant digits written, entry by entry (0: a number from code, judged by rtol/atol) */
      digits: Int8Array;
      /** decimal places written, entry by entry (judged by them where a course's min_decimals is met) */
      decimals: Int8Array;
      /** one number written alone: it stands for every entry of a tensor */
      literal: boolean;
    }
  | { kind: 'formula'; text: string; program: Program };

/**
 * An expected answer from the case file. Numbers, and text that is a plain decimal
 * number (`"-0.197"`: how a document's numbers arrive, see load.ts), are numbers with
 * the digits written; other strings are formulas; arrays may mix numbers and formulas
 * (`["2*x1", 0]`), which become one array formula. `steps` are the named steps and
 * inline functions of f, so an answer may use them (`z` for ∂f/∂x of `q = x + y; f = q*z`, or `q`).
 */
export function compileExpected(raw: RawExpected, what: string, steps: Stmt[], limits?: Limits): Expected {
  if (numeric(raw)) {
    const digits: number[] = [];
    const decimals: number[] = [];
    const nested = toNumbers(raw, digits, decimals);
    const tensor = fromNested(nested, what);
    return { kind: 'numbers', tensor, digits: Int8Array.from(digits), decimals: Int8Array.from(decimals), literal: !Array.isArray(raw) };
  }
  const text = typeof raw === 'string' ? raw : arrayFormula(raw);
  const program = parseProgram(text, { isFunction: isFunctionName, limits });
  return { kind: 'formula', text, program: { source: text, stmts: [...steps, ...program.stmts] } };
}

/** Numbers all the way down: numbers, or text that is a decimal number. */
function numeric(v: RawExpected): boolean {
  if (typeof v === 'number') return true;
  if (typeof v === 'string') return writtenDigits(v) !== null;
  return v.every(numeric);
}

function toNumbers(v: RawExpected, digits: number[], decimals: number[]): Nested {
  if (typeof v === 'number') {
    digits.push(0);
    decimals.push(0);
    return v;
  }
  if (typeof v === 'string') {
    digits.push(writtenDigits(v)!);
    // at most 127 places fit; a number written with more is judged by its digits anyway
    decimals.push(Math.min(127, writtenDecimals(v)!));
    return Number(v);
  }
  return v.map((x) => toNumbers(x, digits, decimals)) as Nested;
}

function arrayFormula(v: RawExpected): string {
  return Array.isArray(v) ? `[${v.map(arrayFormula).join(', ')}]` : String(v);
}

/** The expected value at a point (its variables' values), under the case's limits. */
export function evaluateExpected(e: Expected, values: Record<string, Tensor>, limits?: Limits): Tensor {
  if (e.kind === 'numbers') return e.tensor;
  return evaluateProgram(e.program, values, limits);
}

/** A program's value at a point: nothing differentiated, a fresh arena holding the values. */
export function evaluateProgram(program: Program, values: Record<string, Tensor>, limits?: Limits): Tensor {
  const { tape } = tapeAt(program, values, limits);
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  const out = tape.nodes[tape.output];
  return { shape: out.shape, data: view(arena, out).slice() };
}

/**
 * Several answers' values at a point from one tape: `program` is f's steps, then each
 * answer assigned to a name of `names`. The steps are written once and what the answers
 * share is computed once; each value is the same to the last bit as its own program's
 * (the same nodes on the same numbers). Throws what building the whole throws: the
 * caller then evaluates the answers one by one, each with its own error.
 */
export function evaluateTogether(program: Program, names: string[], values: Record<string, Tensor>, limits?: Limits): Tensor[] {
  const { tape, steps } = tapeAt(program, values, limits, names);
  const arena = makeArena(tape, values);
  jsEngine.forward(tape, arena);
  return names.map((name) => {
    const out = tape.nodes[steps[name]];
    return { shape: out.shape, data: view(arena, out).slice() };
  });
}

/** A program's tape built for values of these names and shapes and these index variables' values. */
interface BuiltTape {
  program: Program;
  limits: Limits | undefined;
  shapes: string;
  /** the index variables and the values baked into the tape */
  index: [string, number][];
  tape: Tape;
  /** the nodes of the steps kept (evaluateTogether's answers) */
  steps: Record<string, number>;
}

/** Tapes kept, the latest first: enough for every answer of a case (a case's answers are judged at one point, then the next). */
const KEPT_TAPES = 32;
/**
 * Only a small tape is kept, its constants, arena and the values it was built at (its
 * inputs hold them) this many entries at most: 32 of them hold 16 MiB at most. A large
 * one's build costs little beside its run.
 */
const KEPT_ENTRIES = 65536;
const builtTapes: BuiltTape[] = [];

/**
 * The program's tape for these values, built once and run at every point (an answer is
 * evaluated at each sample of its case). Its variables are inputs, not constants folded
 * in, so the one tape holds wherever the values have the same names and shapes and the
 * index variables (baked into the tape) the same values; the same nodes run on the same
 * numbers either way, so a value is the same to the last bit.
 */
function tapeAt(program: Program, values: Record<string, Tensor>, limits: Limits | undefined, keep?: string[]): { tape: Tape; steps: Record<string, number> } {
  const shapes = Object.keys(values)
    .sort()
    .map((name) => `${name}:${values[name].shape.join('x')}`)
    .join(',');
  const hit = builtTapes.find(
    (b) => b.program === program && b.limits === limits && b.shapes === shapes && b.index.every(([name, v]) => values[name].data[0] === v),
  );
  if (hit) return hit;
  const { tape, steps } = buildSteps(program, values, { limits, plan: VALUE_PLAN, keep });
  const built: BuiltTape = { program, limits, shapes, index: tape.indexVars.map((name) => [name, values[name].data[0]]), tape, steps };
  let entries = tape.arenaSize;
  for (const name of Object.keys(values)) entries += values[name].data.length;
  if (entries > KEPT_ENTRIES) return built;
  builtTapes.unshift(built);
  if (builtTapes.length > KEPT_TAPES) builtTapes.pop();
  return built;
}

/**
 * Where a formula answer multiplies two vectors — a dot product, a number — when an
 * outer product was probably meant: `2*(W*x)*x'` for the answer `2*(W*x)*x`. Each side
 * of each `*` in the answer is evaluated at the point (only when an answer has the wrong
 * shape, so the cost does not matter); the first dot product found, outermost first.
 */
export function outerProductHint(e: Expected, values: Record<string, Tensor>, limits?: Limits): string | undefined {
  if (e.kind !== 'formula') return undefined;
  const own = e.program.stmts.at(-1);
  if (own?.k !== 'expr') return undefined;
  const steps = e.program.stmts.slice(0, -1);
  const text = (x: Expr) => e.text.slice(x.span.start, x.span.end);
  const shapeOf = (x: Expr) => evaluateProgram({ source: e.text, stmts: [...steps, { k: 'expr', expr: x, span: x.span }] }, values, limits).shape;
  const queue: Expr[] = [own.expr];
  for (let seen = 0; queue.length && seen < 64; seen++) {
    const x = queue.shift()!;
    if (x.k === 'call') {
      if (x.fn === 'multiply' && x.args.length === 2) {
        try {
          const [a, b] = x.args.map(shapeOf);
          if (a.length === 1 && b.length === 1) return `${text(x.args[0])}*${parenthesised(text(x.args[1]))}'`;
        } catch {
          // a side that cannot be evaluated alone gives no hint
        }
      }
      queue.push(...x.args);
    } else if (x.k === 'cond') queue.push(x.then, x.else);
  }
  return undefined;
}

function parenthesised(s: string): string {
  return /^[A-Za-z_]\w*$|^\(.*\)$/.test(s.trim()) ? s.trim() : `(${s.trim()})`;
}
