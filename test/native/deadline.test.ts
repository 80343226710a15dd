import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { nativeAddon, tapeSpec } from '../../src/core/engine/native.js';
import type { Engine } from '../../src/core/engine/types.js';
import type { Tape, TapeNode } from '../../src/core/graph/tape.js';
import { TimeoutError, withDeadline } from '../../src/core/limits.js';
import { matmul } from '../../src/core/ops/linalg.js';
import type { Shape, Tensor } from '../../src/core/tensor.js';
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
    // (gemm.cc blasPool, blasBlocks) [20,33000]·[33000,260] is cut along its inner dimension
    // (over threads, or in calls of 25600 and the rest); G·Bᵀ along its inner dimension (256
    // and 4) and its columns, Aᵀ·G along its rows; both read B and A transposed in place (the
    // transposes are read only by the products and not kept)
    const rng = new Rng(7);
    const shapes: Shape[] = [
      [20, 33000],
      [33000, 260],
      [20, 260],
      [20, 260],
      [260, 33000],
      [20, 33000],
      [33000, 20],
      [33000, 260],
    ];
    const ops: [string, number[]][] = [
      ['input', []],
      ['input', []],
      ['input', []],
      ['matmul', [0, 1]],
      ['transpose', [1]],
      ['matmul', [2, 4]],
      ['transpose', [0]],
      ['matmul', [6, 2]],
    ];
    let offset = 0;
    const nodes: TapeNode[] = ops.map(([op, inputs], id) => {
      const size = shapes[id][0] * shapes[id][1];
      offset += size;
      return { id, op, inputs, shape: shapes[id], size, offset: offset - size, attrs: {}, label: op, active: true };
    });
    const tape: Tape = {
      source: 'blocks',
      nodes,
      output: 7,
      inputs: [0, 1, 2].map((id) => ({ name: `x${id}`, node: id, shape: shapes[id] })),
      indexVars: [],
      arenaSize: offset,
    };
    const arena = new Float64Array(offset);
    for (let k = 0; k < nodes[3].offset; k++) arena[k] = rng.normal();
    const js = arena.slice();
    jsEngine.forward(tape, js);
    nativeEngine();
    const a = nativeAddon()!;
    const got = arena.slice();
    a.forward(a.compile(tapeSpec(a, tape, [])).handle, got);
    for (const [id, what] of [
      [3, 'A·B'],
      [5, 'G·Bᵀ'],
      [7, 'Aᵀ·G'],
    ] as const) {
      const n = nodes[id];
      expectClose(got.subarray(n.offset, n.offset + n.size), js.subarray(n.offset, n.offset + n.size), 1e-12, what, true);
    }
  }, 120_000);
});
