import { AgError, type Span } from '../errors.js';
import {
  checkDeadline,
  checkEntries,
  ENTRY_BYTES,
  limitName,
  limitsFrom,
  memoryError,
  OUTPUT_BYTES_PER_ENTRY,
  RUN_ARENA_COPIES,
  type Limits,
} from '../limits.js';
import { orientationClash } from '../ops/broadcast.js';
import { FORBIDDEN_FUNCTIONS, FORMULA_FUNCTIONS, getOp, isFunctionName, type LowerContext } from '../ops/index.js';
import type { ArgExpr } from '../ops/functions.js';
import type { Attrs } from '../ops/types.js';
import type { Expr, IndexDim, Program } from '../parse/ast.js';
import { freeVariables } from '../parse/free.js';
import { CONSTANTS } from '../parse/parse.js';
import { scalar, shapeStr, sizeOf, type Tensor } from '../tensor.js';
import { closest } from './suggest.js';
import type { Rng } from '../random.js';
import { TapeWriter, type NodeSite } from './append.js';
import type { CallSite, Tape, TapeNode, UnusedParam } from './tape.js';

/**
 * What the run that follows the build will allocate, so the build can refuse a graph
 * whose run would not fit in --max-memory before anything large exists. The estimate
 * (see `planBytes`) counts the values given, the constants, `arenaCopies` arena-sized
 * buffers, every edge's contribution when edges are recorded, and the text of every
 * entry when tensors are printed in full.
 */
export interface MemoryPlan {
  /** arena-sized buffers the run holds at its peak, the arena included */
  arenaCopies: number;
  /** copies of the values given the run holds, the values included */
  valueCopies: number;
  /** per-edge contributions are kept (grad's edge table, graph) */
  edges: boolean;
  /** every entry is printed (--edges full) */
  fullOutput: boolean;
  /** entries the caller holds besides the values given (value expressions evaluated so far) */
  extraEntries?: number;
}

/**
 * A gradient run: the arena-sized copies of limits.ts RUN_ARENA_COPIES, edges recorded,
 * and values-sized copies: the values, the gradient gathered from the adjoint, the
 * gradient as nested arrays for the result, a random direction of the check.
 */
export const GRAD_PLAN: MemoryPlan = { arenaCopies: RUN_ARENA_COPIES, valueCopies: 4, edges: true, fullOutput: false };
/** Evaluating a value or an expected formula: the arena and the result's copy. */
export const VALUE_PLAN: MemoryPlan = { arenaCopies: 2, valueCopies: 1, edges: false, fullOutput: false };

/** Bytes a run over a graph of these sizes holds (the estimate made before allocating). */
export function planBytes(plan: MemoryPlan, s: { values: number; consts: number; arena: number; edges: number }): number {
  const entries = s.values * plan.valueCopies + (plan.extraEntries ?? 0) + s.consts + s.arena * plan.arenaCopies + (plan.edges ? s.edges : 0);
  const shown = plan.fullOutput ? (s.arena * 2 + (plan.edges ? s.edges * 3 : 0)) * OUTPUT_BYTES_PER_ENTRY : 0;
  return entries * ENTRY_BYTES + shown;
}

export interface BuildOptions {
  /** allow randn/rand (value expressions only), drawing from this generator */
  rng?: Rng;
  /** differentiate only with respect to these (default: every variable) */
  wrt?: string[];
  /** nodes, expansion work, entries, memory (the defaults when not given) */
  limits?: Limits;
  /** what the run after the build allocates (default: a gradient run) */
  plan?: MemoryPlan;
  /**
   * Named steps cut out as inputs holding these values: the step's node becomes an input
   * (every use of it reads the input), so reverse mode gives ∂f/∂(step), the adjoint
   * arriving at that node, and finite differences perturb the step itself; the nodes
   * that only fed it fall away. Each must be a different node (see `buildSteps`).
   */
  cut?: Record<string, Tensor>;
  /** named steps whose nodes are kept (and reported by `buildSteps`) even where the output does not use them */
  keep?: string[];
}

type Call = Extract<Expr, { k: 'call' }>;

interface Def {
  params: string[];
  body: Expr;
  /** parameters the body never reads: what is passed for them still counts (gradient 0), with a note */
  unread: string[];
}

