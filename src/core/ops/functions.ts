import { AgError, type Span } from '../errors.js';
import { checkDeadline } from '../limits.js';
import type { Rng } from '../random.js';
import { SCALAR, scalar, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor.js';
import { ELEMENTWISE } from './elementwise.js';
import { LINALG } from './linalg.js';
import { MATRIX } from './matrix.js';
import { NN, nnAxis } from './nn.js';
import { REDUCE } from './reduce.js';
import { STRUCTURE } from './structure.js';
import type { Attrs } from './types.js';

/**
 * A formula's expression as a lowering reads it: its kind, where it is written, and the
 * fields of the kinds a lowering looks at (parse/ast.ts `Expr` fits it; the table does not
 * import the parser, which reads this table's names).
 */
export interface ArgExpr {
  k: string;
  span: Span;
  /** a number's or a string's value */
  v?: number | string;
  /** a symbol's name */
  name?: string;
  /** a call's function and arguments, and the operator it was written with */
  fn?: string;
  args?: ArgExpr[];
  op?: string;
  /** an array literal's entries (`[]` in max(A, [], 2)) */
  items?: ArgExpr[];
}

/** A call of a formula function. */
export interface Call {
  fn: string;
  args: ArgExpr[];
  span: Span;
  /** the function's name or the operator, where errors point */
  nameSpan: Span;
  /** the operator, when the call was written as one (`^`, `*` …) */
  op?: string;
}

/** `A^T` as a textbook writes the transpose: a power whose exponent is the bare name T. */
export function isTransposeMark(e: { op?: string; args?: ArgExpr[] }): boolean {
  return e.op === '^' && e.args?.length === 2 && e.args[1].k === 'sym' && e.args[1].name === 'T';
}

/** A node as a lowering reads it. */
export interface LoweredNode {
  op: string;
  inputs: readonly number[];
  shape: Shape;
  attrs: Attrs;
}

/**
 * What a lowering sees of the builder (graph/build.ts): the call as written, its
 * arguments, and the tape writer. Errors are AgErrors at the spans of the call.
 */
export interface LowerContext {
  readonly call: Call;
  /** the entry's op (else the function's name) */
  readonly op: string;
  /** argument i built as a node (built once per call) */
  arg(i: number): number;
  /** argument i read now as an integer (a size, an index: a given scalar becomes an index variable) */
  int(i: number, what: string): number;
  /** expression e read now as a number, from literals, constants and given scalars (a norm order) */
  number(e: ArgExpr): number;
  node(id: number): LoweredNode;
  /** a node of this call; an op that refuses the shapes is an error at the call's operator (`at`: a node for a part of the call, written there) */
  write(op: string, inputs: number[], attrs?: Attrs, at?: { span: Span }): number;
  /** the node already written for this op, inputs and attributes, if any */
  existing(op: string, inputs: number[], attrs: Attrs): number | undefined;
  /** a constant made by this call */
  constant(t: Tensor, label?: string): number;
  /** refuse a tensor of `shape` made by this call before it is allocated (--max-entries, --max-memory) */
  reserve(shape: Shape, span?: Span): void;
  /** the source text of an expression */
  text(e: { span: Span }): string;
  /** the run's generator (value expressions only) */
  rng?: Rng;
  /** say something about the formula as written (a reading it might not mean), once */
  note(message: string): void;
  /** whether the formula gives `name` a meaning of its own: a step, a value given, a function it defines */
  defines(name: string): boolean;
}

/** How a call becomes tape nodes, for the functions that read constants, shapes or choose an op (the others: their op, the arguments its inputs). */
export type Lower = (c: LowerContext) => number;

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
  /** the op a call becomes (with the arguments its inputs, no attributes, when there is no `lower`) */
  op?: string;
  /** how a call becomes nodes, when it is not simply `op` */
  lower?: Lower;
  /** how the ops a call becomes print back as formula text; an op with none prints as `op(a, b, …)` */
  print?: Readonly<Record<string, Printer>>;
}

