import type { Engine } from '../core/engine/types.js';
import { branchCode, inputSlots, jsEngine } from '../core/engine/js.js';
import { gatherInputs } from '../core/engine/modes.js';
import type { Tape } from '../core/graph/tape.js';
import { getOp } from '../core/ops/index.js';
import { checkDeadlineNow, COLLECT_ABOVE_BYTES, collectGarbage } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';
import type { Batch, BatchValues, Evaluator, FunctionUnderTest, InputSpec } from './evaluator.js';
import { stepText } from './steps.js';

/** A tape's differentiated inputs as the check sees them. */
export function tapeInputs(tape: Tape): InputSpec[] {
  let offset = 0;
  return tape.inputs.map((inp) => {
    const n = tape.nodes[inp.node];
    const spec = { name: inp.name, shape: n.shape, offset, size: n.size };
    offset += n.size;
    return spec;
  });
}

/**
 * A formula's tape as the function under test: the engine evaluates a whole batch in
 * one call (native: across threads) with a branch code per point; the rounding scale is
 * the largest intermediate value at the point; a kink is named by its op and column.
 */
export function tapeFunction(engine: Engine, tape: Tape, arena: Float64Array, adjoint?: Float64Array): { fn: FunctionUnderTest; evaluator: Evaluator } {
  const slots = inputSlots(tape);
  const point = new Float64Array(slots.length);
  for (let j = 0; j < slots.length; j++) point[j] = arena[slots[j]];
  const out = tape.nodes[tape.output];
  const scale = roundingScale(tape, arena, adjoint);
  const fn: FunctionUnderTest = {
    inputs: tapeInputs(tape),
    point,
    outputs: out.size,
    scale,
    kinkNote: (j, h) => kinkNote(tape, arena, slots[j], h),
  };
  return { fn, evaluator: { evaluate: (b) => evaluateBatch(engine, tape, arena, slots, b) } };
}

/**
 * A batch through the engine. The native engine takes it in one call (across threads).
 * The TypeScript engine allocates each node's value anew at every point, and V8 collects
 * typed arrays late: on a large tape the batch goes in chunks of about
 * COLLECT_ABOVE_BYTES of copies, with a minor collection (the young copies) between, so the peak stays near the live copies (as grad
 * does between its phases).
 */
function evaluateBatch(engine: Engine, tape: Tape, arena: Float64Array, slots: Int32Array, b: Batch): BatchValues {
  const chunk = Math.max(1, Math.floor(COLLECT_ABOVE_BYTES / arena.byteLength));
  // below 8 MB an arena's copies are collected in time anyway
  if (engine !== jsEngine || arena.byteLength * 4 < COLLECT_ABOVE_BYTES || b.coord.length <= chunk)
    return engine.evaluate(tape, arena, b.coord, b.delta, b.direction);
  // the TypeScript engine's own loop (js.ts evaluate), with the collections between chunks
  const count = b.coord.length;
  const values = new Float64Array(count);
  const branches = new Float64Array(count);
  const kinkNodes = tape.nodes.filter((n) => getOp(n.op).branch);
  const out = tape.nodes[tape.output];
  const work = arena.slice();
  for (let p = 0; p < count; p++) {
    if (p % chunk === 0) collectGarbage(COLLECT_ABOVE_BYTES, 'minor');
    work.set(arena);
    if (b.coord[p] >= 0) work[slots[b.coord[p]]] += b.delta[p];
    else for (let j = 0; j < slots.length; j++) work[slots[j]] += b.delta[p] * b.direction![j];
    engine.forward(tape, work);
    values[p] = work[out.offset];
    branches[p] = branchCode(tape, work, kinkNodes);
  }
  return { values, branches };
}

/**
 * The same tape with every output entry read at each point (for a Jacobian): one
 * forward pass per point on a copy of the arena, no branch codes.
 */
