import { sameShape, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor.js';
import { at, operands } from './broadcast.js';
import { add, entrywiseRules, gmul, partialGraph, ruleFor, type ElementwiseDef } from './elementwise.js';
import { scalarFormula, type ScalarFunction } from './formula.js';
import { TableOps } from './graph-ops.js';
import { getOp } from './index.js';
import { argName, type Attrs, type GraphNode, type OpDef } from './types.js';

/**
 * The op table's graph rules computed now: every call runs the table's forward kernel
 * on tensors at once (JAX's eager evaluation of its rules). The TypeScript engine runs
 * each node's vjpGraph/jvpGraph against this, so its numbers come from the same one
 * statement of each derivative that gradient tapes, the native engine and the printed
 * local derivatives come from. A node is an index into the values computed so far.
 */
export class EagerOps extends TableOps {
  private values: Tensor[] = [];

  /** A tensor given (an input, the upstream gradient), as a node. */
  value(t: Tensor): GraphNode {
    this.values.push(t);
    return this.values.length - 1;
  }

  tensor(x: GraphNode): Tensor {
    return this.values[x];
  }

  shape(x: GraphNode): Shape {
    return this.values[x].shape;
  }

  op(name: string, inputs: GraphNode[], attrs: Attrs = {}): GraphNode {
    const def = getOp(name);
    const ins = inputs.map((i) => this.values[i]);
    let shape: Shape;
    try {
      shape = def.shape(
        ins.map((t) => t.shape),
        attrs,
      );
    } catch (e) {
      // a derivative rule that computes a badly shaped value is a bug in the op table
      throw new Error(`gradient: ${name}(${ins.map((t) => shapeStr(t.shape)).join(', ')}): ${(e as Error).message}`);
    }
    const out = new Float64Array(sizeOf(shape));
    def.forward(ins, attrs, out);
    return this.value({ shape, data: out });
  }

  constant(v: number | Tensor): GraphNode {
    return this.value(typeof v === 'number' ? { shape: [], data: Float64Array.of(v) } : v);
  }

  /** Row-major data is the same in every shape of its size: only the shape changes. */
  reshape(a: GraphNode, shape: Shape): GraphNode {
    const t = this.values[a];
    if (sameShape(t.shape, shape)) return a;
    if (t.data.length !== sizeOf(shape)) throw new Error(`gradient: cannot reshape ${shapeStr(t.shape)} to ${shapeStr(shape)}`);
    return this.value({ shape, data: t.data });
  }

  broadcastTo(x: GraphNode, shape: Shape): GraphNode {
    const t = this.values[x];
    if (sameShape(t.shape, shape)) return x;
    const n = sizeOf(shape);
    if (t.data.length === n) return this.reshape(x, shape);
    const [o] = operands([t], shape, n);
    const data = new Float64Array(n);
    for (let k = 0; k < n; k++) data[k] = at(o, k);
    return this.value({ shape, data });
  }
}

/**
 * Reverse mode of one node, computed now: one contribution per input (null where
 * `need[i]` is false or nothing flows), shaped like the input or, for a broadcast input,
 * like the output (the caller sums it back).
 */
export function vjpNow(op: string, ins: Tensor[], out: Tensor, g: Tensor, attrs: Attrs, need: boolean[]): (Tensor | null)[] {
  const entrywise = entrywiseVjp(getOp(op), ins, out, g, need);
  if (entrywise) return entrywise;
  const rule = getOp(op).vjpGraph;
  if (!rule) throw new Error(`op ${op} has no rule for its gradient (vjpGraph in the op table)`);
  const G = new EagerOps();
  const ids = ins.map((t) => G.value(t));
  return rule(G, ids, G.value(out), G.value(g), attrs, need).map((c, i) => (need[i] && c !== null && c !== undefined ? G.tensor(c) : null));
}

/** Forward mode of one node, computed now: the output tangent (null when it is 0), shaped like the output or smaller. */
export function jvpNow(op: string, ins: Tensor[], out: Tensor, dots: (Tensor | null)[], attrs: Attrs): Tensor | null {
  const entrywise = entrywiseJvp(getOp(op), ins, out, dots);
  if (entrywise !== undefined) return entrywise;
  const rule = getOp(op).jvpGraph;
  if (!rule) throw new Error(`op ${op} has no rule for its tangent (jvpGraph in the op table)`);
  const G = new EagerOps();
  const ids = ins.map((t) => G.value(t));
  const t = rule(
    G,
    ids,
    G.value(out),
    dots.map((d) => (d ? G.value(d) : null)),
    attrs,
  );
  return t === null ? null : G.tensor(G.broadcastTo(t, out.shape));
}

/**
 * The local derivative ∂out/∂input_i entry by entry, shaped like the output: an
 * elementwise rule's partial formula computed now. Undefined for other ops (a full
 * Jacobian, better not printed).
 */
export function localValue(op: string, ins: Tensor[], out: Tensor, i: number, _attrs: Attrs = {}): Float64Array | undefined {
  const def = getOp(op) as ElementwiseDef;
  if (!def.rules) return undefined;
  const G = new EagerOps();
  const ids = ins.map((t) => G.value(t));
  const p = partialGraph(G, ruleFor(def, ins.length), i, ids, G.value(out));
  if (p === null) return new Float64Array(out.data.length);
  return G.tensor(G.broadcastTo(p, out.shape)).data.slice();
}

// ----- elementwise ops entry by entry -----
// An elementwise op's graph rules are upstream × partial and Σ tangent × partial with the
// partials its scalar formulas; computed now they are, at every entry, the formula's scalar
// rules and gmul's (formula.ts scalarFormula): the same numbers as the eager ops above
// give, without a tensor for every step of every formula (test/ops/entrywise.test.ts).

const gmulRule = ruleFor(gmul, 2);
const addRule = ruleFor(add, 2);
type Partials = (ScalarFunction | null)[];
/** per op, per arity: its partials (null: not computed entry by entry) */
const partialsByOp = new WeakMap<OpDef, Map<number, Partials | null>>();

/** The partial formulas ∂s/∂arg_i of an elementwise op with the generic rules as functions of (a, b, …, s); null where the partial is 0; undefined: not such an op. */
function entrywisePartials(def: OpDef, arity: number): Partials | undefined {
  let byArity = partialsByOp.get(def);
  if (!byArity) partialsByOp.set(def, (byArity = new Map()));
  let made = byArity.get(arity);
  if (made === undefined) {
    const op = entrywiseRules(def);
    made = (op && compilePartials(op, arity)) ?? null;
    byArity.set(arity, made);
  }
  return made ?? undefined;
}

function compilePartials(op: ElementwiseDef, arity: number): Partials | undefined {
  const rule = ruleFor(op, arity);
  const names = [...Array.from({ length: arity }, (_, j) => argName(j)), 's'];
  const out: Partials = [];
  for (let i = 0; i < arity; i++) {
    const text = rule.local[i];
    if (rule.constantOutput || text === '0') out.push(null);
    else {
      const f = scalarFormula(text, names);
      if (!f) return undefined;
      out.push(f);
    }
  }
  return out;
}

/** upstream × partial for each input needed, entry by entry (shaped like the output); undefined: take the graph rule. */
function entrywiseVjp(def: OpDef, ins: Tensor[], out: Tensor, g: Tensor, need: boolean[]): (Tensor | null)[] | undefined {
  const n = out.data.length;
  if (g.data.length !== n) return undefined;
  const partials = entrywisePartials(def, ins.length);
  if (!partials) return undefined;
  const product = gmulRule.f;
  const m = ins.length;
  const ops = operands(ins, out.shape, n);
  const env = new Float64Array(m + 1);
  const res = partials.map((p, i) => (p && need[i] ? new Float64Array(n) : null));
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < m; j++) env[j] = at(ops[j], k);
    env[m] = out.data[k];
    for (let i = 0; i < m; i++) {
      const r = res[i];
      if (r) r[k] = product(g.data[k], partials[i]!(env));
    }
  }
  return res.map((r) => (r ? { shape: out.shape, data: r } : null));
}

/** Σ tangent × partial entry by entry (shaped like the output; null when nothing flows); undefined: take the graph rule. */
function entrywiseJvp(def: OpDef, ins: Tensor[], out: Tensor, dots: (Tensor | null)[]): Tensor | null | undefined {
  const partials = entrywisePartials(def, ins.length);
  if (!partials) return undefined;
  const terms = partials.map((p, i) => (p && dots[i] ? i : -1)).filter((i) => i >= 0);
  if (terms.length === 0) return null;
  const n = out.data.length;
  const product = gmulRule.f;
  const sum = addRule.f;
  const m = ins.length;
  const ops = operands(ins, out.shape, n);
  const tangents = operands(
    terms.map((i) => dots[i]!),
    out.shape,
    n,
  );
  const env = new Float64Array(m + 1);
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < m; j++) env[j] = at(ops[j], k);
    env[m] = out.data[k];
    let acc = product(at(tangents[0], k), partials[terms[0]]!(env));
    for (let q = 1; q < terms.length; q++) acc = sum(acc, product(at(tangents[q], k), partials[terms[q]]!(env)));
    t[k] = acc;
  }
  return { shape: out.shape, data: t };
}