const isScalar = (s: Shape) => s.length === 0;
/** an elementwise product: `*` when a factor is a number, `.*` between tensors */
const elementwiseProduct: Printer = ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[0]) || isScalar(shapes[1]) ? '*' : '.*'} ${wrap(args[1])}`;
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
/** max(A) of every entry, max(A, [], d) along a dimension */
const extremumText =
  (fn: string): Printer =>
  ({ args, attrs }) =>
    attrs.axis === undefined ? `${fn}(${args[0]})` : `${fn}(${args[0]}, []${dimText(attrs)})`;
const elementwise = (fn: string, op: string, arity: readonly [number, number] = [2, 2]): FormulaFunction => ({ name: fn, arity, op });

// ----- lowerings: the functions that read constants, shapes or choose an op -----

/** `*`: a product with a scalar is elementwise, two tensors a matrix product. */
const lowerProduct: Lower = (c) => {
  const [a, b] = [c.arg(0), c.arg(1)];
  const tensors = c.node(a).shape.length > 0 && c.node(b).shape.length > 0;
  if (!tensors) return c.write('multiply', [a, b]);
  try {
    return c.write('matmul', [a, b]);
  } catch (err) {
    const hint = err instanceof AgError && err.code === 'shape' ? productHint(c, a, b) : undefined;
    throw hint ? new AgError('shape', (err as AgError).message, { span: (err as AgError).span, hint }) : err;
  }
};

/** What was probably meant when `a*b` does not fit: a row where a column belongs, or an outer product written as a dot product. */
function productHint(c: LowerContext, a: number, b: number): string | undefined {
  const e = c.call;
  const [sa, sb] = [c.node(a).shape, c.node(b).shape];
  const [ta, tb] = [c.text(e.args[0]), c.text(e.args[1])];
  const bt = c.node(b);
  // A*v' with v a vector: v' is a row [1,n]
  if (sa.length === 2 && bt.op === 'transpose' && c.node(bt.inputs[0]).shape.length === 1) {
    const v = c.node(bt.inputs[0]).shape[0];
    const arg = e.args[1];
    const inner = arg.k === 'call' && arg.fn === 'transpose' && arg.args ? c.text(arg.args[0]) : undefined;
    return `${tb} is a row [1,${v}]${sa[1] === v && inner ? `; did you mean ${ta}*${inner}?` : ''}`;
  }
  if (sa.length === 1 && sb.length === 1) return `between two vectors * is the dot product; for the outer product write ${ta}*${tb}' or outer(${ta}, ${tb})`;
  // a column times a vector: the vector is a column too
  if (sa.length === 2 && sa[1] === 1 && sb.length === 1) return `${tb} is a column; for the outer product write ${ta}*${tb}'`;
  return undefined;
}

/** `/`: divides by a scalar only. */
const lowerQuotient: Lower = (c) => {
  const e = c.call;
  const [a, b] = [c.arg(0), c.arg(1)];
  if (c.node(b).shape.length > 0 && c.node(a).shape.length > 0) {
    throw new AgError('shape', `${c.text(e)}: / divides by a scalar (shapes ${shapeStr(c.node(a).shape)} / ${shapeStr(c.node(b).shape)})`, {
      span: e.nameSpan,
      hint: 'use ./ for elementwise division',
    });
  }
  return c.write(c.op, [a, b]);
};

/** `^`: scalars only; `A^T` is the transpose, as textbooks write it, unless T is a step, a variable or a function of the formula. */
const lowerPower: Lower = (c) => {
  const e = c.call;
  const mark = isTransposeMark(e);
  if (mark && !c.defines('T')) return lowerTranspose(c);
  const [a, b] = [c.arg(0), c.arg(1)];
  if (c.node(a).shape.length > 0 || c.node(b).shape.length > 0) {
    throw new AgError('shape', `${c.text(e)}: ^ is for scalars here (shapes ${shapeStr(c.node(a).shape)} ^ ${shapeStr(c.node(b).shape)})`, {
      span: e.nameSpan,
      hint: mark ? `T is a variable here, so ^T is a power; for the transpose write ${c.text(e.args[0])}'` : 'use .^ for an elementwise power',
    });
  }
  return c.write(c.op, [a, b]);
};

/** A unary minus of a literal is a negative constant. */
const lowerNegate: Lower = (c) => {
  const a = c.arg(0);
  const n = c.node(a);
  if (n.op === 'const' && n.shape.length === 0 && c.call.args[0].k === 'num') return c.constant(scalar(-n.attrs.value!.data[0]));
  return c.write(c.op, [a]);
};

/** (v')' is v itself: the same node, a vector [n] again (not the matrix [n,1]); x' of a scalar is x. */
const lowerTranspose: Lower = (c) => {
  const a = c.arg(0);
  if (c.node(a).op === 'transpose') return c.node(a).inputs[0];
  if (c.node(a).shape.length === 0) return a;
  return c.write('transpose', [a]);
};