/** Formula + values → tape. Shapes come from the values; every error points at the formula. */
export function buildTape(program: Program, values: Record<string, Tensor>, opts: BuildOptions = {}): Tape {
  return buildSteps(program, values, opts).tape;
}

/**
 * The tape, and the node of each named step in it (`opts.keep`: steps kept even where
 * the output does not use them). Two steps that are the same expression are one node.
 */
export function buildSteps(program: Program, values: Record<string, Tensor>, opts: BuildOptions = {}): { tape: Tape; steps: Record<string, number> } {
  try {
    return new Builder(program, values, opts).build();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new AgError(
        'limit',
        `the formula, its inline functions expanded, nests more deeply than can be built; the limit is ${limitsFrom(opts.limits).maxDepth} levels (--max-depth)`,
        { source: program.source },
      );
    }
    if (e instanceof AgError) throw e.withSource(program.source);
    throw e;
  }
}

/**
 * Lowering: the formula's syntax (spans, named steps, inline functions and their call
 * sites, index variables) turned into requests to the one tape writer (graph/append.ts),
 * which makes, shapes, shares and prunes the nodes. A formula's graph is not simplified:
 * every node written is a node of the picture.
 */
class Builder {
  w: TapeWriter;
  private unusedParams: UnusedParam[] = [];
  private indexVars = new Set<string>();
  readonly defs = new Map<string, Def>();
  private callStack: { name: string; span: Span; site: CallSite }[] = [];
  private limits: Limits;
  private plan: MemoryPlan;
  /** entries of constants (held in the tape besides their arena copy) */
  private consts = 0;
  /** entries of every edge's contribution (an upper bound: before pruning) */
  private edgeEntries = 0;
  /** entries of the values given */
  private valueEntries = 0;
  /** steps of work: expression nodes visited, every inline expansion counted again */
  private work = 0;

  constructor(
    private program: Program,
    readonly values: Record<string, Tensor>,
    readonly opts: BuildOptions,
  ) {
    this.limits = limitsFrom(opts.limits);
    this.plan = opts.plan ?? GRAD_PLAN;
    for (const name of Object.keys(values)) this.valueEntries += values[name].data.length;
    this.w = TapeWriter.empty(
      program.source,
      {},
      {
        simplify: false,
        // an index list of any length is compared: v[1:n] written twice is one node
        shareEntries: Infinity,
        countLabels: true,
        admit: (op, shape, inputs, site) => this.admit(op, shape, inputs, site?.span),
        shapeError: (op, inputs, msg, rank, site) =>
          rank
            ? new AgError('shape', msg, { span: site?.span })
            : this.shapeError(op, inputs, msg, site?.span, site?.caret ? { caret: site.caret, symbol: site.symbol } : undefined),
      },
    );
  }

  /** the site of the node being written (one object, refilled: the writer reads it only while writing) */
  private at: NodeSite = {};

  /** Where a node is written: its span, the caret of a shape error, the inline expansion being built. */
  private site(span: Span | undefined, where?: { caret: Span; symbol?: string }): NodeSite {
    const at = this.at;
    at.span = span;
    at.caret = where?.caret;
    at.symbol = where?.symbol;
    at.call = this.callStack[this.callStack.length - 1]?.site;
    return at;
  }

  /** A node about to be written: --max-nodes, then its entries and memory (see reserve), the deadline. */
  private admit(op: string, shape: readonly number[], inputs: readonly number[], span: Span | undefined): number {
    if (this.w.size >= this.limits.maxNodes) {
      throw new AgError('limit', `the graph has more than ${this.limits.maxNodes} nodes (--max-nodes)`, { span });
    }
    const constant = op === 'const';
    const edges = this.edgesOf(inputs);
    const size = this.reserve(op, shape, constant, span, edges);
    this.edgeEntries += edges;
    if (constant) this.consts += size;
    checkDeadline();
    return size;
  }

