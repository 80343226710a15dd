import { jvpAll } from '../../core/engine/js.js';
import { selectEngine, type EngineChoice } from '../../core/engine/select.js';
import { AgError } from '../../core/errors.js';
import { checkDeadlineNow, limitsFrom, withDeadline } from '../../core/limits.js';
import { displayName, fullName, localFormula } from '../../core/graph/describe.js';
import { makeArena, view, type Tape, type TapeNode } from '../../core/graph/tape.js';
import { edgeReport, pointOf as pointValues, prepare, shown, toTensors, buildNotes, type GradOptions, type Shown } from './grad.js';
import { getOp } from '../../core/ops/index.js';
import type { Nested } from '../../core/parse/values.js';
import { norm2, shapeStr, subscript, type Shape, type Tensor } from '../../core/tensor.js';

/**
 * What the `graph` command computes once and every picture shows: each tape node with
 * its forward value and its gradient (reverse mode) or tangent (forward mode), and each
 * edge with what travels along it. Renderers only read it.
 */
export interface GraphNode {
  id: number;
  /** the op table's name: `input`, `const`, `add`, `matmul` … */
  op: string;
  /** the short label pictures use: `add`, `mul`, `sin` */
  opLabel: string;
  /** how explanations name the node: a step's name (`q`), its source text, or the call it is the value of; shortened with … when long */
  name: string;
  /** the same in full (inside an inline function, with the call's arguments put in for its parameters) */
  fullName: string;
  /** the part of the formula it came from (null for generated nodes) */
  text: string | null;
  kind: 'input' | 'const' | 'op';
  inputs: number[];
  shape: number[];
  value: Shown;
  /** 2-norm of a tensor value (null for scalars) */
  norm: number | null;
  /** reverse mode: ∂f/∂node (null when not computed or the node depends on no variable) */
  grad: Shown | null;
  gradNorm: number | null;
  /** forward mode: ∂node/∂wrt (null when not computed or the node depends on no variable) */
  tangent: Shown | null;
  tangentNorm: number | null;
  output: boolean;
}

export interface GraphEdge {
  /** the input node: its value travels forward along the edge */
  from: number;
  /** the consumer node: the gradient comes back from it */
  to: number;
  /** which input of `to` (0-based) */
  input: number;
  /** the symbolic local derivative ∂to/∂from, in the nodes' names */
  local: string;
  /** its value (null where it is a full Jacobian, or nothing flows back) */
  localValue: Shown | null;
  /** reverse mode: this edge's contribution to ∂f/∂from, downstream = upstream × local (null where nothing flows back) */
  grad: Shown | null;
  gradNorm: number | null;
  /** reverse mode: ∂f/∂from summed over the edges the backward pass has taken so far, this one included (gradients add at branches) */
  sofar: Shown | null;
  sofarNorm: number | null;
}

/** Forward mode seeded at one input entry: every node's tangent ∂node/∂wrt. */
export interface GraphSeed {
  /** `x`, `W[1,2]` */
  wrt: string;
  /** per node, as `GraphNode.tangent` (null where the node depends on no variable) */
  tangents: (Shown | null)[];
  norms: (number | null)[];
}

export interface GraphResult {
  formula: string;
  engine: 'js' | 'native';
  mode: 'reverse' | 'forward';
  /** forward mode: the seeded input entry (`x`, `W[1,2]`) */
  wrt: string | null;
  /** the values used (large tensors summarised, as in grad --json) */
  point: Record<string, Shown>;
  nodes: GraphNode[];
  /** every edge of the graph, in tape order (each node's inputs in turn) */
  edges: GraphEdge[];
  /** reverse mode: indices into `edges` in the order the backward pass takes them (the edges gradients flow back along) */
  backprop: number[];
  /** with `seeds`: forward mode seeded at each input entry in turn (both passes are computed then) */
  seeds?: GraphSeed[];
  /** why something is missing (a vector output has no single gradient …) */
  notes: string[];
}

export interface GraphOptions extends Pick<GradOptions, 'limits'> {
  mode?: 'reverse' | 'forward';
  /** reverse: differentiate only with respect to these; forward: the one input (entry) to seed */
  wrt?: string[];
  engine?: EngineChoice;
  /** tensors up to this many entries are kept whole in the result; larger ones summarised (default 64) */
  fullTensorLimit?: number;
  /**
   * Everything at once, for the explorer page: the backward pass in either mode, and
   * forward mode seeded at each input entry, up to this many entries in all.
   */
  seeds?: number;
}

/** Forward values, then gradients (reverse) or tangents (forward): computed once, for every picture. */
export function graphResult(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: GraphOptions = {}): GraphResult {
  const limits = limitsFrom(opts.limits);
  return withDeadline(limits.timeout, () => graphRun(formula, valuesIn, { ...opts, limits }));
}