/**
 * max(v) is the reduction maxAll; max(A, [], d) (MATLAB's form) the same along dimension d;
 * max(a, b, …) one elementwise op of n arguments, not a fold of pairs: a tie of k of them gives each 1/k.
 */
const lowerExtremum: Lower = (c) => {
  const e = c.call;
  const empty = (x: ArgExpr) => x.k === 'array' && x.items?.length === 0;
  if (e.args.length === 3 && empty(e.args[1])) return c.write(`${c.op}All`, [c.arg(0)], axisAttrs(c, 2));
  const literal = e.args.length === 2 && e.args[1].k === 'num' && (e.args[1].v === 1 || e.args[1].v === 2);
  const args = e.args.map((_, i) => c.arg(i));
  // MATLAB's and mathjs's evaluate read max(A, 2) as along dimension 2; here it is elementwise, as it always was
  if (literal && c.node(args[0]).shape.length > 0) {
    const [a, d] = [c.text(e.args[0]), e.args[1].v];
    c.note(
      `${e.fn}(${a}, ${d}) is the elementwise ${e.fn} of ${a} and ${d}; for the ${e.fn === 'max' ? 'maximum' : 'minimum'} along dimension ${d} write ${e.fn}(${a}, [], ${d})`,
    );
  }
  return c.write(args.length === 1 ? `${c.op}All` : c.op, args);
};

/** A dimension argument: 1 (down the columns) or 2 (along the rows). */
function dimArg(c: LowerContext, i: number): 1 | 2 {
  const dim = c.int(i, 'a dimension');
  if (dim !== 1 && dim !== 2) throw new AgError('index', `the dimension must be 1 or 2, not ${dim}`, { span: c.call.args[i].span });
  return dim;
}

/**
 * The attribute `axis` of a reduction whose argument i (if given) is its one-based dimension. A vector is
 * a column: dimension 1 runs down it (all of it, no axis), dimension 2 is an error (each entry alone).
 */
function axisAttrs(c: LowerContext, i: number): Attrs {
  const e = c.call;
  const a = c.arg(0);
  const dim = e.args.length > i ? dimArg(c, i) : undefined;
  const head = e.args.slice(0, i).map((x) => c.text(x));
  if (dim !== undefined && c.node(a).shape.length === 0)
    throw new AgError('shape', `${c.text(e)}: ${head[0]} is a scalar; only a vector or a matrix has a dimension to reduce along`, { span: e.args[i].span });
  if (dim === 2 && c.node(a).shape.length === 1) {
    throw new AgError('shape', `${c.text(e)}: ${head[0]} is a vector, a column ${shapeStr(c.node(a).shape)}: along dimension 2 each entry is alone`, {
      span: e.args[i].span,
      // max(v, [], 2): the whole vector is max(v)
      hint: `write ${e.fn}(${head.filter((t) => t.trim() !== '[]').join(', ')}) or ${e.fn}(${[...head, '1'].join(', ')})`,
    });
  }
  return dim !== undefined && c.node(a).shape.length !== 1 ? { axis: dim - 1 } : {};
}

/** sum/mean/prod(A[, dim]): the one-based dimension read as the attribute `axis`. */
const lowerReduction: Lower = (c) => c.write(c.op, [c.arg(0)], axisAttrs(c, 1));

/** softmax/logsoftmax/logsumexp(Z[, dim]): the lanes read as the attribute `axis`. */
const lowerLanes: Lower = (c) => {
  const e = c.call;
  const n = e.args.length;
  const a = c.arg(0);
  const dim = n === 2 ? dimArg(c, 1) : undefined;
  // log(exp(x)) of one entry: a scalar's logsumexp is the scalar
  if (c.op === 'logsumexp' && c.node(a).shape.length === 0) return a;
  const shape = c.node(a).shape;
  const r = nnAxis(shape, dim === undefined ? undefined : dim - 1);
  if ('error' in r) {
    throw new AgError('shape', `${c.text(e)}: ${c.text(e.args[0])} ${r.error}`, {
      span: n === 2 ? e.args[1].span : e.nameSpan,
      hint: r.fix ? `write ${e.fn}(${c.text(e.args[0])}, ${r.fix}): dimension ${r.fix} runs ${r.fix === 1 ? 'down the columns' : 'along the rows'}` : undefined,
    });
  }
  // a vector has one axis; a matrix keeps the dimension it was given (none: its rows)
  const attrs: Attrs = dim !== undefined && shape.length === 2 ? { axis: r.axis } : {};
  // softmax(Z) of a matrix and softmax(Z, 2) are the same lanes: one node, printed as first written
  if (shape.length === 2 && r.axis === 1) {
    const same = c.existing(c.op, [a], dim === undefined ? { axis: 1 } : {});
    if (same !== undefined) return same;
  }
  return c.write(c.op, [a], attrs);
};