  /** One step of building: counted against --max-expansion, and the deadline checked. */
  private step(span: Span): void {
    if (++this.work > this.limits.maxExpansion) {
      const outer = this.callStack[0];
      const chain =
        this.callStack.length > 1
          ? ` (inline functions expand ${this.callStack
              .slice(0, 4)
              .map((c) => c.name)
              .join(' → ')}${this.callStack.length > 4 ? ' → …' : ''})`
          : outer
            ? ` (expanding ${outer.name})`
            : '';
      throw new AgError('limit', `building the graph takes more than ${this.limits.maxExpansion} steps${chain} (${limitName('maxExpansion')})`, {
        span: outer?.span ?? span,
        hint: outer ? 'each call of an inline function builds its body again; a function that calls another twice doubles the work at every level' : undefined,
      });
    }
    checkDeadline();
  }

  /** Entries of the contributions along the edges into a node with these inputs (each input's size). */
  private edgesOf(inputs: readonly number[]): number {
    let edges = 0;
    for (const i of inputs) edges += this.w.node(i).size;
    return edges;
  }

  /**
   * Refuse a tensor of `shape` before it is allocated: over --max-entries, or over
   * --max-memory with everything the run would hold (see MemoryPlan). `constant`: the
   * node keeps its data besides the arena; `edges`: the entries of its edges' contributions.
   */
  reserve(what: string, shape: readonly number[], constant: boolean, span?: Span, edges = 0): number {
    let size: number;
    try {
      size = checkEntries(what, shape, this.limits);
    } catch (e) {
      throw e instanceof AgError ? new AgError(e.code, e.message, { span }) : e;
    }
    const bytes = planBytes(this.plan, {
      values: this.valueEntries,
      consts: this.consts + (constant ? size : 0),
      arena: this.w.arenaSize + size,
      edges: this.edgeEntries + edges,
    });
    if (bytes > this.limits.maxMemory) {
      const err = memoryError(
        bytes,
        this.plan === GRAD_PLAN || this.plan.edges ? 'the run (values, arena, adjoint, edge contributions and finite-difference copies)' : 'evaluating it',
        this.limits,
      );
      throw new AgError('limit', err.message, { span });
    }
    return size;
  }

  build(): { tape: Tape; steps: Record<string, number> } {
    let scope = new Map<string, number>();
    let output = -1;
    const stepNodes = new Map<string, number>();
    for (const st of this.program.stmts) {
      if (st.k === 'def') {
        this.defs.set(st.name, { params: st.params, body: st.body, unread: unreadParams(st.params, st.body) });
        continue;
      }
      const id = this.expr(st.expr, scope);
      if (st.k === 'assign') {
        this.noteShadow(st.name, 'the step');
        stepNodes.set(st.name, id);
        scope = new Map(scope).set(st.name, id);
        const node = this.w.node(id);
        // a named step labels its node (the first name wins when two steps are the same node)
        if (node.op !== 'input' && !this.namedNodes.has(id)) {
          this.namedNodes.add(id);
          node.label = st.name;
          node.name = st.name;
        }
      }
      output = id;
    }
    const roots: number[] = [];
    for (const [name, value] of Object.entries(this.opts.cut ?? {})) roots.push(this.cutAt(name, stepNodes.get(name), value));
    for (const name of this.opts.keep ?? []) {
      const id = stepNodes.get(name);
      if (id !== undefined) roots.push(id);
    }
    const wrt = this.opts.wrt;
    const variables = this.w.variables;
    if (wrt) {
      for (const w of wrt) {
        if (!variables.some((i) => i.name === w)) {
          throw new AgError('usage', `--wrt ${w}: there is no variable ${w} in the formula`, {
            hint: variables.length ? `the variables are ${variables.map((i) => i.name).join(', ')}` : undefined,
          });
        }
      }
      // variables we do not differentiate become constants of the tape
      for (const inp of variables.filter((i) => !wrt.includes(i.name))) this.w.holdFixed(inp.name, this.values[inp.name]);
    }
    // only what the output and the kept steps need remains (a named step nobody uses is not part of
    // the graph); every variable stays, one the output does not use reported with gradient 0
    const { tape, ids } = this.w.finish(output, roots, {
      indexVars: [...this.indexVars],
      ...(this.unusedParams.length ? { unusedParams: this.unusedParams } : {}),
      ...(this.shadowed.size ? { shadowed: [...this.shadowed] } : {}),
      ...(this.notation.size ? { notation: [...this.notation] } : {}),
    });
    const steps: Record<string, number> = Object.create(null);
    for (const [name, id] of stepNodes) if (ids[id] >= 0) steps[name] = ids[id];
    return { tape, steps };
  }

