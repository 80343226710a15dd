import { AgError } from '../errors.js';
import { OPS, PRINTERS, type PrintedNode } from '../ops/index.js';
import type { GraphNode } from '../ops/types.js';
import { shapeStr, sizeOf, type Shape, type Tensor } from '../tensor.js';
import type { TapeWriter } from './append.js';

/**
 * Graph nodes written back as formula text that the builder (graph/build.ts) reads back to
 * the same values. What a function's op looks like is the table of formula functions'
 * (ops/functions.ts `print`); this file writes what is no function: names, constants,
 * conditionals, picks and arrays. `derive` prints its tensor derivatives with it.
 */

/** The longest formula written as one text. */
export const MAX_EXPR = 200_000;

/** A graph to print: its writer, and the constants that stand for variables held fixed (printed by name). */
export interface PrintedGraph {
  writer: TapeWriter;
  names: Map<GraphNode, string>;
}

/**
 * A node of the gradient's graph as a formula that our builder reads back to the same
 * values: elementwise products of tensors are `.*`, matrix products `*`, `'` transposes,
 * dimensions are one-based. `indexVars` names a one-hot constant by the index variable
 * whose value it is (`onehot(y, 3)`). Throws when a node has no formula (a large constant).
 */
export function formulaOf(
  g: PrintedGraph,
  id: GraphNode,
  indexVars: Record<string, number>,
  steps?: PrintSteps,
): { text: string; shapeSpecific: boolean; sizedNumber: boolean } {
  const w = g.writer;
  const memo = steps?.memo ?? new Map<GraphNode, string>();
  let shapeSpecific = false;
  /** a number in the text counts entries of these shapes (sum(ones(3)) folded to 3) */
  let sizedNumber = false;
  const isScalar = (x: GraphNode) => w.shape(x).length === 0;
  const guard = (s: string) => {
    if (s.length > MAX_EXPR)
      throw new AgError('limit', `the derivative grows past ${MAX_EXPR} characters when written as one formula`, {
        hint: 'use autograd-cli grad for its value at a point',
      });
    return s;
  };
  const constText = (t: Tensor, x: GraphNode): string => {
    const named = g.names.get(x);
    if (named) return named;
    if (t.shape.length === 0) {
      // a number folded from a tensor constant (3 for sum(ones(3))) holds for these shapes only
      if (w.isSized(x)) shapeSpecific = sizedNumber = true;
      return num(t.data[0]);
    }
    const size = t.data.length;
    const dims = t.shape.join(', ');
    const nz = [...t.data.keys()].filter((k) => t.data[k] !== 0);
    // a one-hot column: onehot(i, n), named by its index variable when one has that value
    if (t.shape.length === 1 && nz.length === 1 && Math.abs(t.data[nz[0]]) === 1) {
      const i = nz[0] + 1;
      const by = Object.entries(indexVars).filter(([, v]) => v === i);
      const text = `onehot(${by.length === 1 ? by[0][0] : i}, ${size})`;
      if (by.length !== 1) shapeSpecific = true;
      return t.data[nz[0]] < 0 ? `(-${text})` : text;
    }
    shapeSpecific = true;
    if (t.data.every((v) => v === 1)) return `ones(${dims})`;
    if (t.data.every((v) => v === 0)) return `zeros(${dims})`;
    if (t.data.every((v) => v === t.data[0])) return `${num(t.data[0])} * ones(${dims})`;
    if (t.shape.length === 2 && t.shape[0] === t.shape[1] && t.data.every((v, k) => v === (Math.floor(k / t.shape[1]) === k % t.shape[1] ? 1 : 0)))
      return `eye(${t.shape[0]})`;
    if (size > 16)
      throw new AgError('unsupported', `the derivative has a constant ${shapeStr(t.shape)} that has no short formula`, {
        hint: 'use autograd-cli grad for its value at a point',
      });
    const rows =
      t.shape.length === 1
        ? [Array.from(t.data)]
        : Array.from({ length: t.shape[0] }, (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])));
    const lit = rows.map((r) => `[${r.map(num).join(', ')}]`);
    return t.shape.length === 1 ? lit[0] : `[${lit.join(', ')}]`;
  };
  const text = (x: GraphNode): string => {
    const hit = memo.get(x);
    if (hit !== undefined) return hit;
    const n = w.node(x);
    const rows = rowScaling(x);
    // in a matrix product or a transpose a vector is a column already: the column made of it is written as the vector
    const bare = n.op === 'matmul' || n.op === 'transpose';
    const a = rows ? [] : n.inputs.map((i) => text((bare && columnOf(i)) || i));
    let s: string;
    // what a graph node is, not a function: names, constants, conditionals, picks, arrays
    if (rows) s = `diag(${text(rows.v)}) * ${wrap(text(rows.m))}`;
    else if (n.op === 'input') s = n.label;
    else if (n.op === 'const') s = g.names.get(x) ?? constText(n.attrs.value!, x);
    else if (n.op === 'select') s = selectText(x, a);
    else if (roundTrip(x) !== null) s = text(roundTrip(x)!);
    else if (n.op === 'subset') s = subsetText(x, a[0]);
    else if (n.op === 'scatter') s = scatterText(x, a[0]);
    else if (n.op === 'stack') s = `[${a.join(', ')}]`;
    else {
      // a function's op prints as the table of formula functions says, else as op(a, b, …)
      const print = PRINTERS.get(n.op);
      s = print ? print({ ...printed(x), args: a }) : `${n.op}(${a.join(', ')})`;
    }
    s = guard(s);
    // with steps: a node used more than once is written once, as a step of its own, and used by its name
    if (steps && (steps.uses.get(x) ?? 0) > 1 && n.op !== 'input' && n.op !== 'const' && !/^[\w.]+'?$/.test(s)) {
      const name = steps.fresh();
      steps.list.push({ name, text: s });
      s = name;
    }
    memo.set(x, s);
    return s;
  };
  /** node x as a printer of the table sees it */
  const printed = (x: GraphNode): PrintedNode => {
    const n = w.node(x);
    return { op: n.op, attrs: n.attrs, args: n.inputs.map(text), shapes: n.inputs.map((i) => w.shape(i)), input: (i) => printed(n.inputs[i]), wrap };
  };
  /** c ? a : b; the scatter of a scalar g into a one-hot pattern is g * onehot(i, n). */
  const selectText = (x: GraphNode, a: string[]): string => {
    const [c, t, e] = w.node(x).inputs;
    const inner = w.node(t);
    const mask = w.constValue(c);
    if (mask && w.isZero(e) && inner.op === 'subset' && isScalar(inner.inputs[0]) && !w.isZero(c)) {
      return `${wrap(text(inner.inputs[0]))} * ${wrap(text(c))}`;
    }
    return `${wrap(a[0])} ? ${wrap(a[1])} : ${wrap(a[2])}`;
  };
  /** a reshape that moves nothing */
  const isReshape = (x: GraphNode) => w.node(x).op === 'subset' && w.node(x).attrs.gather!.every((j, k) => j === k);
  /** a vector v made a column and back (x = v): v, else null */
  const roundTrip = (x: GraphNode): GraphNode | null => {
    if (!isReshape(x) || w.shape(x).length !== 1) return null;
    const c = w.node(x).inputs[0];
    if (!isReshape(c)) return null;
    const v = w.node(c).inputs[0];
    return w.shape(v).length === 1 ? v : null;
  };
  /**
   * Node x, a vector [n] or a column [n,1], is printed as a column: a 2-D node, a reduction
   * along dimension 2 (`sum(M, 2)` keeps it), either reshaped (a reshape prints its argument),
   * or a function of one of them, entry by entry.
   */
  const columnText = (x: GraphNode): boolean => {
    const n = w.node(x);
    const s = w.shape(x);
    if (s.length === 2) return s[1] === 1;
    if (s.length !== 1) return false;
    const v = roundTrip(x);
    if (v !== null) return columnText(v);
    if (isReshape(x)) return columnText(n.inputs[0]);
    // a function of a column, entry by entry, is one (exp(sum(M, 2))); not a sum or product of one with vectors: simplify regroups a .* (c .* v) into a .* c .* v, which is no column
    if (OPS.get(n.op)?.family === 'elementwise' && n.inputs.length === 1) return columnText(n.inputs[0]);
    const from = n.inputs.length ? w.shape(n.inputs[0]) : [];
    return ['sum', 'mean', 'prod', 'max', 'min', 'norm', 'logsumexp'].includes(n.op) && n.attrs.axis === 1 && from.length === 2 && from[1] > 1;
  };
  /** a vector v made a column [n,1] (a reshape that moves nothing), or null */
  const columnOf = (x: GraphNode): GraphNode | null => {
    const n = w.node(x);
    if (n.op !== 'subset') return null;
    const from = w.shape(n.inputs[0]);
    const out = n.attrs.outShape as Shape;
    const moves = n.attrs.gather!.some((j, k) => j !== k);
    return !moves && from.length === 1 && out.length === 2 && out[1] === 1 && out[0] === from[0] && from[0] > 1 ? n.inputs[0] : null;
  };
  /**
   * Node x, a vector [n], is printed as a vector too: a variable or constant, a matrix's diagonal, or
   * entry by entry of such vectors and scalars (a vector node may print as an [n,1] column:
   * a reshape prints its argument, M * ones(4, 1) for a row sum).
   */
  const vectorText = (x: GraphNode): boolean => {
    const n = w.node(x);
    if (w.shape(x).length !== 1) return false;
    const back = roundTrip(x);
    if (back !== null) return vectorText(back);
    // a variable, one held fixed (by its name), a constant (ones(3), onehot(i, 3), [1, 2, 3])
    if (n.op === 'input' || n.op === 'const') return true;
    if (n.op === 'diag') return w.shape(n.inputs[0]).length === 2;
    return OPS.get(n.op)?.family === 'elementwise' && n.inputs.every((i) => w.shape(i).length === 0 || vectorText(i));
  };
  /** the column v times each column of an [n,k] matrix m, entry by entry: diag(v) * m, as the book scales rows (not v * ones(1, 1) .* m) */
  const rowScaling = (x: GraphNode): { v: GraphNode; m: GraphNode } | null => {
    const n = w.node(x);
    if ((n.op !== 'multiply' && n.op !== 'gmul') || n.inputs.length !== 2) return null;
    for (const k of [0, 1]) {
      const v = columnOf(n.inputs[k]);
      const m = n.inputs[1 - k];
      const sm = w.shape(m);
      // (beside a column too: v .* m would read right, but simplify regroups a .* (v .* m) into a .* v .* m, which does not)
      if (v !== null && vectorText(v) && sm.length === 2 && sm[0] === w.shape(v)[0] && columnOf(m) === null) return { v, m };
    }
    return null;
  };
  /** a reshape prints its argument; one entry `v[i]`, `A[i,j]`; a scalar spread over a shape `g * ones(…)`. */
  const subsetText = (x: GraphNode, arg: string): string => {
    const n = w.node(x);
    const gather = n.attrs.gather!;
    const from = w.shape(n.inputs[0]);
    const out = n.attrs.outShape as Shape;
    if (gather.every((j, k) => j === k) && gather.length === sizeOf(from)) {
      // the same entries in another shape: a vector made a column [n,1] must read as one where it is broadcast
      // against a matrix ([n] alone would meet its last dimension, as a row); v * ones(1, 1) is that column
      // (one printed as a column already, M * ones(4, 1) or sum(M, 2), is written as it is)
      if (from.length === 1 && out.length === 2 && out[1] === 1 && out[0] > 1) return columnText(n.inputs[0]) ? arg : `${wrap(arg)} * ones(1, 1)`;
      return arg;
    }
    if (from.length === 0) {
      shapeSpecific = true;
      return `${wrap(arg)} * ones(${out.join(', ')})`;
    }
    if (out.length === 0) {
      const j = gather[0];
      return from.length === 1 ? `${wrap(arg)}[${j + 1}]` : `${wrap(arg)}[${Math.floor(j / from[1]) + 1}, ${(j % from[1]) + 1}]`;
    }
    throw new AgError('unsupported', 'the derivative picks entries of a tensor in a pattern that has no short formula', {
      hint: 'use autograd-cli grad for its value at a point',
    });
  };
  /** an input laid into a larger tensor (indexing's gradient): its argument when nothing moves; one entry `g * onehot(i, n)` or `g * mask` */
  const scatterText = (x: GraphNode, arg: string): string => {
    const n = w.node(x);
    const gather = n.attrs.gather!;
    const from = w.shape(n.inputs[0]);
    const out = n.attrs.outShape as Shape;
    if (gather.every((j, k) => j === k) && gather.length === sizeOf(out)) return arg;
    if (from.length === 0) {
      const mask = new Float64Array(sizeOf(out));
      mask[gather[0]] = 1;
      return `${wrap(arg)} * ${wrap(constText({ shape: out, data: mask }, -1))}`;
    }
    throw new AgError('unsupported', 'the derivative lays entries into a tensor in a pattern that has no short formula', {
      hint: 'use autograd-cli grad for its value at a point',
    });
  };
  return { text: text(id), shapeSpecific, sizedNumber };
}

/** Formulas written with named steps (`t1 = …; t2 = …; formula`): shared by the formulas of several nodes of one graph. */
export interface PrintSteps {
  /** how many consumers each node has (printStepsFor) */
  uses: Map<GraphNode, number>;
  /** unused names, t1, t2, … */
  fresh: () => string;
  /** the steps written so far, in order (each uses only the ones before) */
  list: { name: string; text: string }[];
  /** the text of each node written so far (a step's is its name) */
  memo: Map<GraphNode, string>;
}

/** Steps for writing the formulas of `roots`: a node with several consumers among what they depend on becomes a step. */
export function printStepsFor(g: PrintedGraph, roots: GraphNode[], fresh: () => string): PrintSteps {
  const uses = new Map<GraphNode, number>();
  const seen = new Set<GraphNode>();
  const stack = [...roots];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    for (const i of g.writer.node(x).inputs) {
      uses.set(i, (uses.get(i) ?? 0) + 1);
      stack.push(i);
    }
  }
  return { uses, fresh, list: [], memo: new Map() };
}

function num(v: number): string {
  if (v === Math.PI) return 'pi';
  return v < 0 ? `(${String(v)})` : String(v);
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