/** norm(v[, p[, dim]]): the order read as the attribute `ord` (the 2-norm is the default, so norm(v) and norm(v, 2) are one node), the dimension as `axis`. */
const lowerNorm: Lower = (c) => {
  const e = c.call;
  const ord = e.args.length >= 2 ? normOrder(c, e.args[1]) : 2;
  if (ord === 'fro' && e.args.length === 3)
    throw new AgError('unsupported', `${c.text(e)}: "fro" is the norm of a whole matrix; along a dimension write 2`, { span: e.args[1].span });
  const attrs: Attrs = axisAttrs(c, 2);
  if (ord !== 2) attrs.ord = ord;
  return c.write(c.op, [c.arg(0)], attrs);
};

function normOrder(c: LowerContext, e: ArgExpr): number | 'fro' {
  if (e.k === 'str') {
    if (e.v === 'fro') return 'fro';
    throw new AgError('unsupported', `unknown norm kind "${e.v}"`, { span: e.span, hint: 'use "fro", 1, 2 or Infinity' });
  }
  const v = e.k === 'sym' && (e.name === 'Infinity' || e.name === 'inf') ? Infinity : c.number(e);
  if (v === 1 || v === 2 || v === Infinity) return v;
  throw new AgError('unsupported', `norm order ${v} is not supported`, { span: e.span, hint: 'use 1, 2, Infinity or "fro"' });
}

/** outer(u, v) is u*v': two columns, [n] or [n,1], make an [n,m] matrix. */
const lowerOuter: Lower = (c) => {
  const e = c.call;
  const [u, v] = e.args.map((x, i) => {
    const id = c.arg(i);
    const sh = c.node(id).shape;
    if (!(sh.length === 1 || (sh.length === 2 && sh[1] === 1))) {
      throw new AgError('shape', `outer takes two column vectors ([n] or [n,1]); ${c.text(x)} has shape ${shapeStr(sh)}`, {
        span: x.span,
        hint: i === 1 && sh.length === 2 && sh[0] === 1 ? `${c.text(x)} is already a row: write ${c.text(e.args[0])}*${c.text(x)}` : undefined,
      });
    }
    return id;
  });
  return c.write('matmul', [u, c.write('transpose', [v], {}, e.args[1])]);
};

/** onehot(i, n): the column [n] with a 1 at entry i (1-based), a constant; i may be a given integer like y. */
const lowerOnehot: Lower = (c) => {
  const e = c.call;
  const n = c.int(1, 'the length of a one-hot vector');
  if (n < 1) throw new AgError('index', `the length of a one-hot vector must be at least 1, not ${n}`, { span: e.args[1].span });
  // entries and memory checked before the vector is made, like every constant
  c.reserve([n], e.args[1].span);
  const i = c.int(0, 'a one-hot index');
  if (i < 1 || i > n) {
    const named = c.text(e.args[0]).trim() === String(i) ? '' : `${c.text(e.args[0])} = `;
    throw new AgError('index', `${c.text(e)}: the one-hot index ${named}${i} is out of range (1 to ${n}; indices are 1-based)`, { span: e.args[0].span });
  }
  const t = generate('zeros', [n]);
  t.data[i - 1] = 1;
  return c.constant(t, `onehot(${i},${n})`);
};

/** zeros/ones/eye(m[, n]): a constant, its size checked before anything is allocated (zeros(1e300) is an error, not an attempt). */
const lowerGenerator: Lower = (c) => {
  const e = c.call;
  const dims = e.args.map((_, i) => c.int(i, 'a size'));
  c.reserve(generatorShape(e.fn, dims));
  return c.constant(generate(e.fn, dims));
};

