import { DEFAULT_APPEND_LIMITS, TapeWriter } from '../graph/append.js';
import { appendGradient, appendTangent, type EdgeNode } from '../graph/gradient.js';
import { view, type Tape } from '../graph/tape.js';
import type { GraphNode } from '../ops/types.js';
import type { EdgeFlow, ReverseResult } from './types.js';

/**
 * Reverse and forward mode by derivative tapes: the tape's gradient (or tangent) is
 * appended to it once, by the op table's graph rules (graph/gradient.ts), and then run
 * forward by the engine's forward kernels from the first appended node. An engine that
 * runs tapes forward needs no derivative of its own (JAX and tinygrad work so); the
 * native engine works so. Written for any forward runner, so the TypeScript engine's
 * forward kernels run the same tapes in tests.
 */

/** Runs `tape` forward from node `from` on (the nodes before it hold their values already). */
export type RunForward = (tape: Tape, arena: Float64Array, from: number, reads?: readonly number[]) => void;

interface DerivativeTape {
  tape: Tape;
  /** the first node that is not one of the original tape's */
  from: number;
  /** the original nodes kept their ids and arena offsets: their values are copied in one move */
  same: boolean;
  /** original node id → its id in `tape` */
  ids: Int32Array;
  /** constants appended (written into the arena before each run) */
  consts: { offset: number; data: Float64Array }[];
  /** the nodes read after a run (the native engine need not compute a transpose only products read) */
  reads: number[];
}

interface GradientTape extends DerivativeTape {
  /** per original node: the node holding its adjoint (-1: nothing flows, 0) */
  adjoints: Int32Array;
  /** the seed's slot (-1: the constant 1 of a scalar output) */
  seed: number;
  /** every edge the reverse sweep passes, in its order: consumers from the output down */
  edges: { to: number; input: number; from: number; node: number }[];
}

interface TangentTape extends DerivativeTape {
  /** per tape input: the slot its tangent is written into */
  slots: number[];
  /** the output's tangent (-1: 0) */
  tangent: number;
}

const gradientTapes = new WeakMap<Tape, { seeded?: GradientTape; unseeded?: GradientTape }>();
const tangentTapes = new WeakMap<Tape, TangentTape>();

/**
 * A writer over the tape. Its constants may be written into the arena between runs (a
 * Hessian's direction, a variable held fixed): only a number written as itself (`2` in
 * x^2) is folded into the derivative, the others are slots. A derivative tape of a large
 * tape has several times its nodes: the node limit scales with it.
 */
function writer(tape: Tape): TapeWriter {
  const w = new TapeWriter(tape, { maxNodes: Math.max(DEFAULT_APPEND_LIMITS.maxNodes, 16 * tape.nodes.length) });
  for (const n of tape.nodes) {
    const v = n.attrs.value;
    const literal = n.shape.length === 0 && v !== undefined && Number(n.label) === v.data[0];
    if (n.op === 'const' && !literal) w.markSlot(n.id);
  }
  return w;
}

function finish(base: Tape, w: TapeWriter, keep: GraphNode[]): DerivativeTape {
  const { tape, ids } = w.finish(base.output, keep);
  const N = base.nodes.length;
  let same = true;
  for (let i = 0; i < N && same; i++) same = ids[i] === i && tape.nodes[i].offset === base.nodes[i].offset;
  const from = N === 0 ? 0 : Math.max(...Array.from(ids.subarray(0, N))) + 1;
  const consts = tape.nodes.slice(from).flatMap((n) => (n.op === 'const' && n.attrs.value ? [{ offset: n.offset, data: n.attrs.value.data }] : []));
  const reads = [ids[base.output], ...keep.map((k) => ids[k])];
  return { tape, from, same, ids, consts, reads };
}