function graphRun(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: GraphOptions): GraphResult {
  const values = toTensors(valuesIn);
  const mode = opts.mode ?? 'reverse';
  const seed = mode === 'forward' ? parseWrt(opts.wrt) : null;
  const tape = prepare(formula, values, { wrt: mode === 'reverse' ? opts.wrt : undefined, limits: opts.limits });
  const engine = selectEngine(opts.engine ?? 'auto', tape);
  const arena = makeArena(tape, values);
  engine.forward(tape, arena);
  const limit = opts.fullTensorLimit ?? 64;
  const show = (n: TapeNode, data: Float64Array) => ({ shown: shown(n.shape, data, limit), norm: n.shape.length ? norm2(data) : null });
  const out = tape.nodes[tape.output];
  const notes: string[] = buildNotes(tape);

  let adjoint: Float64Array | null = null;
  const flows = new Map<string, { contribution: Float64Array; localValue: Shown | null; sofar: Float64Array; order: number }>();
  let tangents: (Float64Array | null)[] | null = null;
  let wrt: string | null = null;

  if (mode === 'reverse' || opts.seeds !== undefined) {
    if (tape.inputs.length === 0) notes.push('the formula has no variables, so no gradient flows');
    else if (out.size !== 1)
      notes.push(
        `the output has shape ${shapeStr(out.shape)}, so there is no single gradient to draw; autograd-cli jacobian gives every output's, or reduce it (sum(...), norm(...))`,
      );
    else {
      const rev = engine.reverse(tape, arena, { edges: true });
      adjoint = rev.adjoint;
      // ∂f/∂node as the backward pass builds it, one edge at a time: gradients add at branches
      const acc = new Float64Array(tape.arenaSize);
      (rev.edges ?? []).forEach((e, order) => {
        checkDeadlineNow();
        const a = view(acc, tape.nodes[e.from]);
        for (let j = 0; j < a.length; j++) a[j] += e.contribution[j];
        const { localValue } = edgeReport(tape, arena, rev.adjoint, e, (s, d) => shown(s, d, limit));
        flows.set(`${e.to}:${e.input}`, { contribution: e.contribution, localValue, sofar: a.slice(), order });
      });
    }
  }
  if (seed) {
    const { k, flat } = seedEntry(tape, seed);
    tangents = tangentsAt(tape, arena, k, flat);
    wrt = `${seed.name}${subscript(tape.nodes[tape.inputs[k].node].shape, flat)}`;
  }

  const nodes: GraphNode[] = tape.nodes.map((n) => {
    // a node's names and numbers take longer the longer the formula (a sum of 200 terms: seconds in all)
    checkDeadlineNow();
    const v = show(n, view(arena, n));
    const g = adjoint && n.active ? show(n, view(adjoint, n)) : null;
    const tan = tangents && n.active ? show(n, tangents[n.id] ?? new Float64Array(n.size)) : null;
    return {
      id: n.id,
      op: n.op,
      opLabel: getOp(n.op).label ?? n.op,
      name: displayName(tape, n),
      fullName: fullName(tape, n),
      text: n.span ? formula.slice(n.span.start, n.span.end) : null,
      kind: n.op === 'input' ? 'input' : n.op === 'const' ? 'const' : 'op',
      inputs: [...n.inputs],
      shape: [...n.shape],
      value: v.shown,
      norm: v.norm,
      grad: g?.shown ?? null,
      gradNorm: g?.norm ?? null,
      tangent: tan?.shown ?? null,
      tangentNorm: tan?.norm ?? null,
      output: n.id === tape.output,
    };
  });
  const edges: GraphEdge[] = [];
  const order: number[] = [];
  for (const n of tape.nodes) {
    checkDeadlineNow();
    n.inputs.forEach((from, input) => {
      const f = flows.get(`${n.id}:${input}`);
      const g = f ? show(tape.nodes[from], f.contribution) : null;
      const s = f ? show(tape.nodes[from], f.sofar) : null;
      if (f) order[f.order] = edges.length;
      edges.push({
        from,
        to: n.id,
        input,
        local: localFormula(tape, n, input),
        localValue: f?.localValue ?? null,
        grad: g?.shown ?? null,
        gradNorm: g?.norm ?? null,
        sofar: s?.shown ?? null,
        sofarNorm: s?.norm ?? null,
      });
    });
  }
  const result: GraphResult = { formula, engine: engine.name, mode, wrt, point: pointOf(tape, values, limit), nodes, edges, backprop: order, notes };
  if (opts.seeds !== undefined) result.seeds = allSeeds(tape, arena, opts.seeds, show, notes);
  return result;
}