/** randn/rand(m[, n]): a constant drawn from the run's generator (value expressions only). */
const lowerRandom: Lower = (c) => {
  const e = c.call;
  const rng = c.rng;
  if (!rng) throw new AgError('unsupported', `${e.fn} makes random values; use it in --at, like --at W=${e.fn}(3,4)`, { span: e.nameSpan });
  const dims = e.args.map((_, i) => c.int(i, 'a size'));
  c.reserve(generatorShape(e.fn, dims));
  const t = generate('zeros', dims);
  for (let k = 0; k < t.data.length; k++) {
    t.data[k] = e.fn === 'randn' ? rng.normal() : rng.next();
    if ((k & 0xffff) === 0) checkDeadline();
  }
  return c.constant(t);
};

/** The shape zeros/ones/eye/randn/rand(dims) makes (sizes checked to be positive). */
export function generatorShape(fn: string, dims: number[]): number[] {
  for (const d of dims) if (!(d >= 1)) throw new AgError('bad-value', `${fn}: sizes must be positive, not ${d}`);
  return fn === 'eye' && dims.length === 1 ? [dims[0], dims[0]] : dims;
}

/** zeros/ones/eye(m[, n]), as in mathjs (one size is a vector; eye(n) is n×n). Callers check the size against the limits first. */
export function generate(fn: string, dims: number[]): Tensor {
  const shape = generatorShape(fn, dims);
  const data = new Float64Array(sizeOf(shape));
  if (fn === 'ones') data.fill(1);
  if (fn === 'eye') {
    const [m, n] = shape;
    for (let i = 0; i < Math.min(m, n); i++) data[i * n + i] = 1;
  }
  return { shape: shape.length ? shape : SCALAR, data };
}

/** Functions whose meaning is written here, not read off the op table (a later entry of a name replaces an earlier one in place). */
const WRITTEN: FormulaFunction[] = [
  {
    name: 'pow',
    arity: [2, 2],
    lower: lowerPower,
    op: 'pow',
    print: { pow: ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[0]) && isScalar(shapes[1]) ? '^' : '.^'} ${wrap(args[1])}` },
  },
  {
    name: 'transpose',
    arity: [1, 1],
    lower: lowerTranspose,
    op: 'transpose',
    print: {
      // (v')' of a vector is v: the column [n,1] and the vector [n] are the same on paper
      transpose: ({ args, input, wrap }) => {
        const inner = input(0);
        return inner.op === 'transpose' && inner.shapes[0].length === 1 ? inner.args[0] : `${wrap(args[0])}'`;
      },
    },
  },
  { name: 'max', arity: [1, Infinity], lower: lowerExtremum, op: 'max', print: { maxAll: extremumText('max') } },
  { name: 'min', arity: [1, Infinity], lower: lowerExtremum, op: 'min', print: { minAll: extremumText('min') } },
  { name: 'larger', arity: [2, 2], op: 'larger', print: { larger: infix('>') } },
  { name: 'smaller', arity: [2, 2], op: 'smaller', print: { smaller: infix('<') } },
  { name: 'largerEq', arity: [2, 2], op: 'largerEq', print: { largerEq: infix('>=') } },
  { name: 'smallerEq', arity: [2, 2], op: 'smallerEq', print: { smallerEq: infix('<=') } },
  { name: 'equal', arity: [2, 2], op: 'equal', print: { equal: infix('==') } },
  { name: 'unequal', arity: [2, 2], op: 'unequal', print: { unequal: infix('!=') } },
  { name: 'and', arity: [2, 2], op: 'and', print: { and: infix('and') } },
  { name: 'or', arity: [2, 2], op: 'or', print: { or: infix('or') } },
  { name: 'not', arity: [1, 1], op: 'not', print: { not: ({ args, wrap }) => `not ${wrap(args[0])}` } },
  { name: 'softmax', arity: [1, 2], lower: lowerLanes, op: 'softmax', print: { softmax: lanes } },
  { name: 'logsoftmax', arity: [1, 2], lower: lowerLanes, op: 'logsoftmax', print: { logsoftmax: lanes } },
  { name: 'logsumexp', arity: [1, 2], lower: lowerLanes, op: 'logsumexp', print: { logsumexp: lanes } },
  { name: 'add', arity: [2, 2], op: 'add', print: { add: infix('+') } },
  { name: 'subtract', arity: [2, 2], op: 'subtract', print: { subtract: infix('-') } },
  {
    name: 'multiply',
    arity: [2, 2],
    lower: lowerProduct,
    print: {
      multiply: elementwiseProduct,
      gmul: elementwiseProduct,
      matmul: infix('*'),
    },
  },
  {
    name: 'divide',
    arity: [2, 2],
    lower: lowerQuotient,
    op: 'divide',
    print: { divide: ({ args, shapes, wrap }) => `${wrap(args[0])} ${isScalar(shapes[1]) ? '/' : './'} ${wrap(args[1])}` },
  },
  { name: 'unaryMinus', arity: [1, 1], lower: lowerNegate, op: 'unaryMinus', print: { unaryMinus: ({ args, wrap }) => `-${wrap(args[0])}` } },
  { name: 'unaryPlus', arity: [1, 1], op: 'unaryPlus', print: { unaryPlus: ({ args }) => args[0] } },
  elementwise('dotMultiply', 'multiply'),
  elementwise('dotDivide', 'divide'),
  elementwise('dotPow', 'pow'),
  { name: 'sum', arity: [1, 2], lower: lowerReduction, op: 'sum', print: { sum: reduction } },
  { name: 'mean', arity: [1, 2], lower: lowerReduction, op: 'mean', print: { mean: reduction } },
  { name: 'prod', arity: [1, 2], lower: lowerReduction, op: 'prod', print: { prod: reduction } },
  {
    name: 'norm',
    arity: [1, 3],
    lower: lowerNorm,
    op: 'norm',
    print: {
      norm: ({ args, attrs }) => {
        const { ord } = attrs;
        const p = ord === undefined ? 2 : ord === Infinity ? 'Infinity' : ord === 'fro' ? '"fro"' : ord;
        return `norm(${args[0]}${attrs.axis !== undefined ? `, ${p}${dimText(attrs)}` : p === 2 ? '' : `, ${p}`})`;
      },
    },
  },
  { name: 'outer', arity: [2, 2], lower: lowerOuter },
  { name: 'onehot', arity: [2, 2], lower: lowerOnehot },
  { name: 'zeros', arity: [1, 2], lower: lowerGenerator },
  { name: 'ones', arity: [1, 2], lower: lowerGenerator },
  { name: 'eye', arity: [1, 2], lower: lowerGenerator },
  { name: 'randn', arity: [1, 2], lower: lowerRandom },
  { name: 'rand', arity: [1, 2], lower: lowerRandom },
];

