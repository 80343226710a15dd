#!/usr/bin/env node
// What a Hessian-vector product costs against one gradient, on the lecture's two-layer
// ReLU net (64×1000 → 100 → 10, as bench/mlp.mjs), with respect to W1 and W2
// (101,000 entries), on the native and the JavaScript engines.
//
//   npm run build && node bench/hessian.mjs          (--quick: fewer iterations)
//
// The gradient: the formula's tape, forward + reverse. H·v: the tape with the gradient's
// graph and ⟨∇f, v⟩ appended (src/subjects/formula/hessian.ts), forward + one reverse pass; "reused
// forward" is the reverse pass alone, what each further column of a Hessian costs at the
// same point. Both go through the same Engine calls and copy the same buffers. Medians
// after warm-up, best of alternating rounds (a shared machine disturbs some rounds).
// Not a timed test: it prints a table, the ratios, and the machine.
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, randn } from './seeded.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { compile, secondOrderTape } = await import(join(root, 'dist', 'index.js'));
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const FORMULA = 'sum((relu(x*W1)*W2 - y).^2)';
const [N, Din, H, Dout] = [64, 1000, 100, 10];

const values = {
  x: { shape: [N, Din], data: randn(N * Din, 1) },
  W1: { shape: [Din, H], data: randn(Din * H, 2) },
  W2: { shape: [H, Dout], data: randn(H * Dout, 3) },
  y: { shape: [N, Dout], data: randn(N * Dout, 4) },
};

function time(fn, iters) {
  for (let i = 0; i < Math.max(2, Math.ceil(iters / 10)); i++) fn();
  const t = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

const fmt = (ms) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));
console.log(`Hessian-vector product vs gradient: ${FORMULA}, N=${N}, D_in=${Din}, H=${H}, D_out=${Dout}, wrt W1, W2`);
console.log(`machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}\n`);
console.log('engine   nodes (tape → with ∇f, ⟨∇f,v⟩)   gradient ms   H·v ms   ratio   H·v, reused forward ms   ratio');
for (const engine of ['native', 'js']) {
  const so = secondOrderTape(FORMULA, values, { wrt: ['W1', 'W2'], engine });
  const v = randn(so.n, 5);
  const zero = new Float64Array(so.n);
  const iters = engine === 'native' ? (quick ? 50 : 300) : quick ? 3 : 10;
  const best = { grad: Infinity, hvp: Infinity, reverse: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    best.grad = Math.min(
      best.grad,
      time(() => so.fn.gradientAt(zero, 0), iters),
    );
    best.hvp = Math.min(
      best.hvp,
      time(() => {
        so.forward();
        so.hvp(v);
      }, iters),
    );
    best.reverse = Math.min(
      best.reverse,
      time(() => so.hvp(v), iters),
    );
  }
  console.log(
    `${so.engine.name.padEnd(8)} ${`${so.tape.nodes.length} → ${so.extended.nodes.length}`.padEnd(33)} ${fmt(best.grad).padStart(11)}   ${fmt(best.hvp).padStart(6)}   ${(best.hvp / best.grad).toFixed(2).padStart(4)}×   ${fmt(best.reverse).padStart(22)}   ${(best.reverse / best.grad).toFixed(2).padStart(4)}×`,
  );
}
// the one-call fast path of a gradient (compile().grad(): forward + reverse in one native call, buffers reused)
const c = compile(FORMULA, values, { wrt: ['W1', 'W2'] });
let fast = Infinity;
for (let r = 0; r < ROUNDS; r++)
  fast = Math.min(
    fast,
    time(() => c.grad(), quick ? 50 : 300),
  );
console.log(`\ncompile().grad(), the gradient's one-call fast path: ${fmt(fast)} ms`);
console.log('target: an H·v costs ≤ 5× one gradient (the same Engine calls on both sides: the ratio columns)');
