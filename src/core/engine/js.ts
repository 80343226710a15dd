import { checkDeadlineWork, DEADLINE_BLOCK } from '../limits.js';
import { jvpNow, vjpNow } from '../ops/eager.js';
import { getOp } from '../ops/index.js';
import type { OpDef } from '../ops/types.js';
import type { Tape, TapeNode } from '../graph/tape.js';
import { OPS } from '../ops/index.js';
import { unbroadcast, type Tensor } from '../tensor.js';
import type { EdgeFlow, Engine, ReverseResult } from './types.js';

const t = (arena: Float64Array, n: TapeNode): Tensor => ({ shape: n.shape, data: arena.subarray(n.offset, n.offset + n.size) });

/**
 * A node's share of the run's --timeout work count (src/core/limits.ts): the entries it reads
 * and writes, and a fixed cost, so the clock is read before any large node and every 64th
 * small one. A kernel whose work grows faster than its entries (a matrix product) counts
 * its own inside.
 */
function checkNode(tape: Tape, n: TapeNode): void {
  let entries = n.size;
  for (const i of n.inputs) entries += tape.nodes[i].size;
  checkDeadlineWork(entries + DEADLINE_BLOCK / 64);
}

/** Each node's op, looked up once per tape (a check runs the same tape hundreds of times). */
const opsByTape = new WeakMap<Tape, OpDef[]>();
function opsOf(tape: Tape): OpDef[] {
  let ops = opsByTape.get(tape);
  if (!ops || ops.length !== tape.nodes.length) opsByTape.set(tape, (ops = tape.nodes.map((n) => getOp(n.op))));
  return ops;
}

/**
 * The forward pass from node `from` on (the nodes before it hold their values already):
 * a derivative tape runs from its first appended node.
 */
export function forwardFrom(tape: Tape, arena: Float64Array, from: number): void {
  const ops = opsOf(tape);
  for (let id = from; id < tape.nodes.length; id++) {
    const n = tape.nodes[id];
    if (n.op === 'input' || n.op === 'const') continue;
    // the run's --timeout, checked at every node (src/core/limits.ts)
    checkNode(tape, n);
    ops[n.id].forward(
      n.inputs.map((i) => t(arena, tape.nodes[i])),
      n.attrs,
      arena.subarray(n.offset, n.offset + n.size),
    );
  }
}

/** The TypeScript reference engine: plain loops over the tape, every rule from the op table (its graph rules computed now, ops/eager.ts). */
export const jsEngine: Engine = {
  name: 'js',
  ops: new Set(OPS.keys()),

  forward(tape, arena) {
    forwardFrom(tape, arena, 0);
  },

  reverse(tape, arena, opts = {}): ReverseResult {
    const nodes = tape.nodes;
    const out = nodes[tape.output];
    if (!opts.seed && out.size !== 1) throw new Error('reverse mode from a non-scalar output needs a seed');
    const adjoint = new Float64Array(tape.arenaSize);
    if (opts.seed) adjoint.set(opts.seed, out.offset);
    else adjoint[out.offset] = 1;
    const edges: EdgeFlow[] | undefined = opts.edges ? [] : undefined;
    for (let id = tape.output; id >= 0; id--) {
      const n = nodes[id];
      if (!n.active || n.inputs.length === 0) continue;
      const need = n.inputs.map((i) => nodes[i].active);
      if (!need.some(Boolean)) continue;
      checkNode(tape, n);
      const g = t(adjoint, n);
      const ins = n.inputs.map((i) => t(arena, nodes[i]));
      // the reverse sweep: the op's graph rule computed now, one contribution per input
      const contribs = vjpNow(n.op, ins, t(arena, n), g, n.attrs, need);
      n.inputs.forEach((i, k) => {
        if (!need[k]) return;
        const inp = nodes[i];
        const given = contribs[k]?.data;
        // nothing flows (a conditional's test): the contribution is 0
        if (!given) {
          if (edges) edges.push({ to: id, input: k, from: i, contribution: new Float64Array(inp.size) });
          return;
        }
        // gradients of a broadcast input are summed back onto its shape, here and only here
        const c = given.length !== inp.size ? unbroadcast(given, inp.shape, n.shape) : given;
        const a = adjoint.subarray(inp.offset, inp.offset + inp.size);
        // gradients add at branches
        for (let j = 0; j < c.length; j++) a[j] += c[j];
        if (edges) edges.push({ to: id, input: k, from: i, contribution: c.slice() });
      });
    }
    return { adjoint, edges };
  },

  jvp(tape, arena, dots) {
    return jvpAll(tape, arena, dots)[tape.output] ?? new Float64Array(tape.nodes[tape.output].size);
  },

  evaluate(tape, arena, coord, delta, direction) {
    const work = arena.slice();
    const count = coord.length;
    const values = new Float64Array(count);
    const branches = new Float64Array(count);
    const kinkNodes = tape.nodes.filter((n) => getOp(n.op).branch);
    const out = tape.nodes[tape.output];
    const slots = inputSlots(tape);
    for (let p = 0; p < count; p++) {
      work.set(arena);
      if (coord[p] >= 0) work[slots[coord[p]]] += delta[p];
      else for (let j = 0; j < slots.length; j++) work[slots[j]] += delta[p] * direction![j];
      this.forward(tape, work);
      values[p] = work[out.offset];
      branches[p] = branchCode(tape, work, kinkNodes);
    }
    return { values, branches };
  },
};

/**
 * Forward mode keeping every node's tangent (for pictures of what flows forward):
 * null where a node does not depend on the seeded inputs.
 */
export function jvpAll(tape: Tape, arena: Float64Array, dots: (Float64Array | null)[]): (Float64Array | null)[] {
  const nodes = tape.nodes;
  const tan: (Float64Array | null)[] = new Array(nodes.length).fill(null);
  tape.inputs.forEach((inp, k) => (tan[inp.node] = dots[k]));
  for (const n of nodes) {
    if (n.inputs.length === 0 || !n.active) continue;
    const d = n.inputs.map((i) => tan[i]);
    if (d.every((x) => x === null)) continue;
    checkNode(tape, n);
    const tangent = jvpNow(
      n.op,
      n.inputs.map((i) => t(arena, nodes[i])),
      t(arena, n),
      d.map((x, k) => (x ? { shape: nodes[n.inputs[k]].shape, data: x } : null)),
      n.attrs,
    );
    tan[n.id] = tangent ? tangent.data : new Float64Array(n.size);
  }
  return tan;
}

/** One number that changes when any kink op switches branch (see OpDef.branch). */
export function branchCode(tape: Tape, arena: Float64Array, kinkNodes: TapeNode[]): number {
  let code = 0;
  for (const n of kinkNodes) {
    const c = getOp(n.op).branch!(
      n.inputs.map((i) => t(arena, tape.nodes[i])),
      n.attrs,
    );
    code = (code * 31 + c) % 9007199254740881;
  }
  return code;
}

/** Arena position of every entry of the tape's inputs, concatenated in tape-input order. */
export function inputSlots(tape: Tape): Int32Array {
  const slots: number[] = [];
  for (const inp of tape.inputs) {
    const n = tape.nodes[inp.node];
    for (let k = 0; k < n.size; k++) slots.push(n.offset + k);
  }
  return Int32Array.from(slots);
}
