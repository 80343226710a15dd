#!/usr/bin/env node
// The lecture's two-layer ReLU net, float64, forward + backward with respect to W1 and
// W2, in-process through the library API (compile() once, then grad() per step), on the
// native and the JavaScript engines; and, when /usr/bin/python3 can import torch, PyTorch's
// (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().backward() on the same sizes.
//
//   npm run build && node bench/mlp.mjs            (npm run bench:mlp)
//   node bench/mlp.mjs --quick                     fewer iterations, no JS engine at the 10× size
//   node bench/mlp.mjs --rounds N                  N alternating rounds (default 5; on a busy machine, more)
//   node bench/mlp.mjs --compare a.node b.node ... native builds against each other: each
//                                                  round runs every addon in its own process
//                                                  (AUTOGRAD_NATIVE_PATH), alternating; ratios
//                                                  are to the first (the prebuild against the
//                                                  source build, BLAS loaded or linked)
//
// Not a timed test: prints a table and the machine it ran on. Each time is the median of
// many runs after warm-up; native and PyTorch are measured in alternating rounds and the
// best round's median is reported (on a shared machine a round can be disturbed; every
// round is printed too).
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, randn } from './seeded.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { compile } = await import(join(root, 'dist', 'index.js'));
const quick = process.argv.includes('--quick');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Math.max(1, Number(process.argv[roundsArg + 1]) || 1) : quick ? 1 : 5;
// one child of --compare: the native engine only, one round, medians as JSON on stdout
const nativeOnly = process.argv.includes('--native-only');

const FORMULA = 'sum((relu(x*W1)*W2 - y).^2)';
const SIZES = [
  { name: 'lecture', N: 64, Din: 1000, H: 100, Dout: 10, iters: { native: quick ? 200 : 1000, js: quick ? 10 : 30, torch: quick ? 200 : 1000 } },
  { name: '10×', N: 640, Din: 4000, H: 1000, Dout: 100, iters: { native: quick ? 5 : 20, js: quick ? 0 : 3, torch: quick ? 5 : 20 } },
];

function values({ N, Din, H, Dout }) {
  return {
    x: { shape: [N, Din], data: randn(N * Din, 1) },
    W1: { shape: [Din, H], data: randn(Din * H, 2) },
    W2: { shape: [H, Dout], data: randn(H * Dout, 3) },
    y: { shape: [N, Dout], data: randn(N * Dout, 4) },
  };
}

/** Median ms of one grad() after warm-up. */
function time(c, iters) {
  const warm = Math.max(2, Math.ceil(iters / 10));
  for (let i = 0; i < warm; i++) c.grad();
  const t = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    c.grad();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { median: median(t), min: Math.min(...t) };
}