/** Ops that are no function of their own: operators and internals (matmul is `*` between tensors). */
/** gmul: the product of an upstream gradient and a partial, written by derivative rules only (it prints as a product) */
const NOT_CALLED = new Set(['select', 'add', 'subtract', 'multiply', 'divide', 'unaryMinus', 'unaryPlus', 'matmul', 'gmul']);

/**
 * THE table of formula functions, by name: every op of the elementwise, comparison, nn
 * and linear-algebra families is a function of its own name and arity (lowered to
 * itself, printed as `op(a, b)`), then the entries written above. Lowering
 * (graph/build.ts), the names a formula may call (parse, hints) and derive's printing
 * (graph/print.ts) all read it.
 */
export const FORMULA_FUNCTIONS: ReadonlyMap<string, FormulaFunction> = new Map(
  [
    ...[...ELEMENTWISE, ...REDUCE, ...LINALG, ...MATRIX, ...NN, ...STRUCTURE]
      .filter((op) => ['elementwise', 'compare', 'nn', 'linalg'].includes(op.family) && !NOT_CALLED.has(op.name))
      .map((op): FormulaFunction => ({ name: op.name, arity: op.arity, op: op.name })),
    ...WRITTEN,
  ].map((f) => [f.name, f]),
);

/** How each op prints back as formula text, from the table (ops absent print as `op(a, b, …)`). */
export const PRINTERS: ReadonlyMap<string, Printer> = new Map([...FORMULA_FUNCTIONS.values()].flatMap((f) => Object.entries(f.print ?? {})));

/** Other names for functions, as lectures write them (`ln(x)` is `log(x)`); the parser renames them. */
export const ALIASES: Readonly<Record<string, string>> = { ln: 'log' };

/** mathjs functions that run code or change the instance: no formula may call or assign to them. */
export const MATHJS_CODE_FUNCTIONS = ['import', 'evaluate', 'parse', 'compile', 'createUnit', 'simplify', 'derivative', 'reviver', 'config'] as const;

/** mathjs functions that run code, change the instance or take callbacks: never callable from a formula. */
export const FORBIDDEN_FUNCTIONS: ReadonlySet<string> = new Set([
  ...MATHJS_CODE_FUNCTIONS,
  'typed',
  'chain',
  'help',
  'resolve',
  'rationalize',
  'leafCount',
  'symbolicEqual',
  'map',
  'forEach',
  'filter',
  'apply',
]);
