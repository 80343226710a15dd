import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/subjects/formula/compiled.js';
import { prepare } from '../../src/subjects/formula/grad.js';
import { makeArena } from '../../src/core/graph/tape.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { nativeAddon } from '../../src/core/engine/native.js';
import { nativeEngine } from './harness.js';

/**
 * 10,000 native calls in one process leave the resident set flat: nothing leaks per
 * call on either side of the boundary (C++ reuses its scratch buffers; JS buffers are
 * collected). Measured after a warm-up and a full garbage collection each side, so
 * what is left is what a leak would keep.
 */
const CALLS = 10_000;
// ASAN keeps freed memory in quarantine (capped by ASAN_OPTIONS quarantine_size_mb in test:asan)
const LIMIT_MB = process.env.AUTOGRAD_NATIVE_VARIANT === 'asan' ? 48 : 8;

// a full collection before each reading (vitest's workers do not run with --expose-gc)
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rss = () => {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};
/** Theil–Sen: the median of the pairwise slopes of a series (per step), robust to outliers. */
function trend(y: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < y.length; i++) for (let j = i + 1; j < y.length; j++) slopes.push((y[j] - y[i]) / (j - i));
  slopes.sort((a, b) => a - b);
  return slopes[slopes.length >> 1];
}

/** A full collection, a pause for V8's background threads to free dead buffers, another collection. */
async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, 25));
  gc();
}

function values(rng: Rng): Record<string, Tensor> {
  const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  return { x: t([16, 40]), W1: t([40, 30]), W2: t([30, 5]), y: t([16, 5]) };
}

describe('native engine: memory over many calls', () => {
  it(`${CALLS} compiled grad() calls: RSS flat`, async () => {
    nativeEngine();
    const c = compile('sum((relu(x*W1)*W2 - y).^2)', values(new Rng(1)), { wrt: ['W1', 'W2'] });
    expect(c.engine).toBe('native');
    for (let i = 0; i < 1000; i++) c.grad();
    await settle();
    const before = rss();
    let v = 0;
    for (let i = 0; i < CALLS; i++) v += c.grad().value;
    await settle();
    const growth = rss() - before;
    console.log(
      `compiled grad(): RSS ${before.toFixed(1)} MB → ${(before + growth).toFixed(1)} MB over ${CALLS} calls (${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MB)`,
    );
    expect(Number.isFinite(v)).toBe(true);
    expect(growth).toBeLessThan(LIMIT_MB);
  });

  it(`${CALLS * 2} engine calls (forward, reverse with edges, jvp, evaluate): the C++ heap flat`, async () => {
    const native = nativeEngine();
    const vals = values(new Rng(2));
    const tape = prepare('sum(softmax(relu(x*W1)*W2) .* y) + norm(W1, "fro")', vals, { wrt: ['W1', 'W2'] });
    const arena = makeArena(tape, vals);
    const dots = tape.inputs.map((i) => new Float64Array(tape.nodes[i.node].size).fill(0.5));
    const coord = Int32Array.from({ length: 8 }, (_, k) => k);
    const delta = new Float64Array(8).fill(1e-5);
    const round = () => {
      native.forward(tape, arena);
      native.reverse(tape, arena, { edges: true });
      native.jvp(tape, arena, dots);
      native.evaluate(tape, arena, coord, delta);
    };
    for (let i = 0; i < 1000; i++) round();
    // these calls allocate their JS results (adjoints, edges, values), so even after a full
    // collection the RSS moves in steps of tens of MB as V8 keeps or returns heap pages.
    // What the C++ side could leak is malloc'd memory: count that (glibc's mallinfo2), and
    // fit a trend robustly (Theil–Sen: the median of pairwise slopes).
    const addon = nativeAddon()!;
    const perWindow = CALLS / 5; // calls between readings
    const heap: number[] = [];
    const resident: number[] = [];
    for (let c = 0; c < 10; c++) {
      for (let i = 0; i < perWindow / 4; i++) round();
      await settle();
      heap.push(addon.mallocInUse() ?? 0);
      resident.push(rss());
    }
    const bytesPerCall = trend(heap) / perWindow;
    const rssPerCall = (trend(resident) * 2 ** 20) / perWindow;
    console.log(
      `engine calls: ${perWindow * 10} calls; malloc in use ${(heap[0] / 2 ** 20).toFixed(2)} → ${(heap[9] / 2 ** 20).toFixed(2)} MB, trend ${bytesPerCall.toFixed(2)} bytes/call; RSS ${resident.map((r) => r.toFixed(0)).join(' ')} MB, trend ${rssPerCall.toFixed(1)} bytes/call`,
    );
    // one leaked allocation per call (32 bytes at least, with malloc's header) fails this
    expect(bytesPerCall).toBeLessThan(16);
    expect(rssPerCall).toBeLessThan(LIMIT_MB * 100);
  });
});