  private namedNodes = new Set<number>();
  private shadowed = new Set<string>();
  /** calls written in a form that reads two ways (LowerContext.note) */
  readonly notation = new Set<string>();

  /** A step or variable named like a constant or a function (micrograd's e, CS231n's dot) shadows it: say so once. */
  private noteShadow(name: string, what: 'the step' | 'the variable'): void {
    if (name in CONSTANTS) this.shadowed.add(`${what} ${name} shadows the constant ${name} (${Number(CONSTANTS[name].toPrecision(6))})`);
    else if (isFunctionName(name)) this.shadowed.add(`${what} ${name} shadows the name of the function ${name}; ${name}(…) still calls the function`);
  }

  /** The node of step `name` made an input holding `value` (see BuildOptions.cut). */
  private cutAt(name: string, id: number | undefined, value: Tensor): number {
    if (id === undefined) throw new AgError('usage', `there is no step ${name} in the formula`);
    const node = this.w.node(id);
    if (shapeStr(value.shape) !== shapeStr(node.shape))
      throw new AgError('shape', `the value for step ${name} has shape ${shapeStr(value.shape)}, but the step has shape ${shapeStr(node.shape)}`);
    // a step that is a variable (q = x) takes the variable's place
    this.w.cutAsInput(id, name, value);
    return id;
  }

  // ----- nodes -----

  add(op: string, inputs: number[], attrs: Attrs, span: Span | undefined, where?: { caret: Span; symbol?: string }): number {
    return this.w.op(op, inputs, attrs, this.site(span, where));
  }

  constNode(t: Tensor | number, span?: Span): number {
    const before = this.w.size;
    const id = this.w.constant(t, this.site(span), constLabel);
    // a constant written before (shared) is labelled again, as a new one is
    if (this.w.size === before) this.w.node(id).label = constLabel(t);
    return id;
  }

  private inputNode(name: string, span: Span): number {
    const existing = this.w.variables.find((i) => i.name === name);
    if (existing) return existing.node;
    if (this.indexVars.has(name)) {
      throw new AgError('index', `${name} is used both as an index and as a differentiable variable`, { span });
    }
    const value = this.values[name];
    return this.w.input(name, value.shape, value, this.site(span));
  }

  /** `W*x: [3,4] * [3] — inner dimensions differ (4 and 3)`, caret under the operator. */
  private shapeError(op: string, inputs: readonly number[], msg: string, span?: Span, where?: { caret: Span; symbol?: string }): AgError {
    const src = span ? this.program.source.slice(span.start, span.end) : op;
    const shapes = inputs.map((i) => shapeStr(this.w.node(i).shape));
    const text = src.length <= 40 ? src : op;
    const sym = where?.symbol;
    const shown =
      sym && shapes.length === 2 ? `${shapes[0]} ${sym} ${shapes[1]}` : sym && shapes.length === 1 ? `${sym}${shapes[0]}` : `${op}(${shapes.join(', ')})`;
    return new AgError('shape', `${text}: ${shown} — ${msg}`, { span: where?.caret ?? span, hint: this.orientationHint(inputs) });
  }

  /** A vector beside a square matrix (ops/broadcast.ts orientationClash): both fixes, written with the vector as the formula writes it. */
  private orientationHint(inputs: readonly number[]): string | undefined {
    if (!orientationClash(inputs.map((i) => this.w.node(i).shape))) return undefined;
    const v = inputs.find((i) => this.w.node(i).shape.length === 1)!;
    const span = this.w.node(v).span;
    const t = span ? this.program.source.slice(span.start, span.end).trim() : '';
    if (!t || t.length > 30) return undefined;
    const w = /^[A-Za-z_]\w*$/.test(t) ? t : `(${t})`;
    return `here: ${w}' as a row, ${w}*ones(1, ${this.w.node(v).shape[0]}) as a column`;
  }

  // ----- expressions -----

  /** results of left-spine nodes built ahead, in a loop (see expr) */
  private ahead = new Map<Expr, number>();

