import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiled.js';
import { prepare } from '../../src/grad.js';
import { makeArena } from '../../src/graph/tape.js';
import { Rng } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';
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

function values(rng: Rng): Record<string, Tensor> {
  const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  return { x: t([16, 40]), W1: t([40, 30]), W2: t([30, 5]), y: t([16, 5]) };
}

describe('native engine: memory over many calls', () => {
  it(`${CALLS} compiled grad() calls: RSS flat`, () => {
    nativeEngine();
    const c = compile('sum((relu(x*W1)*W2 - y).^2)', values(new Rng(1)), { wrt: ['W1', 'W2'] });
    expect(c.engine).toBe('native');
    for (let i = 0; i < 1000; i++) c.grad();
    const before = rss();
    let v = 0;
    for (let i = 0; i < CALLS; i++) v += c.grad().value;
    const growth = rss() - before;
    console.log(`compiled grad(): RSS ${before.toFixed(1)} MB → ${(before + growth).toFixed(1)} MB over ${CALLS} calls (${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MB)`);
    expect(Number.isFinite(v)).toBe(true);
    expect(growth).toBeLessThan(LIMIT_MB);
  });

  it(`${CALLS * 2} engine calls (forward, reverse with edges, jvp, evaluate): RSS flat`, () => {
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
    // collection the RSS moves in steps of tens of MB as V8 keeps or returns heap pages; a
    // leak is a trend, so fit one robustly (Theil–Sen: the median of pairwise slopes)
    const perWindow = CALLS / 5; // calls between readings
    const readings: number[] = [];
    for (let c = 0; c < 10; c++) {
      for (let i = 0; i < perWindow / 4; i++) round();
      readings.push(rss());
    }
    const slopes: number[] = [];
    for (let i = 0; i < readings.length; i++) for (let j = i + 1; j < readings.length; j++) slopes.push((readings[j] - readings[i]) / (j - i));
    slopes.sort((a, b) => a - b);
    const bytesPerCall = (slopes[slopes.length >> 1] * 2 ** 20) / perWindow;
    const trendMb = (bytesPerCall * CALLS) / 2 ** 20;
    console.log(`engine calls: ${perWindow * 10} calls, RSS readings ${readings.map((r) => r.toFixed(0)).join(' ')} MB; trend ${bytesPerCall.toFixed(1)} bytes/call (${trendMb.toFixed(2)} MB per ${CALLS} calls)`);
    // a leak of one small buffer per call (≥ 200 bytes) fails this
    expect(bytesPerCall).toBeLessThan(200);
  });
});
