import { AgError } from '../../../core/errors.js';
import type { TapeWriter } from '../../../core/graph/append.js';
import { appendTangent } from '../../../core/graph/gradient.js';
import type { Tape } from '../../../core/graph/tape.js';
import type { GraphNode } from '../../../core/ops/types.js';
import { shapeStr, sizeOf, type Shape } from '../../../core/tensor.js';
import { writeTape, type TensorGradient } from './tensor.js';

/**
 * The Jacobian ∂f/∂z of a vector f as a matrix formula, in the form courses write it
 * (softmax: diag(softmax(z)) - softmax(z)*softmax(z)'; A*x: A; an elementwise g: diag(g'(x))).
 *
 * Forward mode makes it: the op table's tangent rules (jvpGraph, appended by
 * graph/gradient.ts) give f's tangent J·v along a direction v, a graph linear in v. Run
 * with the identity as a batch of n tangents, each node of that graph that v reaches is a
 * matrix [k, n] (k: the node's entries), kept as a sum of products of matrices, distributed
 * as it goes, so diag(s)·(I − 1·s') reads as the book's diag(s) − s*s'. What this file
 * knows of an op is only how a linear op acts on a batch of tangent columns (a product by
 * a constant is diag(c)·B, a sum is ones(1, k)·B); no op's derivative is stated here.
 * f is a vector [m] and z a scalar (J is a column [m]) or a vector [n] (J is [m, n]).
 */
export function tensorJacobian(tape: Tape): TensorGradient {
  const g = writeTape(tape);
  const w = g.writer;
  const output = g.ids[tape.output];
  let sized = false;
  const grads = tape.inputs.map((inp) => {
    const z = g.ids[inp.node];
    const shape = w.shape(z);
    // a scalar z: the tangent along 1 is the column ∂f/∂z itself
    if (shape.length === 0) return appendTangent(w, output, new Map([[z, w.constant(1)]]));
    const v = w.slot([sizeOf(shape)], 'v');
    const t = appendTangent(w, output, new Map([[z, w.reshape(v, shape)]]));
    if (t === null) return null;
    const batch = new Batch(w, v, g.names);
    const j = batch.matrix(t, sizeOf(w.shape(output)));
    sized ||= batch.sized;
    return j;
  });
  return { writer: w, grads, output, names: g.names, sized };
}

/** The Jacobian's shape: [m, n] for z of shape [n], the column [m] for a scalar z. */
export function jacobianShape(m: number, z: Shape): Shape {
  return z.length === 0 ? [m] : [m, sizeOf(z)];
}

/** derive writes the Jacobian of a vector f with respect to scalars and vectors (as check reads them); anything else is refused, naming the limit. */
export function assertJacobianShapes(tape: Tape, formula: string): void {
  const out = tape.nodes[tape.output];
  if (out.shape.length !== 1)
    throw new AgError(
      'shape',
      `derive writes the derivative of a scalar f (a gradient) or of a vector f (a Jacobian); this f has shape ${shapeStr(out.shape)}, whose derivative has more than 2 dimensions`,
      { span: out.span, source: formula, hint: 'reduce it (sum(...)), or use autograd-cli jacobian for its entries' },
    );
  const matrix = tape.inputs.find((i) => tape.nodes[i.node].shape.length > 1);
  if (matrix)
    throw new AgError(
      'shape',
      `derive writes a vector f's Jacobian with respect to scalars and vectors; ${matrix.name} is a matrix ${shapeStr(tape.nodes[matrix.node].shape)}`,
      { source: formula, hint: `hold ${matrix.name} fixed (--wrt the others), or use autograd-cli jacobian for its entries` },
    );
}

/** A node's batch is kept distributed (a sum of products) up to this many products. */
const MAX_TERMS = 8;

/** (−1)^neg · (the scalars' product) · fs[0]·fs[1]···: one product of a batch (an empty fs is the identity). */
interface Term {
  neg: boolean;
  scalars: GraphNode[];
  fs: GraphNode[];
}

/** A node of the tangent graph as the matrix it makes of the batch of tangents, a sum of products. */
class Batch {
  private memo = new Map<GraphNode, Term[]>();
  private reaches = new Map<GraphNode, boolean>();

  /** whether a constant sized for these shapes (ones(3), eye(3)) was written */
  sized = false;
  /** ones(…) and eye(n) written as named slots: the writer would fold them with each other into a literal matrix */
  private named = new Map<string, GraphNode>();
  private isOnesNode = new Set<GraphNode>();
  private isEyeNode = new Set<GraphNode>();

  constructor(
    private w: TapeWriter,
    private v: GraphNode,
    private names: Map<GraphNode, string>,
  ) {}