  /** levels of the expression being built, inline bodies included (parse.ts treeDepth's unit: x is 1, sin(x) 2) */
  private depth = 0;
  /** left operands of binary operators: not a level (as treeDepth counts; long chains are built in a loop) */
  private leftOperands = new WeakSet<Expr>();

  expr(e: Expr, scope: Map<string, number>): number {
    // down the left spine at once: a long chain is built in a loop that does not come back here
    for (let x = e; x.k === 'call' && x.op !== undefined && x.args.length === 2 && !this.leftOperands.has(x.args[0]); x = x.args[0])
      this.leftOperands.add(x.args[0]);
    const level = this.leftOperands.has(e) ? 0 : 1;
    if ((this.depth += level) > this.limits.maxDepth) {
      const chain = this.callStack.map((c) => c.name).join(' → ');
      const where = chain ? `once its inline functions are expanded (${chain}), the formula` : 'the formula';
      throw new AgError('limit', `${where} nests more than ${this.limits.maxDepth} levels deep; the limit is ${this.limits.maxDepth} (--max-depth)`, {
        span: this.callStack[0]?.span,
      });
    }
    try {
      return this.exprAt(e, scope);
    } finally {
      this.depth -= level;
    }
  }

  private exprAt(e: Expr, scope: Map<string, number>): number {
    const hit = this.ahead.get(e);
    if (hit !== undefined) return hit;
    this.step(e.span);
    const isBinaryOp = (x: Expr): x is Extract<Expr, { k: 'call' }> => x.k === 'call' && x.op !== undefined && x.args.length === 2;
    if (isBinaryOp(e) && isBinaryOp(e.args[0])) {
      // a long left-associative chain (x + x + … + x) is built bottom-up in a loop, not by recursion
      const spine = [e];
      let n: Expr = e.args[0];
      while (isBinaryOp(n)) {
        spine.push(n);
        n = n.args[0];
      }
      try {
        for (let i = spine.length - 1; i >= 1; i--) {
          this.step(spine[i].span);
          this.ahead.set(spine[i], this.exprOne(spine[i], scope));
        }
        return this.exprOne(e, scope);
      } finally {
        // an inline function's body is built again with other arguments
        for (const n of spine) this.ahead.delete(n);
      }
    }
    return this.exprOne(e, scope);
  }

  private exprOne(e: Expr, scope: Map<string, number>): number {
    switch (e.k) {
      case 'num':
        if (!Number.isFinite(e.v)) throw new AgError('bad-value', `${e.v} is not a finite number`, { span: e.span });
        return this.constNode(e.v, e.span);
      case 'str':
        throw new AgError('unsupported', 'strings are only allowed as a norm kind, like norm(A, "fro")', { span: e.span });
      case 'sym':
        return this.symbol(e.name, e.span, scope);
      case 'cond': {
        const c = this.expr(e.test, scope);
        const a = this.expr(e.then, scope);
        const b = this.expr(e.else, scope);
        return this.add('select', [c, a, b], {}, e.span);
      }
      case 'array':
        return this.array(e, scope);
      case 'index':
        return this.index(e, scope);
      case 'call':
        return this.call(e, scope);
    }
  }

  private symbol(name: string, span: Span, scope: Map<string, number>): number {
    const bound = scope.get(name);
    if (bound !== undefined) return bound;
    if (name in CONSTANTS && this.values[name] !== undefined) {
      // a value given for e makes e a variable of this formula
      this.noteShadow(name, 'the variable');
      return this.inputNode(name, span);
    }
    if (name in CONSTANTS) {
      const v = CONSTANTS[name];
      if (!Number.isFinite(v))
        throw new AgError('bad-value', `${name} is not a finite number`, { span, hint: 'Infinity is only allowed as a norm order: norm(v, Infinity)' });
      return this.constNode(v, span);
    }
    if (this.values[name] === undefined) {
      if (isFunctionName(name) || this.defs.has(name)) {
        throw new AgError('unknown-variable', `${name} is a function; call it with arguments, like ${name}(x)`, { span });
      }
      // `5 cm` is a unit to mathjs; here it would be 5 times a variable cm
      const unitLike = /\d\s*$/.test(this.program.source.slice(0, span.start));
      throw new AgError('missing-value', `no value for the variable ${name}`, {
        span,
        hint: unitLike ? `units are not supported; if ${name} is a variable, give it a value with --at ${name}=...` : `give one with --at ${name}=...`,
      });
    }
    this.noteShadow(name, 'the variable');
    return this.inputNode(name, span);
  }

