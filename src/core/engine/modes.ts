import type { Tape } from '../graph/tape.js';
import { view } from '../graph/tape.js';
import type { Engine } from './types.js';

/**
 * The two modes as whole Jacobians: forward mode takes one pass per input entry (n),
 * reverse mode one pass per output entry (m). A gradient is the m = 1 case.
 */
/** The adjoints (or any arena-shaped buffer) of the tape inputs, concatenated. */
export function gatherInputs(tape: Tape, buf: Float64Array): Float64Array {
  const parts = tape.inputs.map((i) => view(buf, tape.nodes[i.node]));
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Column j: the output tangent when input entry j moves at unit speed. */
export function forwardJacobian(engine: Engine, tape: Tape, arena: Float64Array, m: number, n: number): Float64Array {
  const J = new Float64Array(m * n);
  let j = 0;
  tape.inputs.forEach((inp, k) => {
    const size = tape.nodes[inp.node].size;
    for (let e = 0; e < size; e++, j++) {
      const dots: (Float64Array | null)[] = tape.inputs.map(() => null);
      dots[k] = new Float64Array(size);
      dots[k]![e] = 1;
      const col = engine.jvp(tape, arena, dots);
      for (let i = 0; i < m; i++) J[i * n + j] = col[i];
    }
  });
  return J;
}

/** Row i: the gradient of output entry i, by one reverse pass seeded with e_i. */
export function reverseJacobian(engine: Engine, tape: Tape, arena: Float64Array, m: number, n: number): Float64Array {
  const J = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const seed = new Float64Array(m);
    seed[i] = 1;
    J.set(gatherInputs(tape, engine.reverse(tape, arena, { seed }).adjoint), i * n);
  }
  return J;
}
