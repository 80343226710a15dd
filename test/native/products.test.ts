import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { nativeAddon, tapeSpec } from '../../src/core/engine/native.js';
import type { Tape, TapeNode } from '../../src/core/graph/tape.js';
import { Rng } from '../../src/core/random.js';
import type { Shape } from '../../src/core/tensor.js';
import { expectClose, nativeEngine } from './harness.js';

/**
 * Matrix products large enough to be split over the engine's threads (native/src/gemm.cc
 * blasPool): along the inner dimension when C is small beside the operands, else along
 * C's longer side; and matrix-vector products, in pieces of C; each with either operand
 * read through a transpose. Each must be the
 * whole product, and the same bits run after run (the split does not depend on which
 * thread takes which piece). On one core, or without BLAS, the same shapes run unsplit.
 */
function productTape(m: number, k: number, n: number, tA: boolean, tB: boolean): { tape: Tape; out: TapeNode } {
  const nodes: TapeNode[] = [];
  let offset = 0;
  const add = (op: string, inputs: number[], shape: Shape): number => {
    const size = shape[0] * shape[1];
    nodes.push({ id: nodes.length, op, inputs, shape, size, offset, attrs: {}, label: op, active: true });
    offset += size;
    return nodes.length - 1;
  };
  // op(A) is [m,k] and op(B) [k,n]; a transposed operand is stored the other way round
  const a = add('input', [], tA ? [k, m] : [m, k]);
  const b = add('input', [], tB ? [n, k] : [k, n]);
  const opA = tA ? add('transpose', [a], [m, k]) : a;
  const opB = tB ? add('transpose', [b], [k, n]) : b;
  const c = add('matmul', [opA, opB], [m, n]);
  const tape: Tape = {
    source: 'product',
    nodes,
    output: c,
    inputs: [a, b].map((id, i) => ({ name: `x${i}`, node: id, shape: nodes[id].shape })),
    indexVars: [],
    arenaSize: offset,
  };
  return { tape, out: nodes[c] };
}

describe('matrix products split over threads', () => {
  const shapes: [string, number, number, number][] = [
    ['inner dimension (a small batch times a wide layer)', 64, 1000, 100],
    ['inner dimension of odd length', 30, 1001, 50],
    ["C's rows (Xᵀ·G of a layer's gradient)", 1000, 64, 100],
    ["C's columns", 100, 300, 700],
    ['a matrix times a column', 3000, 700, 1],
    ['a row times a matrix', 1, 700, 3000],
  ];
  for (const [what, m, k, n] of shapes) {
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${what}: [${m},${k}]·[${k},${n}]${tA ? ', A transposed' : ''}${tB ? ', B transposed' : ''}`, () => {
        nativeEngine();
        const a = nativeAddon()!;
        const { tape, out } = productTape(m, k, n, tA, tB);
        const rng = new Rng(m + k + n);
        const arena = new Float64Array(tape.arenaSize);
        const inputsEnd = tape.nodes[1].offset + tape.nodes[1].size;
        for (let i = 0; i < inputsEnd; i++) arena[i] = rng.normal();
        const js = arena.slice();
        jsEngine.forward(tape, js);
        const h = a.compile(tapeSpec(a, tape, [])).handle;
        const got = arena.slice();
        a.forward(h, got);
        const c = (x: Float64Array) => x.subarray(out.offset, out.offset + out.size);
        expectClose(c(got), c(js), 1e-12, 'C', true);
        for (let run = 0; run < 5; run++) {
          const again = arena.slice();
          a.forward(h, again);
          expect(c(again).every((v, i) => Object.is(v, c(got)[i]))).toBe(true);
        }
      });

      it(`${what}, tA ${tA}, tB ${tB}: an entry whose products overflow is the exact sum's, in the first piece of C and the last`, () => {
        // op(A)'s row i is (h, h, …) and op(B)'s column j (h, −h, h, …): each product is ±Inf,
        // so BLAS's sum is NaN, where the exact sum is 0 (k even) or +Inf (k odd); each piece of
        // C is scanned for it by the thread that made it
        nativeEngine();
        const a = nativeAddon()!;
        const { tape, out } = productTape(m, k, n, tA, tB);
        const rng = new Rng(m + k + n + 1);
        const arena = new Float64Array(tape.arenaSize);
        const [A, B] = [tape.nodes[0], tape.nodes[1]];
        for (let i = 0; i < B.offset + B.size; i++) arena[i] = rng.normal();
        const big = 1e200;
        for (const [i, j] of [
          [0, 0],
          [m - 1, n - 1],
        ]) {
          for (let p = 0; p < k; p++) {
            arena[A.offset + (tA ? p * m + i : i * k + p)] = big;
            arena[B.offset + (tB ? j * k + p : p * n + j)] = p % 2 === 0 ? big : -big;
          }
        }
        const js = arena.slice();
        jsEngine.forward(tape, js);
        const got = arena.slice();
        a.forward(a.compile(tapeSpec(a, tape, [])).handle, got);
        const c = (x: Float64Array) => x.subarray(out.offset, out.offset + out.size);
        expect(c(js)[0]).toBe(k % 2 === 0 ? 0 : Infinity);
        expect(c(got)[0]).toBe(c(js)[0]);
        expect(c(got)[m * n - 1]).toBe(c(js)[m * n - 1]);
        expectClose(c(got), c(js), 1e-12, 'C', true);
      });
    }
  }
});