  private array(e: Extract<Expr, { k: 'array' }>, scope: Map<string, number>): number {
    if (e.items.length === 0) throw new AgError('shape', 'an empty array has no entries to differentiate', { span: e.span });
    const items = e.items.map((it) => this.expr(it, scope));
    // an array of constants is one constant
    if (items.every((i) => this.w.node(i).op === 'const')) {
      const first = this.w.node(items[0]).shape;
      if (items.every((i) => shapeStr(this.w.node(i).shape) === shapeStr(first)) && first.length < 2) {
        this.reserve('an array', [items.length, ...first], true, e.span);
        const data = new Float64Array(items.length * sizeOf(first));
        items.forEach((i, k) => data.set(this.w.node(i).attrs.value!.data, k * sizeOf(first)));
        return this.constNode({ shape: [items.length, ...first], data }, e.span);
      }
    }
    return this.add('stack', items, {}, e.span);
  }

  private call(e: Extract<Expr, { k: 'call' }>, scope: Map<string, number>): number {
    // shape errors point at the operator (or the function name) and show both shapes around its symbol
    const def = this.defs.get(e.fn);
    if (def) return this.inline(e, def, scope);
    if (FORBIDDEN_FUNCTIONS.has(e.fn)) {
      throw new AgError('unsupported', `${e.fn}(...) is not allowed in a formula`, {
        span: e.nameSpan,
        hint: 'formulas are differentiated, never evaluated as code',
      });
    }
    const fn = FORMULA_FUNCTIONS.get(e.fn);
    if (!fn) {
      const guess = closest(e.fn, [...FORMULA_FUNCTIONS.keys(), ...this.defs.keys()]);
      throw new AgError('unknown-function', `unknown function ${e.fn}`, {
        span: e.nameSpan,
        hint: guess ? `did you mean ${guess}?` : undefined,
      });
    }
    const n = e.args.length;
    const arity = fn.arity;
    if (n < arity[0] || n > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `${arity[0]} or more` : `${arity[0]} to ${arity[1]}`;
      throw new AgError('arity', `${e.fn} takes ${want} argument${want === '1' ? '' : 's'}, not ${n}`, { span: e.span });
    }
    const op = fn.op ?? e.fn;
    if (fn.lower) return fn.lower(new CallLowering(this, e, op, scope));
    // the regular case: the op, the arguments its inputs
    const args: number[] = [];
    for (const a of e.args) args.push(this.expr(a, scope));
    return this.add(op, args, {}, e.span, operatorSite(e));
  }

  private inline(e: Extract<Expr, { k: 'call' }>, def: Def, scope: Map<string, number>): number {
    if (this.callStack.some((c) => c.name === e.fn)) {
      throw new AgError(
        'recursion',
        `${e.fn} calls itself (${[...this.callStack.map((c) => c.name), e.fn].join(' → ')}); recursive definitions are not supported`,
        { span: e.nameSpan },
      );
    }
    if (e.args.length !== def.params.length) {
      throw new AgError('arity', `${e.fn} takes ${def.params.length} argument${def.params.length === 1 ? '' : 's'}, not ${e.args.length}`, { span: e.span });
    }
    const args = e.args.map((a) => this.expr(a, scope));
    for (const param of def.unread) {
      const arg = this.text(e.args[def.params.indexOf(param)]).trim();
      if (!this.unusedParams.some((u) => u.fn === e.fn && u.param === param && u.arg === arg)) this.unusedParams.push({ fn: e.fn, param, arg });
    }
    // the body sees its parameters and the steps named before the call
    const inner = new Map(scope);
    def.params.forEach((p, i) => inner.set(p, args[i]));
    const site: CallSite = { fn: e.fn, params: def.params, args, span: e.span, parent: this.callStack[this.callStack.length - 1]?.site };
    const before = this.w.size;
    this.callStack.push({ name: e.fn, span: e.nameSpan, site });
    // the body takes the call's place: its root is at the call's level
    this.depth--;
    try {
      const id = this.expr(def.body, inner);
      // the call's value is named after the call (an outer call, finishing later, wins)
      const root = this.w.node(id);
      if (id >= before || (root.call && inside(root.call, site))) root.callRoot = site;
      return id;
    } finally {
      this.depth++;
      this.callStack.pop();
    }
  }

