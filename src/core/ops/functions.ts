import { ELEMENTWISE } from './elementwise.js';
import { LINALG } from './linalg.js';
import { NN } from './nn.js';
import { REDUCE } from './reduce.js';
import { STRUCTURE } from './structure.js';
import type { Attrs } from './types.js';
import type { Shape } from '../tensor.js';

/**
 * How a call of a formula function becomes tape nodes. 'op': the op named by the entry,
 * the arguments its inputs, no attributes (most functions). Every other kind reads
 * constants, shapes or chooses between ops; graph/build.ts has one lowering per kind.
 */
export type LowerKind =
  | 'op'
  /** `*`: a product with a scalar is elementwise, two tensors a matrix product */
  | 'product'
  /** `/`: divides by a scalar only */
  | 'quotient'
  /** `^`: scalars only */
  | 'power'
  /** a unary minus of a literal is a negative constant */
  | 'negate'
  /** (v')' is v, x' of a scalar is x */
  | 'transpose'
  /** max(v) is the reduction maxAll, max(a, b, …) elementwise over its arguments */
  | 'extremum'
  /** sum/mean/prod(A[, dim]): the dimension read as an attribute */
  | 'reduction'
  /** softmax/logsoftmax/logsumexp(Z[, dim]): the lanes read as an attribute */
  | 'lanes'
  /** norm(v[, p]): the order read as an attribute */
  | 'norm'
  /** outer(u, v) is u*v' */
  | 'outer'
  /** onehot(i, n): a constant column */
  | 'onehot'
  /** zeros/ones/eye(m[, n]): a constant */
  | 'generator'
  /** randn/rand(m[, n]): a constant drawn from the run's generator (value expressions only) */
  | 'random';

/** A node of the gradient's graph, as its printer sees it (graph/print.ts `formulaOf`). */
export interface PrintedNode {
  op: string;
  attrs: Attrs;
  /** the inputs written as formulas */
  args: string[];
  /** the inputs' shapes */
  shapes: Shape[];
  /** input i, seen the same way */
  input(i: number): PrintedNode;
  /** a formula in parentheses unless it is a name, a number or one call */
  wrap(s: string): string;
}

/** A node of `op` written back as formula text, one that lowers to the same node again. */
export type Printer = (n: PrintedNode) => string;

/** One function a formula may call. */
export interface FormulaFunction {
  name: string;
  /** fewest and most arguments */
  arity: readonly [number, number];
  lower: LowerKind;
  /** the op a call becomes ('op', and the op of the other kinds when there is one) */
  op?: string;
  /** how the ops a call becomes print back as formula text; an op with none prints as `op(a, b, …)` */
  print?: Readonly<Record<string, Printer>>;
}

const isScalar = (s: Shape) => s.length === 0;
const infix =
  (symbol: string): Printer =>
  ({ args, wrap }) =>
    `${wrap(args[0])} ${symbol} ${wrap(args[1])}`;
/** `, dim` (one-based) when the node reads along an axis */
const dimText = (attrs: Attrs) => (attrs.axis === undefined ? '' : `, ${attrs.axis + 1}`);
const lanes: Printer = ({ op, args, attrs }) => `${op}(${args[0]}${dimText(attrs)})`;
const reduction: Printer = ({ op, args, attrs, shapes }) =>
  // a sum along a side of length 1 only turns a column [n,1] into the vector [n]: the same column on paper
  attrs.axis !== undefined && shapes[0][attrs.axis] === 1 && op !== 'mean' ? args[0] : `${op}(${args[0]}${dimText(attrs)})`;
const elementwise = (fn: string, op: string, arity: readonly [number, number] = [2, 2]): FormulaFunction => ({ name: fn, arity, lower: 'op', op });