export function tapeOutputs(engine: Engine, tape: Tape, arena: Float64Array): { fn: FunctionUnderTest; evaluator: Evaluator } {
  const { fn } = tapeFunction(engine, tape, arena);
  const slots = inputSlots(tape);
  const out = tape.nodes[tape.output];
  const m = out.size;
  const work = arena.slice();
  const evaluate = (b: Batch): BatchValues => {
    const values = new Float64Array(b.coord.length * m);
    for (let p = 0; p < b.coord.length; p++) {
      checkDeadlineNow();
      work.set(arena);
      if (b.coord[p] >= 0) work[slots[b.coord[p]]] += b.delta[p];
      else for (let j = 0; j < slots.length; j++) work[slots[j]] += b.delta[p] * b.direction![j];
      engine.forward(tape, work);
      values.set(work.subarray(out.offset, out.offset + m), p * m);
    }
    return { values };
  };
  return { fn: { ...fn, kinkNote: undefined }, evaluator: { evaluate } };
}

/**
 * f carries rounding error of about ε·scale: every computed value v is rounded by about
 * ε|v|, and reaches f multiplied by ∂f/∂v. With the adjoint, scale = Σ |v|·|∂f/∂v| over
 * the computed nodes (first-order error analysis: (x + 1e10) − 1e10 is small, but every
 * evaluation of it is off by ~1e-6, while the 1e13 inside cbrt(x^2) at x = 3e6 costs
 * cbrt only 1e-12); without it (several outputs), the largest computed value. Inputs and
 * constants are exact.
 */
function roundingScale(tape: Tape, arena: Float64Array, adjoint?: Float64Array): number {
  let scale = 0;
  for (const n of tape.nodes) {
    if (!n.active || n.inputs.length === 0) continue;
    for (let k = n.offset; k < n.offset + n.size; k++) {
      const v = adjoint ? Math.abs(arena[k] * adjoint[k]) : Math.abs(arena[k]);
      if (!Number.isFinite(v)) continue;
      if (adjoint) scale += v;
      else if (v > scale) scale = v;
    }
  }
  return scale;
}

/** Which kink a step of ±h on arena slot `slot` crossed, for the message. */
function kinkNote(tape: Tape, arena: Float64Array, slot: number, h: number): string {
  const at = (d: number) => {
    const a = arena.slice();
    a[slot] += d;
    jsEngine.forward(tape, a);
    return a;
  };
  const points = [arena, at(h), at(-h)];
  for (const n of tape.nodes) {
    const op = getOp(n.op);
    if (!op.branch) continue;
    const codes = points.map((a) =>
      op.branch!(
        n.inputs.map((i): Tensor => ({ shape: tape.nodes[i].shape, data: a.subarray(tape.nodes[i].offset, tape.nodes[i].offset + tape.nodes[i].size) })),
        n.attrs,
      ),
    );
    if (codes[1] !== codes[0] || codes[2] !== codes[0]) {
      const where = n.span ? `, ${tape.source.slice(n.span.start, n.span.end)} at column ${n.span.start + 1}` : '';
      const exact = codes[1] !== codes[0] && codes[2] !== codes[0];
      return `${exact ? 'the point sits on' : `a step of ${stepText(h)} crosses`} a kink (${op.kink ?? n.op}${where})`;
    }
  }
  return 'a step crosses a kink';
}

/**
 * A formula's tape as a reference: Jᵀ·u by the engine's reverse pass at the point, flat
 * in the order of `inputs` (matched by name; an input the formula does not use gets 0).
 */
export function tapeReference(engine: Engine, tape: Tape, arena: Float64Array, inputs: InputSpec[]): (u: Float64Array) => Float64Array {
  const mine = new Map(tapeInputs(tape).map((s) => [s.name, s]));
  const n = inputs.reduce((s, i) => s + i.size, 0);
  return (u) => {
    const { adjoint } = engine.reverse(tape, arena, { edges: false, seed: u });
    const flat = gatherInputs(tape, adjoint);
    const out = new Float64Array(n);
    for (const inp of inputs) {
      const s = mine.get(inp.name);
      if (s) out.set(flat.subarray(s.offset, s.offset + s.size), inp.offset);
    }
    return out;
  };
}
