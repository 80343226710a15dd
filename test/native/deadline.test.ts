import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import type { Engine } from '../../src/core/engine/types.js';
import { TimeoutError, withDeadline } from '../../src/core/limits.js';
import { matmul } from '../../src/core/ops/linalg.js';
import type { Tensor } from '../../src/core/tensor.js';
import { Rng } from '../../src/core/random.js';
import { expectClose, nativeEngine, oneOpTape } from './harness.js';

/**
 * One matrix product stops at the deadline, inside the kernel, in both engines: a tape of
 * a single matmul node, so the engines' own checks between nodes come before the product
 * and never after it. Without a check inside, each pass here returns normally after
 * seconds (js: 3.4e9 multiply-adds, native: 8e9), whatever the machine's load; with one it
 * throws the run's timeout. The native engine runs here with the BLAS it finds, and with
 * its built-in kernel under `node scripts/build-native.mjs --variant noblas --test`.
 */
const full = (n: number, v: number): Tensor => ({ shape: [n, n], data: new Float64Array(n * n).fill(v) });

/** The deadline, seconds, and the slack allowed past it: the last block in progress and a loaded machine. */
const DEADLINE = 0.2;
const SLACK_MS = 15_000;

function matmulTape(n: number, a: number) {
  return oneOpTape(
    {
      op: matmul,
      shapes: [
        [n, n],
        [n, n],
      ],
      attrs: {},
      active: [true, true],
      domains: [],
      onKinks: false,
    },
    [full(n, a), full(n, 1)],
  );
}

/** Run `pass` of an n×n product of (a·ones)·ones under a deadline of `seconds`: it must throw the timeout, and soon after. */
function stopsInside(engine: Engine, n: number, a: number, pass: 'forward' | 'reverse' | 'jvp', seconds = DEADLINE): void {
  const { tape, arena } = matmulTape(n, a);
  const ones = new Float64Array(n * n).fill(1);
  const t0 = performance.now();
  const run = () =>
    withDeadline(seconds, () => {
      if (pass === 'forward') engine.forward(tape, arena);
      else if (pass === 'reverse') engine.reverse(tape, arena, { seed: ones });
      else engine.jvp(tape, arena, [ones, ones]);
    });
  expect(run).toThrow(TimeoutError);
  expect(performance.now() - t0).toBeLessThan(seconds * 1000 + SLACK_MS);
}

describe('--timeout stops inside one matrix product', () => {
  const engines: [string, () => Engine, number][] = [
    ['js', () => jsEngine, 1500],
    ['native', nativeEngine, 2000],
  ];
  for (const [name, engine, n] of engines) {
    for (const pass of ['forward', 'reverse', 'jvp'] as const) {
      it(`${name} ${pass}: a ${n}×${n} product (its vjp, its jvp) throws the timeout`, () => stopsInside(engine(), n, 1, pass));
    }
    // every entry overflows (1e306·n) and is computed again exactly, ~6x slower than the
    // product: the deadline falls after the product (timed here, plain) and inside the recompute
    it(`${name}: the exact recompute of an overflowing product throws the timeout`, () => {
      const small = n / 2;
      const { tape, arena } = matmulTape(small, 1);
      const t0 = performance.now();
      engine().forward(tape, arena);
      stopsInside(engine(), small, 1e306, 'forward', (2 * (performance.now() - t0)) / 1000 + DEADLINE);
    });
  }

  it('a product split into blocks is the whole product: rows, columns and the inner dimension, each transpose', () => {
    // [20,33000]·[33000,260]: BLAS calls of 16 rows × 256 columns × 32768 of k and what is left
    // of each (gemm.cc blasBlocks); G·Bᵀ splits its columns, Aᵀ·G its rows
    const rng = new Rng(7);
    const rand = (shape: [number, number]): Tensor => ({ shape, data: Float64Array.from({ length: shape[0] * shape[1] }, () => rng.normal()) });
    const values = [rand([20, 33000]), rand([33000, 260])];
    const seed = rand([20, 260]).data;
    const results = [jsEngine, nativeEngine()].map((engine) => {
      const { tape, arena } = oneOpTape(
        { op: matmul, shapes: values.map((v) => v.shape), attrs: {}, active: [true, true], domains: [], onKinks: false },
        values,
      );
      engine.forward(tape, arena);
      const out = tape.nodes[tape.output];
      // dA = G·Bᵀ and dB = Aᵀ·G read B and A transposed
      const { adjoint } = engine.reverse(tape, arena, { seed });
      return { value: arena.slice(out.offset, out.offset + out.size), adjoint };
    });
    expectClose(results[1].value, results[0].value, 1e-12, 'A·B', true);
    expectClose(results[1].adjoint, results[0].adjoint, 1e-12, 'dA, dB', true);
  }, 120_000);
});