  /** A constant printed as written (ones(3), ones(1, 3), eye(3), 1/3), never folded. */
  private constant(text: string, shape: Shape): GraphNode {
    let x = this.named.get(text);
    if (x === undefined) {
      x = this.w.slot(shape, text);
      this.names.set(x, text);
      this.named.set(text, x);
      if (shape.length > 0) this.sized = true;
    }
    return x;
  }

  private ones(shape: Shape): GraphNode {
    const x = this.constant(`ones(${shape.join(', ')})`, shape);
    this.isOnesNode.add(x);
    return x;
  }

  private eye(n: number): GraphNode {
    const x = this.constant(`eye(${n})`, [n, n]);
    this.isEyeNode.add(x);
    return x;
  }

  /** The tangent node t as the matrix [k, n] (written into the graph). */
  matrix(t: GraphNode, k: number): GraphNode {
    const n = sizeOf(this.w.shape(this.v));
    const m = this.sumOf(this.of(t), n);
    return this.w.shape(m).length === 2 && this.w.shape(m)[0] === k ? m : this.w.reshape(m, [k, n]);
  }

  private depends(x: GraphNode): boolean {
    if (x === this.v) return true;
    let hit = this.reaches.get(x);
    if (hit === undefined) {
      hit = this.w.node(x).inputs.some((i) => this.depends(i));
      this.reaches.set(x, hit);
    }
    return hit;
  }

  private of(x: GraphNode): Term[] {
    if (x === this.v) return [{ neg: false, scalars: [], fs: [] }];
    let terms = this.memo.get(x);
    if (!terms) {
      terms = this.rule(x);
      // distributing doubles the terms at each softmax of a softmax: past a few, the sum is one factor
      if (terms.length > MAX_TERMS) terms = [{ neg: false, scalars: [], fs: [this.sumOf(terms, sizeOf(this.w.shape(this.v)))] }];
      this.memo.set(x, terms);
    }
    return terms;
  }

  /** How the linear op at x acts on a batch of tangent columns. */
  private rule(x: GraphNode): Term[] {
    const w = this.w;
    const n = w.node(x);
    const ins = n.inputs;
    const dep = ins.map((i) => this.depends(i));
    const shape = w.shape(x);
    if (!vectorLike(shape)) throw this.limit(x, `a matrix ${shapeStr(shape)}`);
    const k = sizeOf(shape);
    const size = (i: GraphNode) => sizeOf(w.shape(i));
    switch (n.op) {
      case 'gmul':
      case 'multiply': {
        if (dep[0] && dep[1]) break;
        const [l, c] = dep[0] ? [ins[0], ins[1]] : [ins[1], ins[0]];
        return this.scaled(this.of(l), c, size(l), k, x);
      }
      case 'divide':
        if (dep[1]) break;
        return this.scaled(this.of(ins[0]), w.div(w.constant(1), ins[1]), size(ins[0]), k, x);
      case 'add':
      case 'subtract':
        return ins.flatMap((i, j) => {
          if (!dep[j]) return [];
          const terms = this.spread(this.of(i), size(i), k, x);
          return n.op === 'subtract' && j === 1 ? negate(terms) : terms;
        });
      case 'unaryMinus':
        return negate(this.of(ins[0]));
      case 'unaryPlus':
      case 'transpose':
        // a vector's entries read the same as a column and as a row
        return this.of(ins[0]);
      case 'subset':
      case 'scatter': {
        const gather = n.attrs.gather!;
        const from = size(ins[0]);
        if (from === k && gather.every((j, i) => j === i)) return this.of(ins[0]);
        // a selection matrix: subset reads entry gather[i] into i; scatter adds entry i into gather[i]
        const data = new Float64Array(k * from);
        gather.forEach((j, i) => (n.op === 'subset' ? (data[i * from + j] = 1) : (data[j * from + i] += 1)));
        return this.left(w.constant({ shape: [k, from], data }), this.of(ins[0]));
      }
      case 'sum':
      case 'mean': {
        const from = size(ins[0]);
        if (from === k) return this.of(ins[0]);
        if (k !== 1) break;
        const terms = this.left(this.ones([1, from]), this.of(ins[0]));
        return n.op === 'mean' ? scale(terms, this.constant(`1/${from}`, [])) : terms;
      }
      case 'dot': {
        const c = dep[0] ? ins[1] : ins[0];
        if (dep[0] && dep[1]) break;
        return this.left(w.transpose(w.reshape(c, [size(c)])), this.of(dep[0] ? ins[0] : ins[1]));
      }
      case 'matmul':
        return this.matmul(x, ins, dep);
      case 'solve':
        if (dep[0]) break;
        return this.left(w.op('inv', [ins[0]]), this.of(ins[1]));
      case 'select': {
        const [c, a, b] = ins;
        if (dep[0]) break;
        const width = sizeOf(w.shape(this.v));
        const branch = (i: number) => (dep[i] ? this.sumOf(this.spread(this.of(ins[i]), size(ins[i]), k, x), width) : w.zeros([k, width]));
        // one condition for the whole vector picks one matrix; a condition per entry picks rows
        if (size(c) === 1) return [{ neg: false, scalars: [], fs: [w.op('select', [w.reshape(c, []), branch(1), branch(2)])] }];
        if (size(c) !== k) break;
        const mask = (yes: number) => w.op('diag', [w.op('select', [w.reshape(c, [k]), w.constant(yes), w.constant(1 - yes)])]);
        return [
          ...(dep[1] ? this.left(mask(1), this.spread(this.of(a), size(a), k, x)) : []),
          ...(dep[2] ? this.left(mask(0), this.spread(this.of(b), size(b), k, x)) : []),
        ];
      }
      case 'stack': {
        // a vector of scalars: Σ e_i·(row i), the rows their batches
        if (ins.some((i) => size(i) !== 1)) break;
        return ins.flatMap((i, j) => {
          if (!dep[j]) return [];
          const e = new Float64Array(k);
          e[j] = 1;
          return this.left(w.constant({ shape: [k], data: e }), this.of(i));
        });
      }
    }
    throw this.limit(x, `${n.op}`);
  }