function maxRelDiff(a, b) {
  let m = 0;
  let scale = 0;
  for (let k = 0; k < a.length; k++) scale = Math.max(scale, Math.abs(b[k]));
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]) / scale);
  return m;
}

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function torchTimes() {
  if (!torchAvailable) return null;
  const r = spawnSync(
    '/usr/bin/python3',
    [
      join(root, 'bench', 'mlp_torch.py'),
      '--sizes',
      ...SIZES.map((s) => `${s.N},${s.Din},${s.H},${s.Dout}`),
      '--iters',
      SIZES.map((s) => s.iters.torch).join(','),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) {
    console.error(`PyTorch bench failed: ${r.stderr}`);
    return null;
  }
  return JSON.parse(r.stdout);
}

if (process.argv.includes('--compare')) {
  compareAddons(process.argv.slice(process.argv.indexOf('--compare') + 1).filter((a) => a.endsWith('.node')));
  process.exit(0);
}
if (nativeOnly) {
  const c = SIZES.map((size) => compile(FORMULA, values(size), { wrt: ['W1', 'W2'], engine: 'native' }));
  console.log(JSON.stringify(SIZES.map((size, i) => time(c[i], size.iters.native).median)));
  process.exit(0);
}

/** --compare: the same MLP on each addon, in alternating rounds of one process each; best round and median of rounds. */
function compareAddons(addons) {
  const runs = addons.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // each round starts with the next addon, so none is always first after a pause
    addons.forEach((_, k) => {
      const a = (k + round) % addons.length;
      const path = addons[a];
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--native-only', ...(quick ? ['--quick'] : [])], {
        encoding: 'utf8',
        env: { ...process.env, AUTOGRAD_NATIVE_PATH: path },
      });
      if (r.status !== 0) throw new Error(`${path}: ${r.stderr}`);
      runs[a].push(JSON.parse(r.stdout));
    });
  }
  const info = (path) => {
    const d = spawnSync(process.execPath, [join(root, 'bin', 'autograd-cli.js'), 'doctor', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, AUTOGRAD_NATIVE_PATH: path },
    });
    try {
      const j = JSON.parse(d.stdout);
      return `${j.blas}${j.blasFrom ? ` from ${j.blasFrom}` : ''}`;
    } catch {
      return '?';
    }
  };
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; Node ${process.version}; ${ROUNDS} alternating rounds, ms per grad() (median of N runs)\n`,
  );
  addons.forEach((path, a) => console.log(`[${a}] ${path}\n    BLAS: ${info(path)}`));
  console.log('');
  // ratios to [0] round by round (the two ran minutes apart at most), then their median: steadier than ratios of medians
  const head = [
    'size',
    ...addons.map((_, a) => `[${a}] best (median of rounds)`),
    ...addons.slice(1).map((_, a) => `[${a + 1}]/[0] best; median of round ratios`),
  ];
  console.log(head.join(' | '));
  console.log(head.map(() => '---').join(' | '));
  SIZES.forEach((size, i) => {
    const per = runs.map((r) => r.map((x) => x[i]));
    const best = per.map((p) => Math.min(...p));
    const med = per.map((p) => median(p));
    console.log(
      [
        `${size.name} (${size.N}, ${size.Din}, ${size.H}, ${size.Dout})`,
        ...per.map((_, a) => `${best[a].toFixed(3)} (${med[a].toFixed(3)})`),
        ...per.slice(1).map((p, a) => `${(best[a + 1] / best[0]).toFixed(2)}×; ${median(p.map((v, r) => v / per[0][r])).toFixed(2)}×`),
      ].join(' | '),
    );
  });
}

const rows = SIZES.map((size) => ({ size, native: [], torch: [] }));
const compiled = SIZES.map((size) => compile(FORMULA, values(size), { wrt: ['W1', 'W2'], engine: 'auto' }));
if (compiled[0].engine !== 'native') console.error('note: the native engine is not loaded; "native" below is the JS engine');
let torch = null;
for (let round = 0; round < ROUNDS; round++) {
  rows.forEach((row, i) => row.native.push(time(compiled[i], row.size.iters.native).median));
  const t = torchTimes();
  if (t) {
    torch = t;
    rows.forEach((row, i) => row.torch.push(t.sizes[i].medianMs));
  }
}
// the JavaScript engine once (it is slow at the 10× size), and both engines' gradients compared
rows.forEach((row, i) => {
  const { size } = row;
  if (size.iters.js === 0) return;
  const js = compile(FORMULA, values(size), { wrt: ['W1', 'W2'], engine: 'js' });
  row.js = time(js, size.iters.js).median;
  const gj = js.grad().gradient;
  const gn = compiled[i].grad().gradient;
  row.agree = Math.max(maxRelDiff(gn.W1, gj.W1), maxRelDiff(gn.W2, gj.W2));
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
// what the native engine runs on, as `autograd-cli doctor` reports it
let blas = '?';
const doctor = spawnSync(process.execPath, [join(root, 'bin', 'autograd-cli.js'), 'doctor', '--json'], { encoding: 'utf8' });
try {
  blas = JSON.parse(doctor.stdout).blas ?? '?';
} catch {
  // doctor unavailable: leave '?'
}
console.log(`machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; native BLAS: ${blas}`);
if (torch) console.log(`PyTorch ${torch.torch} (${torch.threads} threads; its default is ${torch.defaultThreads}; BLAS_INFO=${torch.blas})`);
console.log(`formula: ${FORMULA}  (float64, gradient w.r.t. W1 and W2; median of N runs after warm-up)\n`);
const fmt = (v) => (v === undefined ? '—' : v < 10 ? v.toFixed(3) : v.toFixed(1));
const head = ['size (N, D_in, H, D_out)', 'native ms', 'js ms', 'pytorch ms', 'native/pytorch', 'js/pytorch', 'native vs js (max rel diff)'];
console.log(head.join(' | '));
console.log(head.map(() => '---').join(' | '));
const best = (a) => (a.length ? Math.min(...a) : undefined);
rows.forEach((r) => {
  const s = r.size;
  const nat = best(r.native);
  const t = best(r.torch);
  console.log(
    [
      `${s.name} (${s.N}, ${s.Din}, ${s.H}, ${s.Dout})`,
      `${fmt(nat)} (n=${s.iters.native})`,
      r.js === undefined ? '—' : `${fmt(r.js)} (n=${s.iters.js})`,
      t === undefined ? '—' : `${fmt(t)} (n=${s.iters.torch})`,
      t === undefined ? '—' : `${(nat / t).toFixed(2)}×`,
      t === undefined || r.js === undefined ? '—' : `${(r.js / t).toFixed(1)}×`,
      r.agree === undefined ? '—' : r.agree.toExponential(1),
    ].join(' | '),
  );
});
if (ROUNDS > 1) {
  console.log('\nrounds (median ms each):');
  for (const r of rows) {
    const ratio = r.torch.length ? `; median of rounds: native/pytorch ${(median(r.native) / median(r.torch)).toFixed(2)}×` : '';
    console.log(`  ${r.size.name}: native ${r.native.map(fmt).join(', ')}${r.torch.length ? `; pytorch ${r.torch.map(fmt).join(', ')}` : ''}${ratio}`);
  }
}
