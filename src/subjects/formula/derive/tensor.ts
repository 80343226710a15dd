import { AgError } from '../../../core/errors.js';
import { TapeWriter } from '../../../core/graph/append.js';
import { appendGradient } from '../../../core/graph/gradient.js';
import type { Tape } from '../../../core/graph/tape.js';
import { PRINTERS, type PrintedNode } from '../../../core/ops/index.js';
import type { GraphNode } from '../../../core/ops/types.js';
import { shapeStr, sizeOf, type Shape, type Tensor } from '../../../core/tensor.js';
import { MAX_EXPR, wrap } from './symbolic.js';

/**
 * Matrix calculus: ∂f/∂W as a formula in the variables, read off the gradient's graph
 * (graph/gradient.ts), with vectors as columns: `2*(W*x)*x'`, `W'*(2*(W*x))`.
 */

/** The gradient's graph of a tape, and what is needed to write its nodes as formulas. */
export interface TensorGradient {
  writer: TapeWriter;
  /** ∂f/∂v per tape input (null: 0) */
  grads: (GraphNode | null)[];
  /** the formula's output in the writer */
  output: GraphNode;
  /** constants that are variables held fixed (--wrt), by node */
  names: Map<GraphNode, string>;
}

/**
 * The gradient graph of `tape`, after rewriting log(softmax(z)) as logsoftmax(z) (exact,
 * and its gradient is softmax(z) − onehot(y, n) without a division by the picked entry).
 */
export function tensorGradient(tape: Tape): TensorGradient {
  const w = TapeWriter.empty(tape.source);
  const ids = new Int32Array(tape.nodes.length);
  const names = new Map<GraphNode, string>();
  for (const n of tape.nodes) {
    const ins = n.inputs.map((i) => ids[i]);
    if (n.op === 'input') ids[n.id] = w.input(n.label, n.shape);
    else if (n.op === 'const') {
      // a variable held fixed by --wrt is a constant named like the variable: it stays a name (a slot is never folded)
      const named = /^[A-Za-z_]\w*$/.test(n.label) && !/^\d/.test(n.label);
      ids[n.id] = named ? w.slot(n.shape, n.label) : w.constant(n.attrs.value!);
      if (named) names.set(ids[n.id], n.label);
    } else ids[n.id] = logSoftmax(w, n.op, ins) ?? w.op(n.op, ins, n.attrs);
  }
  const output = ids[tape.output];
  const grads = appendGradient(
    w,
    output,
    tape.inputs.map((i) => ids[i.node]),
  );
  return { writer: w, grads, output, names };
}

/** log(softmax(z)) → logsoftmax(z); log(softmax(z)[i]) → logsoftmax(z)[i]. */
function logSoftmax(w: TapeWriter, op: string, [a]: GraphNode[]): GraphNode | undefined {
  if (op !== 'log' || a === undefined) return undefined;
  const n = w.node(a);
  if (n.op === 'softmax') return w.op('logsoftmax', n.inputs, n.attrs);
  const inner = n.op === 'subset' ? w.node(n.inputs[0]) : undefined;
  if (inner?.op === 'softmax') return w.op('subset', [w.op('logsoftmax', inner.inputs, inner.attrs)], n.attrs);
  return undefined;
}

/**
 * A node of the gradient's graph as a formula that our builder reads back to the same
 * values: elementwise products of tensors are `.*`, matrix products `*`, `'` transposes,
 * dimensions are one-based. `indexVars` names a one-hot constant by the index variable
 * whose value it is (`onehot(y, 3)`). Throws when a node has no formula (a large constant).
 */
export function formulaOf(g: TensorGradient, id: GraphNode, indexVars: Record<string, number>): { text: string; shapeSpecific: boolean } {
  const w = g.writer;
  const memo = new Map<GraphNode, string>();
  let shapeSpecific = false;
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
    if (t.shape.length === 0) return num(t.data[0]);
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
    const a = n.inputs.map(text);
    let s: string;
    // what a graph node is, not a function: names, constants, conditionals, picks, arrays
    if (n.op === 'input') s = n.label;
    else if (n.op === 'const') s = g.names.get(x) ?? constText(n.attrs.value!, x);
    else if (n.op === 'select') s = selectText(x, a);
    else if (n.op === 'subset') s = subsetText(x, a[0]);
    else if (n.op === 'stack') s = `[${a.join(', ')}]`;
    else {
      // a function's op prints as the table of formula functions says, else as op(a, b, …)
      const print = PRINTERS.get(n.op);
      s = print ? print(printed(x)) : `${n.op}(${a.join(', ')})`;
    }
    s = guard(s);
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
  /** a reshape prints its argument; one entry `v[i]`, `A[i,j]`; a scalar spread over a shape `g * ones(…)`. */
  const subsetText = (x: GraphNode, arg: string): string => {
    const n = w.node(x);
    const gather = n.attrs.gather!;
    const from = w.shape(n.inputs[0]);
    const out = n.attrs.outShape as Shape;
    if (gather.every((j, k) => j === k) && gather.length === sizeOf(from)) return arg;
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
  return { text: text(id), shapeSpecific };
}

function num(v: number): string {
  if (v === Math.PI) return 'pi';
  return v < 0 ? `(${String(v)})` : String(v);
}