  /** x = c ⊙ l, c not moving: diag(c)·B, a scalar c times B, or a column c times l's row. */
  private scaled(terms: Term[], c: GraphNode, kl: number, k: number, x: GraphNode): Term[] {
    const w = this.w;
    const kc = sizeOf(w.shape(c));
    if (kc === 1) return scale(this.spread(terms, kl, k, x), w.reshape(c, []));
    if (kc !== k) throw this.limit(x, 'a product that broadcasts into a matrix');
    const col = w.reshape(c, [k]);
    if (kl === k) return this.left(w.op('diag', [col]), terms);
    if (kl === 1) return this.left(col, terms);
    throw this.limit(x, 'a product that broadcasts into a matrix');
  }

  /** l (kl entries) broadcast to k entries: a scalar's row repeated, ones(k)·B. */
  private spread(terms: Term[], kl: number, k: number, x: GraphNode): Term[] {
    if (kl === k) return terms;
    if (kl === 1) return this.left(this.ones([k]), terms);
    throw this.limit(x, 'a broadcast into a matrix');
  }

  private matmul(x: GraphNode, [p, q]: GraphNode[], [dp, dq]: boolean[]): Term[] {
    const w = this.w;
    const sp = w.shape(p);
    const sq = w.shape(q);
    const column = (s: Shape) => s.length === 1 || (s.length === 2 && s[1] === 1);
    if (dp && dq) throw this.limit(x, 'a product of two moving factors');
    const k = sizeOf(w.shape(x));
    // a scalar times a matrix: the matrix's entries times the scalar's row
    if (dq && sq.length === 0) return this.scaled(this.of(q), p, 1, k, x);
    if (dp && sp.length === 0) return this.scaled(this.of(p), q, 1, k, x);
    // P·q with q a column: P·B
    if (dq && column(sq)) return this.left(p, this.of(q));
    // p'·Q with p a row: vec(p'·Q) = Q'·vec(p)
    if (dp && sp.length === 2 && sp[0] === 1) return this.left(w.transpose(q), this.of(p));
    // a column times a row of one entry, or one entry times a row: a scalar factor
    const [l, c] = dp ? [p, q] : [q, p];
    if (sizeOf(w.shape(c)) === 1) return scale(this.of(l), w.reshape(c, []));
    throw this.limit(x, 'a matrix product');
  }

  /** F times each product, on the left, with the identities that keep the book's form. */
  private left(f: GraphNode, terms: Term[]): Term[] {
    return terms.map((t) => ({ ...t, fs: this.push(f, t.fs) }));
  }

  private push(f: GraphNode, fs: GraphNode[]): GraphNode[] {
    const w = this.w;
    if (isIdentity(w, f) || this.isEyeNode.has(f)) return fs;
    const [g, ...rest] = fs;
    if (g === undefined) return [f];
    const diagOf = (x: GraphNode) => {
      const d = w.node(x);
      return d.op === 'diag' && w.shape(d.inputs[0]).length === 1 ? d.inputs[0] : undefined;
    };
    // diag(a)·1 = a; 1'·diag(a) = a'; diag(a)·diag(b) = diag(a ⊙ b)
    const a = diagOf(f);
    const b = diagOf(g);
    if (a !== undefined && this.isOnes(g) && column(w.shape(g))) return [a, ...rest];
    if (b !== undefined && this.isOnes(f) && w.shape(f).length === 2 && w.shape(f)[0] === 1) return [w.transpose(b), ...rest];
    if (a !== undefined && b !== undefined) return this.push(w.op('diag', [w.mul(a, b)]), rest);
    return [f, ...fs];
  }

