import { AgError, type Span } from '../errors.js';
import { TableOps } from '../ops/graph-ops.js';
import { getOp } from '../ops/index.js';
import type { Attrs, GraphNode, OpDef } from '../ops/types.js';
import { sameShape, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor.js';
import { compact, nodeKey, outputShape, scalarConstKey, SHARE_ENTRIES, tapeNode, type CallSite, type Tape, type TapeInput, type TapeNode } from './tape.js';

/**
 * THE tape writer, for both writers of tapes: formula lowering (graph/build.ts) and the
 * gradient builder (graph/gradient.ts). Every node is an op of the table, its shape
 * inferred by the op; an identical node is shared (hash-consing by tape.ts `nodeKey`);
 * `finish` prunes to what the roots need and renumbers. A formula's graph keeps every
 * node it writes (`simplify: false`: the lecture's picture has an edge for `x*1`); a
 * derivative's graph is simplified on the way: nodes whose inputs are all constants are
 * computed now, and a few identities (x·1, x + 0, 0·x, (xᵀ)ᵀ) are applied, so the
 * gradient of a formula reads like the one on paper and costs no multiplications by ones.
 *
 * Zero times anything is zero here, as the engines' vjp rules treat a zero upstream
 * gradient ("contributes nothing, even where the partial is infinite"); a product with
 * a conditional whose branch is 0 moves into the conditional, so the branch not taken
 * stays exactly 0 (PyTorch's where-gradient would be NaN there).
 */

export interface AppendLimits {
  /** most nodes in the tape */
  maxNodes: number;
  /** most entries in one tensor */
  maxEntries: number;
  /** most bytes for `arenaCopies` arena-sized buffers */
  maxMemory: number;
  /** arena-sized buffers the run after the build holds (values, adjoint, work copies) */
  arenaCopies: number;
}

export const DEFAULT_APPEND_LIMITS: AppendLimits = { maxNodes: 200_000, maxEntries: 50_000_000, maxMemory: 4 * 1024 ** 3, arenaCopies: 3 };

/** Where a node was written: its place in the formula, the caret of a shape error, the inline expansion that made it. */
export interface NodeSite {
  span?: Span;
  /** where a shape error points (the operator or function name), and the operator's symbol */
  caret?: Span;
  symbol?: string;
  call?: CallSite;
}

/** How a writer writes: the formula builder's choices; the defaults are the gradient builder's. */
export interface WriterPolicy {
  /** apply identities and compute nodes whose inputs are all constants (default true) */
  simplify?: boolean;
  /** the longest attribute (an index list) compared when sharing nodes other than constants (default SHARE_ENTRIES) */
  shareEntries?: number;
  /** labels `sin`, `sin#2` counted per op (a formula's), instead of `sin#<id>` */
  countLabels?: boolean;
  /** before a node is allocated: its entries, or an error when it does not fit (default: the AppendLimits) */
  admit?: (op: string, shape: Shape, inputs: readonly number[], site: NodeSite | undefined) => number;
  /** the error for an op that refuses its inputs' shapes (default: a bug in a derivative rule) */
  shapeError?: (op: string, inputs: readonly number[], message: string, rank: boolean, site: NodeSite | undefined) => Error;
}

export class TapeWriter extends TableOps {
  private nodes: TapeNode[];
  private memo = new Map<string, number>();
  /** constants whose value is written into the arena at run time: never folded or shared */
  private slots = new Set<number>();
  /** constants folded from a tensor constant (sum(ones(3)) is 3): numbers that hold for these shapes only */
  private sized = new Set<number>();
  private inputs: TapeInput[];
  private arena: number;
  private limits: AppendLimits;
  private simplify: boolean;
  private shareEntries: number;
  /** labels given so far, per op label (countLabels) */
  private counts = new Map<string, number>();

  constructor(
    private base: Tape,
    limits: Partial<AppendLimits> = {},
    private policy: WriterPolicy = {},
  ) {
    super();
    this.nodes = base.nodes.slice();
    this.inputs = base.inputs.slice();
    this.arena = base.arenaSize;
    this.limits = { ...DEFAULT_APPEND_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
    this.simplify = policy.simplify ?? true;
    this.shareEntries = policy.shareEntries ?? SHARE_ENTRIES;
    for (const n of this.nodes) {
      const key = this.key(n.op, n.inputs, n.attrs);
      if (key !== null && !this.memo.has(key)) this.memo.set(key, n.id);
      // a number counting entries keeps its mark in a tape written on from this one (a Hessian's)
      if (n.op === 'const' && n.attrs.sized) this.sized.add(n.id);
    }
  }

  /** A writer for a tape of its own (tests, graphs built op by op, and formula lowering with its policy). */
  static empty(source = '', limits: Partial<AppendLimits> = {}, policy: WriterPolicy = {}): TapeWriter {
    return new TapeWriter({ source, nodes: [], output: -1, inputs: [], indexVars: [], arenaSize: 0 }, limits, policy);
  }

  /** The sharing key of a node (constants are compared up to SHARE_ENTRIES entries: a larger one's key would be a copy many times its size). */
  private key(op: string, inputs: readonly number[], attrs: Attrs): string | null {
    return nodeKey(op, inputs, attrs, op === 'const' ? SHARE_ENTRIES : this.shareEntries);
  }

  /** The node already written for this op, inputs and attributes, if any. */
  existing(op: string, inputs: readonly number[], attrs: Attrs): GraphNode | undefined {
    const key = this.key(op, inputs, attrs);
    return key === null ? undefined : this.memo.get(key);
  }

  /** Entries of the arena so far. */
  get arenaSize(): number {
    return this.arena;
  }

  /** The variables so far, in order of first appearance. */
  get variables(): readonly TapeInput[] {
    return this.inputs;
  }

  node(id: GraphNode): TapeNode {
    return this.nodes[id];
  }

  get size(): number {
    return this.nodes.length;
  }

  shape(x: GraphNode): Shape {
    return this.nodes[x].shape;
  }

  /** A differentiable variable (a tape input); `value` when the caller has it (its shape is the node's). */
  input(name: string, shape: Shape, value?: Tensor, site?: NodeSite): GraphNode {
    const id = this.push('input', [], { value: value ?? { shape, data: new Float64Array(sizeOf(shape)) } }, shape, name, site);
    this.nodes[id].active = true;
    this.inputs.push({ name, node: id, shape });
    return id;
  }

  /** Node `id` made the input `name` holding `value` (a named step cut out as a variable); a variable that was that node gives it up. */
  cutAsInput(id: GraphNode, name: string, value: Tensor): void {
    this.inputs = this.inputs.filter((i) => i.node !== id);
    Object.assign(this.nodes[id], { op: 'input', inputs: [], attrs: { value }, label: name, name, active: true });
    this.inputs.push({ name, node: id, shape: this.nodes[id].shape });
  }

  /** Variable `name` held fixed at `value`: a constant from now on, no longer an input of the tape. */
  holdFixed(name: string, value: Tensor): void {
    const inp = this.inputs.find((i) => i.name === name);
    if (!inp) return;
    this.inputs = this.inputs.filter((i) => i !== inp);
    Object.assign(this.nodes[inp.node], { op: 'const', attrs: { value } });
  }

  /** A constant whose value the caller writes into the arena before each run (a direction, a seed). */
  slot(shape: Shape, label = 'v'): GraphNode {
    const id = this.push('const', [], { value: { shape, data: new Float64Array(sizeOf(shape)) } }, shape, label);
    this.slots.add(id);
    return id;
  }

  /** A constant, shared by value; `label` names a new node (default: its value to 12 digits, or `const[m,n]`). */
  constant(v: number | Tensor, site?: NodeSite, label?: (t: Tensor) => string): GraphNode {
    // a number's key is known before its tensor is made: a number written before makes none
    const key = typeof v === 'number' ? scalarConstKey(v) : this.key('const', [], { value: v });
    const hit = key === null ? undefined : this.memo.get(key);
    if (hit !== undefined) return hit;
    const t: Tensor = typeof v === 'number' ? { shape: [], data: Float64Array.of(v) } : v;
    const attrs = { value: t };
    const text = label ? label(t) : t.shape.length === 0 ? String(Number(t.data[0].toPrecision(12))) : `const${shapeStr(t.shape)}`;
    const id = this.push('const', [], attrs, t.shape, text, site);
    if (key !== null) this.memo.set(key, id);
    return id;
  }

  /**
   * A number counting entries of these shapes (mean's 1/N), marked (see `isSized`): a node of
   * its own, never shared with the same number written plainly (a mark on the 1 every
   * identity folds would stop x·1 from folding; a literal would read as shape-specific).
   */
  override shapeNumber(v: number): GraphNode {
    const attrs: Attrs = { value: { shape: [], data: Float64Array.of(v) }, sized: true };
    const key = this.key('const', [], attrs);
    const hit = key === null ? undefined : this.memo.get(key);
    if (hit !== undefined) return hit;
    const id = this.push('const', [], attrs, [], String(Number(v.toPrecision(12))));
    if (key !== null) this.memo.set(key, id);
    this.sized.add(id);
    return id;
  }

  /** A constant derived by an identity from `from`: marked when any of them is (a number of these shapes stays one). */
  private derived(v: number, ...from: GraphNode[]): GraphNode {
    return from.some((x) => this.sized.has(x)) ? this.shapeNumber(v) : this.constant(v);
  }

  /** x is not a number counting entries: an identity may drop it (a marked 1 stays a factor, so its mark reaches the printed text). */
  private plain(x: GraphNode): boolean {
    return !this.sized.has(x);
  }

  zeros(shape: Shape): GraphNode {
    return this.constant({ shape, data: new Float64Array(sizeOf(shape)) });
  }

  /** The constant value of x when it is a constant (not a slot), else undefined. */
  constValue(x: GraphNode): Tensor | undefined {
    const n = this.nodes[x];
    return n.op === 'const' && !this.slots.has(x) ? n.attrs.value : undefined;
  }

  /** x is a constant with every entry equal to v. */
  isAll(x: GraphNode, v: number): boolean {
    const t = this.constValue(x);
    return !!t && t.data.every((d) => d === v);
  }

  /** The one value of a constant tensor (rank ≥ 1) whose entries are all equal, else undefined. */
  private uniform(x: GraphNode): number | undefined {
    const t = this.constValue(x);
    if (!t || t.shape.length === 0) return undefined;
    const v = t.data[0];
    return t.data.every((d) => d === v) ? v : undefined;
  }

  isZero(x: GraphNode): boolean {
    return this.isAll(x, 0);
  }

  /** A node of op `name` (any op of the table): shared when written before, else shaped by the op and written at `site`. */
  op(name: string, inputs: GraphNode[], attrs: Attrs = {}, site?: NodeSite): GraphNode {
    const def = getOp(name);
    const key = this.key(name, inputs, attrs);
    // without identities a node written before is the answer, its shape known (looked up once: nothing is written before the push)
    if (!this.simplify && key !== null) {
      const known = this.memo.get(key);
      if (known !== undefined) return known;
    }
    const shapes: Shape[] = [];
    for (const i of inputs) shapes.push(this.nodes[i].shape);
    const out = outputShape(def, shapes, attrs);
    if ('error' in out) {
      if (this.policy.shapeError) throw this.policy.shapeError(name, inputs, out.error, !!out.rank, site);
      // a derivative rule that builds a badly shaped node is a bug in the op table
      throw new Error(`gradient graph: ${name}(${inputs.map((i) => shapeStr(this.nodes[i].shape)).join(', ')}): ${out.error}`);
    }
    const { shape } = out;
    if (this.simplify) {
      const folded = this.fold(name, inputs, attrs, shape);
      if (folded !== undefined) return folded;
      const hit = key === null ? undefined : this.memo.get(key);
      if (hit !== undefined) return hit;
    }
    let id: number;
    if (this.simplify && inputs.length > 0 && inputs.every((i) => this.constValue(i) !== undefined)) {
      // every input is known now: so is the result
      const out = new Float64Array(this.entries(name, shape));
      def.forward(
        inputs.map((i) => this.constValue(i)!),
        attrs,
        out,
      );
      // a number computed from a tensor or from a marked number counts entries of these shapes too
      const sized = inputs.some((i) => this.shape(i).length > 0 || this.sized.has(i));
      id = sized && shape.length === 0 ? this.shapeNumber(out[0]) : this.constant({ shape, data: out });
      if (sized) this.sized.add(id);
    } else {
      id = this.push(name, inputs, attrs, shape, undefined, site, def);
      const n = this.nodes[id];
      n.active = !def.constantOutput && inputs.some((i) => this.nodes[i].active);
    }
    if (key !== null) this.memo.set(key, id);
    return id;
  }

  /**
   * The same entries in another shape of the same size. Vectors are columns, so [n],
   * [n,1] and [1,n] hold the same data; the moves are the op that says so (transpose),
   * and a gather in entry order for anything else (a sum keeps its dimension, so it
   * never turns [n,1] into [n]; derive prints such a gather as its argument).
   */
  reshape(a: GraphNode, shape: Shape): GraphNode {
    const from = this.shape(a);
    if (sameShape(from, shape)) return a;
    const size = sizeOf(shape);
    if (sizeOf(from) !== size) throw new Error(`gradient graph: cannot reshape ${shapeStr(from)} to ${shapeStr(shape)}`);
    if (shape.length === 0) return this.sum(a);
    if (from.length === 0) return this.mul(a, this.constant({ shape, data: new Float64Array(size).fill(1) }));
    const isRow = (s: Shape) => s.length === 2 && s[0] === 1;
    const isCol = (s: Shape) => s.length === 2 && s[1] === 1;
    // [n] → [1,n], [1,n] ↔ [n,1]
    if ((from.length === 1 && isRow(shape)) || (isRow(from) && isCol(shape)) || (isCol(from) && isRow(shape))) {
      if (size > 1 || !isRow(from)) return this.transpose(a);
    }
    return this.op('subset', [a], { gather: Int32Array.from({ length: size }, (_, k) => k), outShape: shape });
  }

  /** x broadcast to `shape` by the same rules as the elementwise ops (a tangent of a broadcast input). */
  broadcastTo(x: GraphNode, shape: Shape): GraphNode {
    const from = this.shape(x);
    if (sameShape(from, shape)) return x;
    if (sizeOf(from) === sizeOf(shape)) return this.reshape(x, shape);
    return this.mul(x, this.constant({ shape, data: new Float64Array(sizeOf(shape)).fill(1) }));
  }

  /** Undo a broadcast: sum c (shaped like a broadcast result) back onto `shape`, written once for every rule. */
  sumTo(c: GraphNode, shape: Shape): GraphNode {
    const from = this.shape(c);
    if (sameShape(from, shape)) return c;
    const size = sizeOf(shape);
    if (sizeOf(from) === size) return this.reshape(c, shape);
    if (size === 1) return this.reshape(this.sum(c), shape);
    // c is a matrix [R,C]; the input, aligned on trailing dimensions, is [r,k] with r or k = 1
    const padded = shape.length === 1 ? [1, shape[0]] : shape;
    const [R, C] = from.length === 2 ? from : [1, from[0]];
    let s = c;
    if (padded[0] === 1 && R > 1) s = this.sum(s, 0);
    else if (padded[1] === 1 && C > 1) s = this.sum(s, 1);
    return this.reshape(s, shape);
  }

  /**
   * The tape with the appended nodes, pruned to what `output` and `keep` depend on
   * (the tape inputs always stay), renumbered in the same order with a packed arena.
   * `ids` maps a node of this writer to its id in the new tape (-1 when pruned).
   */
  finish(
    output: GraphNode,
    keep: GraphNode[] = [],
    extra: Partial<Pick<Tape, 'source' | 'indexVars' | 'unusedParams' | 'shadowed' | 'notation'>> = {},
  ): { tape: Tape; ids: Int32Array } {
    const { nodes, ids, arenaSize } = compact(this.nodes, [output, ...keep, ...this.inputs.map((i) => i.node)]);
    // call sites name their argument nodes: renumbered once each (copies: the sites of the tape written from stay as they are)
    const sites = new Map<CallSite, CallSite>();
    const site = (s: CallSite | undefined): CallSite | undefined => {
      if (!s) return undefined;
      let copy = sites.get(s);
      if (!copy) {
        copy = { ...s, args: s.args.map((j) => (j >= 0 ? ids[j] : -1)), parent: site(s.parent) };
        if (!copy.parent) delete copy.parent;
        sites.set(s, copy);
      }
      return copy;
    };
    for (const n of nodes) {
      if (n.call) n.call = site(n.call);
      if (n.callRoot) n.callRoot = site(n.callRoot);
      // a variable held fixed or a step cut out changed what depends on the inputs
      n.active = n.op === 'input' || (!getOp(n.op).constantOutput && n.inputs.some((i) => nodes[i].active));
    }
    const tape: Tape = {
      ...this.base,
      ...extra,
      nodes,
      output: ids[output],
      inputs: this.inputs.map((i) => ({ ...i, node: ids[i.node] })),
      arenaSize,
    };
    return { tape, ids };
  }

  /** Make x, a constant of the base tape, a slot: its value may change between runs (a direction, a fixed variable). */
  markSlot(x: GraphNode): void {
    const n = this.nodes[x];
    const key = nodeKey(n.op, n.inputs, n.attrs);
    if (key !== null && this.memo.get(key) === x) this.memo.delete(key);
    this.slots.add(x);
  }

  /** Whether x is a constant folded from a tensor constant: its value depends on the shapes (derive says so). */
  isSized(x: GraphNode): boolean {
    return this.sized.has(x);
  }

  /** Whether x is a slot (see `slot`). */
  isSlot(x: GraphNode): boolean {
    return this.slots.has(x);
  }

  // ----- identities applied while appending -----

  private fold(name: string, [a, b, c]: GraphNode[], _attrs: Attrs, shape: Shape): GraphNode | undefined {
    const fits = (x: GraphNode) => sameShape(this.shape(x), shape);
    const zero = () => this.zeros(shape);
    switch (name) {
      // upstream × partial folds as a product: its guard (0 stays 0) matters only at run time
      case 'gmul':
      case 'multiply':
        if (this.isZero(a) || this.isZero(b)) return zero();
        if (this.isAll(b, 1) && this.plain(b) && fits(a)) return a;
        if (this.isAll(a, 1) && this.plain(a) && fits(b)) return b;
        if (this.isAll(b, -1) && this.plain(b) && fits(a)) return this.neg(a);
        if (this.isAll(a, -1) && this.plain(a) && fits(b)) return this.neg(b);
        // a constant tensor of one value beside an operand of the result's shape is that value (2·ones(m,n) ⊙ X = 2·X)
        if (this.uniform(b) !== undefined && fits(a)) return this.mul(a, this.derived(this.uniform(b)!, b));
        if (this.uniform(a) !== undefined && fits(b)) return this.mul(this.derived(this.uniform(a)!, a), b);
        return this.intoBranches(a, (x) => this.mul(x, b)) ?? this.intoBranches(b, (x) => this.mul(a, x));
      case 'divide':
        if (this.isZero(a)) return zero();
        if (this.isAll(b, 1) && this.plain(b) && fits(a)) return a;
        if (this.uniform(b) !== undefined && fits(a)) return this.div(a, this.derived(this.uniform(b)!, b));
        if (this.uniform(a) !== undefined && fits(b)) return this.div(this.derived(this.uniform(a)!, a), b);
        return this.intoBranches(a, (x) => this.div(x, b));
      case 'add':
        if (this.isZero(a) && fits(b)) return b;
        if (this.isZero(b) && fits(a)) return a;
        // a + (−x) = a − x
        if (this.nodes[b].op === 'unaryMinus') return this.sub(a, this.nodes[b].inputs[0]);
        if (this.nodes[a].op === 'unaryMinus') return this.sub(b, this.nodes[a].inputs[0]);
        return undefined;
      case 'subtract':
        if (this.isZero(b) && fits(a)) return a;
        if (this.isZero(a) && fits(b)) return this.neg(b);
        // a − (−x) = a + x
        if (this.nodes[b].op === 'unaryMinus') return this.add(a, this.nodes[b].inputs[0]);
        return undefined;
      case 'exp': {
        // exp(logsoftmax(z)) = softmax(z), along the same lanes
        const n = this.nodes[a];
        if (n.op === 'logsoftmax') return this.op('softmax', n.inputs, n.attrs);
        return undefined;
      }
      case 'unaryMinus': {
        const n = this.nodes[a];
        if (n.op === 'unaryMinus') return n.inputs[0];
        return this.intoBranches(a, (x) => this.neg(x));
      }
      case 'pow':
        if (this.isAll(b, 1) && this.plain(b) && fits(a)) return a;
        return undefined;
      case 'select': {
        const cond = this.constValue(a);
        if (cond?.data.every((v) => v !== 0) && fits(b)) return b;
        if (cond?.data.every((v) => v === 0) && fits(c)) return c;
        if (this.isZero(b) && this.isZero(c)) return zero();
        // (x > 0) != 0 is x > 0: comparisons are 0 or 1 already
        const t = this.nodes[a];
        if (t.op === 'unequal' && this.isZero(t.inputs[1]) && getOp(this.nodes[t.inputs[0]].op).family === 'compare' && fits(t.inputs[0])) {
          return this.op('select', [t.inputs[0], b, c]);
        }
        return undefined;
      }
      case 'transpose': {
        const n = this.nodes[a];
        if (n.op === 'transpose' && sameShape(this.shape(n.inputs[0]), shape)) return n.inputs[0];
        return undefined;
      }
      case 'matmul':
        if (this.isZero(a) || this.isZero(b)) return zero();
        return undefined;
      case 'sum':
        // a sum of a scalar, or along a side of length 1 (it keeps its dimension), is its argument
        if (fits(a)) return a;
        return undefined;
      default:
        return undefined;
    }
  }

  /**
   * f applied in each branch of x = (c ? u : v) when a branch is a constant (0 stays exactly
   * 0; g·(c ? 1 : 0) is c ? g : 0, the conditional a partial like relu's says in words).
   */
  private intoBranches(x: GraphNode, f: (branch: GraphNode) => GraphNode): GraphNode | undefined {
    const n = this.nodes[x];
    if (n.op !== 'select') return undefined;
    const [c, u, v] = n.inputs;
    const known = (b: GraphNode) => this.constValue(b) !== undefined || this.nodes[b].op === 'select';
    if (!(this.constValue(u) !== undefined && known(v)) && !(this.constValue(v) !== undefined && known(u))) return undefined;
    return this.op('select', [c, this.isZero(u) ? u : f(u), this.isZero(v) ? v : f(v)]);
  }

  private entries(op: string, shape: Shape): number {
    const size = sizeOf(shape);
    if (size > this.limits.maxEntries) {
      throw new AgError(
        'limit',
        `the derivative's graph would make a tensor ${shapeStr(shape)} of ${size} entries (${op}); the limit is ${this.limits.maxEntries} (--max-entries)`,
      );
    }
    return size;
  }

  /** The default admission of a node: --max-entries, --max-nodes, --max-memory for the derivative's graph. */
  private admit(op: string, shape: Shape): number {
    const size = this.entries(op, shape);
    if (this.nodes.length >= this.limits.maxNodes) {
      throw new AgError('limit', `the derivative's graph has more than ${this.limits.maxNodes} nodes (--max-nodes)`);
    }
    const bytes = (this.arena + size) * 8 * this.limits.arenaCopies;
    if (bytes > this.limits.maxMemory) {
      throw new AgError(
        'limit',
        `the derivative's graph would need about ${(bytes / 1024 ** 3).toPrecision(3)} GiB of buffers; the limit is ${(this.limits.maxMemory / 1024 ** 3).toPrecision(3)} GiB (--max-memory)`,
      );
    }
    return size;
  }

  private push(op: string, inputs: number[], attrs: Attrs, shape: Shape, label?: string, site?: NodeSite, def?: OpDef): number {
    const size = this.policy.admit ? this.policy.admit(op, shape, inputs, site) : this.admit(op, shape);
    const id = this.nodes.length;
    // the op's label only when the node has none given (a constant has its value)
    if (label === undefined) {
      const base = (def ?? getOp(op)).label ?? op;
      if (this.policy.countLabels) {
        const count = (this.counts.get(base) ?? 0) + 1;
        this.counts.set(base, count);
        label = count === 1 ? base : `${base}#${count}`;
      } else label = `${base}#${id}`;
    }
    this.nodes.push(tapeNode({ op, shape, size, attrs, label, span: site?.span, call: site?.call, active: false }, id, inputs, this.arena));
    this.arena += size;
    return id;
  }
}
