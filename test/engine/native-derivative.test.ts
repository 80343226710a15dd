import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { sizeOf, type Shape, type Tensor } from '../../src/core/tensor.js';
import { view, type Tape } from '../../src/core/graph/tape.js';
import { expectClose, jsEngine, nativeEngine, NORMWISE, oneOpTape, opsUnderTest, randomCase, randomValues } from '../native/harness.js';

/**
 * The native engine's derivatives are derivative tapes run by its forward kernels
 * (engine/derivative-tape.ts): op by op, at random shapes and points (kinks included),
 * its reverse mode (every edge too) and forward mode against the TypeScript engine,
 * which computes the same graph rules eagerly. Needs the addon with the gmul and
 * scatter kernels and the forward-from-a-node call.
 */
const TRIALS = 12;
const REL = 1e-12;

const randomTensor = (rng: Rng, shape: Shape): Tensor => ({ shape, data: Float64Array.from({ length: sizeOf(shape) }, () => rng.normal()) });
const inputsOf = (tape: Tape, buf: Float64Array) => Float64Array.from(tape.inputs.flatMap((inp) => Array.from(view(buf, tape.nodes[inp.node]))));

describe('native derivative tapes = the TypeScript engine, op by op', () => {
  const native = nativeEngine();
  for (const op of opsUnderTest()) {
    it(op.name, () => {
      const rng = new Rng(6007 + op.name.length * 41 + op.name.charCodeAt(0));
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = randomCase(rng, op);
        const values = randomValues(rng, c);
        const { tape, arena } = oneOpTape(c, values);
        native.forward(tape, arena);
        const where = `${op.name} ${JSON.stringify(c.shapes)} at ${JSON.stringify(values.map((v) => Array.from(v.data)))}`;
        const normwise = NORMWISE.has(op.name);
        const g = randomTensor(rng, tape.nodes[tape.output].shape).data;
        const nat = native.reverse(tape, arena, { seed: g, edges: true });
        const js = jsEngine.reverse(tape, arena, { seed: g, edges: true });
        expectClose(inputsOf(tape, nat.adjoint), inputsOf(tape, js.adjoint), REL, `${where}: reverse`, normwise);
        expect(nat.edges!.length).toBe(js.edges!.length);
        nat.edges!.forEach((e, k) => expectClose(e.contribution, js.edges![k].contribution, REL, `${where}: edge ${k}`, normwise));
        const dots = tape.inputs.map((inp) => randomTensor(rng, tape.nodes[inp.node].shape).data);
        expectClose(native.jvp(tape, arena, dots), jsEngine.jvp(tape, arena, dots), REL, `${where}: forward mode`, normwise);
      }
    });
  }
});