/** Functions whose meaning is written here, not read off the op table (a later entry of a name replaces an earlier one in place). */
const WRITTEN: FormulaFunction[] = [
  {
    name: 'pow',
    arity: [2, 2],
    lower: 'power',
    op: 'pow',
    print: { pow: ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[0]) && isScalar(shapes[1]) ? '^' : '.^'} ${wrap(args[1])}` },
  },
  {
    name: 'transpose',
    arity: [1, 1],
    lower: 'transpose',
    op: 'transpose',
    print: {
      // (v')' of a vector is v: the column [n,1] and the vector [n] are the same on paper
      transpose: ({ args, input, wrap }) => {
        const inner = input(0);
        return inner.op === 'transpose' && inner.shapes[0].length === 1 ? inner.args[0] : `${wrap(args[0])}'`;
      },
    },
  },
  { name: 'max', arity: [1, Infinity], lower: 'extremum', op: 'max', print: { maxAll: ({ args }) => `max(${args[0]})` } },
  { name: 'min', arity: [1, Infinity], lower: 'extremum', op: 'min', print: { minAll: ({ args }) => `min(${args[0]})` } },
  { name: 'larger', arity: [2, 2], lower: 'op', op: 'larger', print: { larger: infix('>') } },
  { name: 'smaller', arity: [2, 2], lower: 'op', op: 'smaller', print: { smaller: infix('<') } },
  { name: 'largerEq', arity: [2, 2], lower: 'op', op: 'largerEq', print: { largerEq: infix('>=') } },
  { name: 'smallerEq', arity: [2, 2], lower: 'op', op: 'smallerEq', print: { smallerEq: infix('<=') } },
  { name: 'equal', arity: [2, 2], lower: 'op', op: 'equal', print: { equal: infix('==') } },
  { name: 'unequal', arity: [2, 2], lower: 'op', op: 'unequal', print: { unequal: infix('!=') } },
  { name: 'and', arity: [2, 2], lower: 'op', op: 'and', print: { and: infix('and') } },
  { name: 'or', arity: [2, 2], lower: 'op', op: 'or', print: { or: infix('or') } },
  { name: 'not', arity: [1, 1], lower: 'op', op: 'not', print: { not: ({ args, wrap }) => `not ${wrap(args[0])}` } },
  { name: 'softmax', arity: [1, 2], lower: 'lanes', op: 'softmax', print: { softmax: lanes } },
  { name: 'logsoftmax', arity: [1, 2], lower: 'lanes', op: 'logsoftmax', print: { logsoftmax: lanes } },
  { name: 'logsumexp', arity: [1, 2], lower: 'lanes', op: 'logsumexp', print: { logsumexp: lanes } },
  { name: 'add', arity: [2, 2], lower: 'op', op: 'add', print: { add: infix('+') } },
  { name: 'subtract', arity: [2, 2], lower: 'op', op: 'subtract', print: { subtract: infix('-') } },
  {
    name: 'multiply',
    arity: [2, 2],
    lower: 'product',
    print: {
      multiply: ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[0]) || isScalar(shapes[1]) ? '*' : '.*'} ${wrap(args[1])}`,
      matmul: infix('*'),
    },
  },
  {
    name: 'divide',
    arity: [2, 2],
    lower: 'quotient',
    op: 'divide',
    print: { divide: ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[1]) ? '/' : './'} ${wrap(args[1])}` },
  },
  { name: 'unaryMinus', arity: [1, 1], lower: 'negate', op: 'unaryMinus', print: { unaryMinus: ({ args, wrap }) => `-${wrap(args[0])}` } },
  { name: 'unaryPlus', arity: [1, 1], lower: 'op', op: 'unaryPlus', print: { unaryPlus: ({ args }) => args[0] } },
  elementwise('dotMultiply', 'multiply'),
  elementwise('dotDivide', 'divide'),
  elementwise('dotPow', 'pow'),
  { name: 'sum', arity: [1, 2], lower: 'reduction', op: 'sum', print: { sum: reduction } },
  { name: 'mean', arity: [1, 2], lower: 'reduction', op: 'mean', print: { mean: reduction } },
  { name: 'prod', arity: [1, 2], lower: 'reduction', op: 'prod', print: { prod: reduction } },
  {
    name: 'norm',
    arity: [1, 2],
    lower: 'norm',
    op: 'norm',
    print: {
      norm: ({ args, attrs: { ord } }) =>
        `norm(${args[0]}${ord === undefined || ord === 2 ? '' : ord === 'fro' ? ', "fro"' : `, ${ord === Infinity ? 'Infinity' : ord}`})`,
    },
  },
  { name: 'outer', arity: [2, 2], lower: 'outer' },
  { name: 'onehot', arity: [2, 2], lower: 'onehot' },
  { name: 'zeros', arity: [1, 2], lower: 'generator' },
  { name: 'ones', arity: [1, 2], lower: 'generator' },
  { name: 'eye', arity: [1, 2], lower: 'generator' },
  { name: 'randn', arity: [1, 2], lower: 'random' },
  { name: 'rand', arity: [1, 2], lower: 'random' },
];

/** Ops that are no function of their own: operators and internals (matmul is `*` between tensors). */
const NOT_CALLED = new Set(['select', 'add', 'subtract', 'multiply', 'divide', 'unaryMinus', 'unaryPlus', 'matmul']);

/**
 * THE table of formula functions, by name: every op of the elementwise, comparison, nn
 * and linear-algebra families is a function of its own name and arity (lowered to
 * itself, printed as `op(a, b)`), then the entries written above. Lowering
 * (graph/build.ts), the names a formula may call (parse, hints) and derive's printing
 * (graph/print.ts) all read it.
 */
export const FORMULA_FUNCTIONS: ReadonlyMap<string, FormulaFunction> = new Map(
  [
    ...[...ELEMENTWISE, ...REDUCE, ...LINALG, ...NN, ...STRUCTURE]
      .filter((op) => ['elementwise', 'compare', 'nn', 'linalg'].includes(op.family) && !NOT_CALLED.has(op.name))
      .map((op): FormulaFunction => ({ name: op.name, arity: op.arity, lower: 'op', op: op.name })),
    ...WRITTEN,
  ].map((f) => [f.name, f]),
);

/** How each op prints back as formula text, from the table (ops absent print as `op(a, b, …)`). */
export const PRINTERS: ReadonlyMap<string, Printer> = new Map([...FORMULA_FUNCTIONS.values()].flatMap((f) => Object.entries(f.print ?? {})));