  text(e: { span: Span }): string {
    return this.program.source.slice(e.span.start, e.span.end);
  }

  // ----- index expressions: evaluated now, to integers -----

  /**
   * The value of an index or size expression. It may use numbers, constants and
   * scalar variables (which then become index variables, not differentiated).
   */
  constValue(e: Expr, scope: Map<string, number>, end?: number): number {
    this.step(e.span);
    switch (e.k) {
      case 'num':
        return e.v;
      case 'sym': {
        if (e.name === 'end' && end !== undefined) return end;
        const bound = scope.get(e.name);
        if (bound !== undefined) {
          const node = this.w.node(bound);
          if (node.op === 'const' && node.size === 1) return node.attrs.value!.data[0];
          if (node.op === 'input' && node.size === 1) return this.indexVar(this.w.variables.find((i) => i.node === bound)!.name, e.span);
          throw new AgError('index', `${e.name} is computed from the variables; an index must be a number or a given integer`, { span: e.span });
        }
        if (e.name in CONSTANTS) return CONSTANTS[e.name];
        return this.indexVar(e.name, e.span);
      }
      case 'call': {
        const op = e.fn === 'unaryMinus' || e.fn === 'unaryPlus' || ['add', 'subtract', 'multiply', 'divide', 'pow'].includes(e.fn) ? getOp(e.fn) : null;
        if (!op) break;
        const args = e.args.map((a) => scalar(this.constValue(a, scope, end)));
        const out = new Float64Array(1);
        op.forward(args, {}, out);
        return out[0];
      }
      default:
        break;
    }
    throw new AgError('index', 'an index must be a number, a given integer variable, or arithmetic on those', { span: e.span });
  }

  private indexVar(name: string, span: Span): number {
    const v = this.values[name];
    if (!v) throw new AgError('missing-value', `no value for the index variable ${name}`, { span, hint: `give one with --at ${name}=...` });
    if (v.shape.length !== 0) throw new AgError('index', `${name} is used as an index, so it must be a scalar, not ${shapeStr(v.shape)}`, { span });
    if (this.w.variables.some((i) => i.name === name)) {
      throw new AgError('index', `${name} is used both as an index and as a differentiable variable`, { span });
    }
    this.indexVars.add(name);
    return v.data[0];
  }

  intArg(e: Expr, scope: Map<string, number>, what: string, end?: number): number {
    const v = this.constValue(e, scope, end);
    if (!Number.isInteger(v)) throw new AgError('index', `${what} must be an integer, not ${v}`, { span: e.span });
    return v;
  }

  private index(e: Extract<Expr, { k: 'index' }>, scope: Map<string, number>): number {
    const obj = this.expr(e.obj, scope);
    const shape = this.w.node(obj).shape;
    if (e.dims.length !== shape.length) {
      throw new AgError(
        'index',
        `${this.text(e.obj)} has shape ${shapeStr(shape)}, so it takes ${shape.length} ind${shape.length === 1 ? 'ex' : 'ices'}, not ${e.dims.length}`,
        { span: e.span },
      );
    }
    const picks = e.dims.map((d, axis) => this.resolveDim(d, shape[axis], scope, this.text(e.obj)));
    const outShape = picks.filter((p) => p.keep).map((p) => p.idx.length);
    const strides = shape.length === 2 ? [shape[1], 1] : [1];
    let flat = [0];
    picks.forEach((p, axis) => {
      const next: number[] = [];
      for (const f of flat) for (const i of p.idx) next.push(f + i * strides[axis]);
      flat = next;
    });
    const gather = Int32Array.from(flat);
    return this.add('subset', [obj], { gather, outShape }, e.span);
  }