  /** A sum of products as one matrix node of n columns. */
  private sumOf(given: Term[], n: number): GraphNode {
    const w = this.w;
    const product = (t: Term): GraphNode => {
      let m = t.fs.length === 0 ? this.eye(n) : t.fs.reduce((acc, f) => w.matmul(acc, f));
      for (const s of t.scalars) m = w.mul(s, m);
      return m;
    };
    if (given.length === 0) return w.zeros([n, n]);
    const terms = this.collectDiagonals(given);
    // a right factor every product ends with (the W of softmax(W*x)) is written once: (diag(s) - s*s') * W
    const common = commonSuffix(terms);
    if (common > 0) {
      const inner = this.sumOf(
        terms.map((t) => ({ ...t, fs: t.fs.slice(0, -common) })),
        n,
      );
      return terms[0].fs.slice(-common).reduce((acc, f) => w.matmul(acc, f), inner);
    }
    const first = terms.find((t) => !t.neg) ?? terms[0];
    let acc = first.neg ? w.neg(product(first)) : product(first);
    for (const t of terms) if (t !== first) acc = t.neg ? w.sub(acc, product(t)) : w.add(acc, product(t));
    return acc;
  }

  /** diag(a)·R + diag(b)·R = diag(a + b)·R (the terms of an elementwise op's several partials, x ./ (1 + x)) */
  private collectDiagonals(terms: Term[]): Term[] {
    const w = this.w;
    const out: Term[] = [];
    const byRest = new Map<string, Term>();
    for (const t of terms) {
      const d = t.fs.length > 0 && t.scalars.length === 0 ? w.node(t.fs[0]) : undefined;
      const diagonal = d?.op === 'diag' && w.shape(d.inputs[0]).length === 1;
      const key = diagonal ? t.fs.slice(1).join(',') : undefined;
      const before = key === undefined ? undefined : byRest.get(key);
      if (!diagonal || !before) {
        const copy = { ...t, fs: [...t.fs] };
        out.push(copy);
        if (diagonal) byRest.set(key!, copy);
        continue;
      }
      const a = w.node(before.fs[0]).inputs[0];
      const b = d!.inputs[0];
      before.fs[0] = w.op('diag', [before.neg === t.neg ? w.add(a, b) : w.sub(a, b)]);
    }
    return out;
  }

  private isOnes(x: GraphNode): boolean {
    return this.isOnesNode.has(x) || this.w.isAll(x, 1);
  }

  private limit(x: GraphNode, what: string): AgError {
    const label = this.w.node(x).label;
    return new AgError(
      'unsupported',
      `derive cannot write this Jacobian in closed form: its tangent passes through ${what} (${label.replace(/#\d+$/, '')}); derive writes Jacobians through vector steps, products by what does not move, sums and selections`,
      { hint: "use autograd-cli jacobian for the Jacobian's value at a point" },
    );
  }
}

/** How many factors at the right end all of several products share, each keeping one factor of its own at least. */
function commonSuffix(terms: Term[]): number {
  if (terms.length < 2) return 0;
  const shortest = Math.min(...terms.map((t) => t.fs.length));
  let k = 0;
  while (k < shortest - 1 && terms.every((t) => t.fs[t.fs.length - 1 - k] === terms[0].fs[terms[0].fs.length - 1 - k])) k++;
  return k;
}

function negate(terms: Term[]): Term[] {
  return terms.map((t) => ({ ...t, neg: !t.neg }));
}

function scale(terms: Term[], s: GraphNode): Term[] {
  return terms.map((t) => ({ ...t, scalars: [s, ...t.scalars] }));
}

/** A scalar, a vector, a column or a row: its entries in order are one vector. */
function vectorLike(s: Shape): boolean {
  return s.length < 2 || s[0] === 1 || s[1] === 1;
}

function column(s: Shape): boolean {
  return s.length === 1 || (s.length === 2 && s[1] === 1);
}

function isIdentity(w: TapeWriter, x: GraphNode): boolean {
  const t = w.constValue(x);
  if (t?.shape.length !== 2 || t.shape[0] !== t.shape[1]) return false;
  const n = t.shape[0];
  return t.data.every((d, k) => d === (Math.floor(k / n) === k % n ? 1 : 0));
}