/** The gradient tape of `tape`: every node's adjoint, seeded by a slot or (scalar output) the constant 1; built once per tape. */
export function gradientTape(tape: Tape, seeded: boolean): GradientTape {
  let cached = gradientTapes.get(tape);
  if (!cached) gradientTapes.set(tape, (cached = {}));
  const hit = seeded ? cached.seeded : cached.unseeded;
  if (hit) return hit;
  const w = writer(tape);
  const out = tape.nodes[tape.output];
  const seed = seeded ? w.slot(out.shape, 'seed') : undefined;
  const recorded: EdgeNode[] = [];
  const wrt = tape.nodes.map((n) => n.id);
  const adjoints = appendGradient(w, tape.output, wrt, seed, recorded);
  const byEdge = new Map(recorded.map((e) => [`${e.to}:${e.input}`, e.node]));
  // the edges as the reverse sweep of an engine lists them, with 0 where nothing flowed
  const edges: GradientTape['edges'] = [];
  for (let id = tape.output; id >= 0; id--) {
    const n = tape.nodes[id];
    if (!n.active || n.inputs.length === 0) continue;
    n.inputs.forEach((from, k) => {
      if (tape.nodes[from].active) edges.push({ to: id, input: k, from, node: byEdge.get(`${id}:${k}`) ?? -1 });
    });
  }
  const keep = [...adjoints, ...edges.map((e) => e.node), seed].filter((x): x is number => x !== null && x !== undefined && x >= 0);
  const d = finish(tape, w, keep);
  const at = (x: GraphNode | null | undefined) => (x === null || x === undefined || x < 0 ? -1 : d.ids[x]);
  const g: GradientTape = {
    ...d,
    adjoints: Int32Array.from(adjoints, at),
    seed: at(seed),
    edges: edges.map((e) => ({ ...e, node: at(e.node) })),
  };
  if (seeded) cached.seeded = g;
  else cached.unseeded = g;
  return g;
}

/** The tangent tape of `tape`: the output's tangent given a slot per tape input; built once per tape. */
export function tangentTape(tape: Tape): TangentTape {
  const hit = tangentTapes.get(tape);
  if (hit) return hit;
  const w = writer(tape);
  const slots = tape.inputs.map((inp) => w.slot(tape.nodes[inp.node].shape, 'tangent'));
  const tangent = appendTangent(w, tape.output, new Map(tape.inputs.map((inp, k) => [inp.node, slots[k]])));
  const d = finish(tape, w, tangent === null ? slots : [tangent, ...slots]);
  const t: TangentTape = { ...d, slots: slots.map((s) => d.ids[s]), tangent: tangent === null ? -1 : d.ids[tangent] };
  tangentTapes.set(tape, t);
  return t;
}

/** A work arena for the derivative tape (`work` when given: every node it computes is overwritten): the original tape's values and the appended constants. */
function workArena(base: Tape, d: DerivativeTape, arena: Float64Array, work: Float64Array = new Float64Array(d.tape.arenaSize)): Float64Array {
  if (d.same) work.set(arena.subarray(0, base.arenaSize));
  else for (const n of base.nodes) if (d.ids[n.id] >= 0) work.set(view(arena, n), d.tape.nodes[d.ids[n.id]].offset);
  for (const c of d.consts) work.set(c.data, c.offset);
  return work;
}

/**
 * Reverse mode as a derivative tape run forward: the adjoint of every node of `tape`
 * (arena-shaped) and, with `edges`, what flowed along each edge. The arena holds the
 * tape's forward values already (as for every engine's reverse).
 */
export function reverseByTape(tape: Tape, arena: Float64Array, forward: RunForward, opts: { edges?: boolean; seed?: Float64Array } = {}): ReverseResult {
  const out = tape.nodes[tape.output];
  if (!opts.seed && out.size !== 1) throw new Error('reverse mode from a non-scalar output needs a seed');
  if (opts.seed && opts.seed.length !== out.size) throw new Error(`the seed has ${opts.seed.length} entries, not ${out.size}`);
  const d = gradientTape(tape, !!opts.seed);
  const work = workArena(tape, d, arena);
  if (opts.seed) work.set(opts.seed, d.tape.nodes[d.seed].offset);
  forward(d.tape, work, d.from, d.reads);
  const adjoint = new Float64Array(tape.arenaSize);
  d.adjoints.forEach((a, i) => {
    if (a >= 0) adjoint.set(view(work, d.tape.nodes[a]), tape.nodes[i].offset);
  });
  const edges: EdgeFlow[] | undefined = opts.edges
    ? d.edges.map((e) => ({
        to: e.to,
        input: e.input,
        from: e.from,
        contribution: e.node >= 0 ? view(work, d.tape.nodes[e.node]).slice() : new Float64Array(tape.nodes[e.from].size),
      }))
    : undefined;
  return { adjoint, edges };
}

const gradientWork = new WeakMap<GradientTape, Float64Array<ArrayBufferLike>>();