  private resolveDim(d: IndexDim, size: number, scope: Map<string, number>, of: string): { idx: number[]; keep: boolean } {
    const check = (v: number, span: Span) => {
      if (v < 1 || v > size) {
        throw new AgError('index', `index ${v} is out of range for ${of} (1 to ${size}; indices are 1-based)`, { span });
      }
      return v - 1;
    };
    if (d.k === 'at') return { idx: [check(this.intArg(d.e, scope, 'an index', size), d.span)], keep: false };
    const start = d.start ? this.intArg(d.start, scope, 'a range start', size) : 1;
    const step = d.step ? this.intArg(d.step, scope, 'a range step', size) : 1;
    const stop = d.end ? this.intArg(d.end, scope, 'a range end', size) : size;
    if (step === 0) throw new AgError('index', 'a range step cannot be 0', { span: d.span });
    const idx: number[] = [];
    for (let v = start; step > 0 ? v <= stop : v >= stop; v += step) idx.push(check(v, d.span));
    if (idx.length === 0) throw new AgError('index', `the range ${start}:${stop} is empty`, { span: d.span });
    return { idx, keep: true };
  }
}

/** What the table's lowering of one call sees (ops/functions.ts LowerContext): the call, its arguments built once, the builder's writer. */
class CallLowering implements LowerContext {
  private built: number[] = [];
  /** shape errors point at the operator (or the function name) and show both shapes around its symbol */
  private where: { caret: Span; symbol?: string };

  constructor(
    private b: Builder,
    readonly call: Call,
    readonly op: string,
    private scope: Map<string, number>,
  ) {
    this.where = operatorSite(call);
  }

  get rng(): Rng | undefined {
    return this.b.opts.rng;
  }

  arg(i: number): number {
    return (this.built[i] ??= this.b.expr(this.call.args[i], this.scope));
  }

  int(i: number, what: string): number {
    return this.b.intArg(this.call.args[i], this.scope, what);
  }

  number(x: ArgExpr): number {
    return this.b.constValue(x as Expr, new Map());
  }

  node(id: number): TapeNode {
    return this.b.w.node(id);
  }

  write(op: string, inputs: number[], attrs: Attrs = {}, at?: { span: Span }): number {
    return at ? this.b.add(op, inputs, attrs, at.span) : this.b.add(op, inputs, attrs, this.call.span, this.where);
  }

  existing(op: string, inputs: number[], attrs: Attrs): number | undefined {
    return this.b.w.existing(op, inputs, attrs);
  }

  constant(t: Tensor, label?: string): number {
    const id = this.b.constNode(t, this.call.span);
    if (label !== undefined) this.b.w.node(id).label = label;
    return id;
  }

  reserve(shape: readonly number[], span: Span = this.call.span): void {
    this.b.reserve(this.call.fn, shape, true, span);
  }

  text(x: { span: Span }): string {
    return this.b.text(x);
  }

  note(message: string): void {
    this.b.notation.add(message);
  }

  defines(name: string): boolean {
    return this.scope.get(name) !== undefined || this.b.values[name] !== undefined || this.b.defs.has(name);
  }
}

/** Where a call's shape error points: at the operator (or the function name), with the operator's symbol to show both shapes around. */
function operatorSite(call: Call): { caret: Span; symbol?: string } {
  return { caret: call.nameSpan, symbol: call.op };
}

/** Whether expansion `s` happened inside expansion `outer` (or is it). */
function inside(s: CallSite, outer: CallSite): boolean {
  for (let x: CallSite | undefined = s; x; x = x.parent) if (x === outer) return true;
  return false;
}

/** The parameters a function's body never reads (not even inside index brackets). */
function unreadParams(params: string[], body: Expr): string[] {
  const { variables, indexNames } = freeVariables({ source: '', stmts: [{ k: 'expr', expr: body, span: body.span }] });
  return params.filter((p) => !variables.includes(p) && !indexNames.includes(p) && !(p in CONSTANTS));
}

/** A formula constant's label: its value (pi and e by name), or `const[m,n]`. */
function constLabel(t: Tensor | number): string {
  if (typeof t === 'number') return formatConst(t);
  return t.shape.length === 0 ? formatConst(t.data[0]) : `const${shapeStr(t.shape)}`;
}

function formatConst(v: number): string {
  if (v === Math.PI) return 'pi';
  if (v === Math.E) return 'e';
  return String(Number(v.toPrecision(12)));
}