/** Forward mode seeded at input k's entry `flat`: every node's tangent (null where none flows). */
function tangentsAt(tape: Tape, arena: Float64Array, k: number, flat: number): (Float64Array | null)[] {
  const dots: (Float64Array | null)[] = tape.inputs.map((i) => new Float64Array(tape.nodes[i.node].size));
  dots[k]![flat] = 1;
  return jvpAll(tape, arena, dots);
}

/** Forward mode at each input entry in turn (the first entries of each input when there are more than `max`). */
function allSeeds(
  tape: Tape,
  arena: Float64Array,
  max: number,
  show: (n: TapeNode, d: Float64Array) => { shown: Shown; norm: number | null },
  notes: string[],
): GraphSeed[] {
  const total = tape.inputs.reduce((s, i) => s + tape.nodes[i.node].size, 0);
  const each = total <= max ? Infinity : Math.max(1, Math.floor(max / Math.max(1, tape.inputs.length)));
  const seeds: GraphSeed[] = [];
  tape.inputs.forEach((inp, k) => {
    const shape = tape.nodes[inp.node].shape;
    for (let flat = 0; flat < Math.min(each, tape.nodes[inp.node].size); flat++) {
      const t = tangentsAt(tape, arena, k, flat);
      const shownT = tape.nodes.map((n) => (n.active ? show(n, t[n.id] ?? new Float64Array(n.size)) : null));
      seeds.push({ wrt: `${inp.name}${subscript(shape, flat)}`, tangents: shownT.map((x) => x?.shown ?? null), norms: shownT.map((x) => x?.norm ?? null) });
    }
  });
  if (seeds.length < total) notes.push(`forward mode is shown for ${seeds.length} of the ${total} input entries (the first entries of each input)`);
  return seeds;
}

/** `x`, `W[1,2]`, `v[3]`: the input entry forward mode seeds. */
function parseWrt(wrt: string[] | undefined): { name: string; entry: number[] | null } {
  if (wrt?.length !== 1) {
    throw new AgError(
      'usage',
      wrt && wrt.length > 1
        ? `--mode forward seeds one input at a time, not ${wrt.length} (${wrt.join(', ')})`
        : '--mode forward needs the input to seed: --wrt x (or one entry, --wrt "W[1,2]")',
    );
  }
  const m = /^\s*([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\])?\s*$/.exec(wrt[0]);
  if (!m) throw new AgError('usage', `--wrt ${wrt[0]}: expected a variable or one entry of it, like x or W[1,2]`);
  return { name: m[1], entry: m[2] === undefined ? null : [Number(m[2]), ...(m[3] === undefined ? [] : [Number(m[3])])] };
}

/** Which tape input, and which flat entry of it, a parsed --wrt names. */
function seedEntry(tape: Tape, seed: { name: string; entry: number[] | null }): { k: number; flat: number } {
  const k = tape.inputs.findIndex((i) => i.name === seed.name);
  if (k < 0) {
    throw new AgError('usage', `--wrt ${seed.name}: there is no variable ${seed.name} in the formula`, {
      hint: tape.inputs.length ? `the variables are ${tape.inputs.map((i) => i.name).join(', ')}` : undefined,
    });
  }
  return { k, flat: entryIndex(seed.name, tape.nodes[tape.inputs[k].node].shape, seed.entry) };
}

/** The flat index of a 1-based entry of an input (a scalar needs none; a tensor needs one). */
function entryIndex(name: string, shape: Shape, entry: number[] | null): number {
  if (entry === null) {
    if (shape.length === 0) return 0;
    throw new AgError(
      'usage',
      `--wrt ${name}: ${name} has shape ${shapeStr(shape)}; forward mode seeds one entry, like --wrt "${name}[${shape.map(() => 1).join(',')}]"`,
    );
  }
  if (entry.length !== shape.length || entry.some((e, i) => e < 1 || e > shape[i])) {
    throw new AgError(
      'usage',
      `--wrt ${name}[${entry.join(',')}]: ${name} has shape ${shapeStr(shape)}${shape.length ? ` (indices are 1-based, up to ${shape.join(',')})` : ' (a scalar takes no index)'}`,
    );
  }
  return shape.length === 2 ? (entry[0] - 1) * shape[1] + (entry[1] - 1) : shape.length === 1 ? entry[0] - 1 : 0;
}

function pointOf(tape: Tape, values: Record<string, Tensor>, limit: number): Record<string, Shown> {
  // variables, and variables held fixed (--wrt) which became constants named after themselves
  const names = tape.nodes.filter((n) => n.op === 'input' || (n.op === 'const' && values[n.label])).map((n) => n.label);
  return pointValues(values, names, limit);
}