/**
 * Forward and reverse of a scalar-output tape in one run of its gradient tape from the
 * first node: the arena holds the tape's inputs and constants; the adjoints of every
 * node go into `adjoint` (arena-shaped, 0 where nothing flows). Returns the value. The
 * work arena is kept with the tape and reused: a training loop allocates nothing per step.
 */
export function gradientInto(tape: Tape, arena: Float64Array, adjoint: Float64Array, forward: RunForward): number {
  const d = gradientTape(tape, false);
  let work: Float64Array | undefined = gradientWork.get(d);
  if (!work) gradientWork.set(d, (work = new Float64Array(d.tape.arenaSize)));
  workArena(tape, d, arena, work);
  forward(d.tape, work, 0, d.reads);
  adjoint.fill(0);
  d.adjoints.forEach((a, i) => {
    if (a >= 0) adjoint.set(view(work, d.tape.nodes[a]), tape.nodes[i].offset);
  });
  return work[d.tape.nodes[d.ids[tape.output]].offset];
}

/**
 * A scalar-output tape's value and gradient run again and again in one work arena (a
 * compiled formula's grad()). The tape's own arena is the start of that work arena (a
 * gradient tape keeps the original nodes where they were), so a step copies nothing in:
 * the inputs are written where the run reads them, and the appended constants once (no
 * kernel writes outside its own node). An input's gradient is the run's own node when
 * the run computes it and it is no other input's gradient (writing into one then changes
 * nothing else, and the next run overwrites it); otherwise it is copied out after each run,
 * and it is 0 where nothing flows.
 */
export interface GradientRun {
  /** the tape's arena (tape.arenaSize entries): a view of the start of the work arena */
  readonly arena: Float64Array;
  /** per tape input (tape.inputs order): its gradient after a step */
  readonly gradients: Float64Array[];
  /** one forward and reverse run from the arena's inputs; returns the value */
  step(): number;
}

/** The GradientRun of `tape`, or null when its gradient tape does not keep the original nodes in place. */
export function gradientRun(tape: Tape, forward: RunForward): GradientRun | null {
  const d = gradientTape(tape, false);
  if (!d.same) return null;
  const work = new Float64Array(d.tape.arenaSize);
  for (const c of d.consts) work.set(c.data, c.offset);
  const arena = work.subarray(0, tape.arenaSize);
  const uses = new Map<number, number>();
  for (const inp of tape.inputs) uses.set(d.adjoints[inp.node], (uses.get(d.adjoints[inp.node]) ?? 0) + 1);
  const copies: { from: Float64Array; to: Float64Array }[] = [];
  const zeros: Float64Array[] = [];
  const gradients = tape.inputs.map((inp) => {
    const a = d.adjoints[inp.node];
    // computed by the run (appended, with inputs) and this input's alone: read in place
    if (a >= d.from && d.tape.nodes[a].inputs.length > 0 && uses.get(a) === 1) return view(work, d.tape.nodes[a]);
    const g = new Float64Array(tape.nodes[inp.node].size);
    if (a >= 0) copies.push({ from: view(work, d.tape.nodes[a]), to: g });
    else zeros.push(g);
    return g;
  });
  const out = d.tape.nodes[d.ids[tape.output]].offset;
  return {
    arena,
    gradients,
    step() {
      forward(d.tape, work, 0, d.reads);
      for (const c of copies) c.to.set(c.from);
      for (const z of zeros) z.fill(0);
      return work[out];
    },
  };
}

/** Forward mode as a derivative tape run forward: the output tangent for the given input tangents (null = 0). */
export function jvpByTape(tape: Tape, arena: Float64Array, dots: (Float64Array | null)[], forward: RunForward): Float64Array {
  if (dots.length !== tape.inputs.length) throw new Error(`jvp needs one tangent per tape input (${tape.inputs.length}), not ${dots.length}`);
  dots.forEach((dot, k) => {
    const size = tape.nodes[tape.inputs[k].node].size;
    if (dot && dot.length !== size) throw new Error(`the tangent of ${tape.inputs[k].name} has ${dot.length} entries, not ${size}`);
  });
  const d = tangentTape(tape);
  const out = new Float64Array(tape.nodes[tape.output].size);
  if (d.tangent < 0) return out;
  const work = workArena(tape, d, arena);
  d.slots.forEach((s, k) => {
    const dot = dots[k];
    if (dot && s >= 0) work.set(dot, d.tape.nodes[s].offset);
  });
  forward(d.tape, work, d.from, d.reads);
  out.set(view(work, d.tape.nodes[d.tangent]));
  return out;
}
