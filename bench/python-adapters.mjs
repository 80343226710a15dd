#!/usr/bin/env node
// gradcheck --python / --torch: what checking a typical layer (≤ 100 input entries)
// costs beyond the interpreter's own start and imports, beside torch.autograd.gradcheck
// on the same layer. Every row is a whole process, wall time from spawn to exit, the
// median of --runs runs taken in turn (so machine load falls on all rows alike), each
// row's differences paired with its baseline taken right before it:
//
//   - baselines: `python3 -c "import numpy"` and `python3 -c "import torch"` (each left
//     with os._exit, as the adapter and the gradcheck script leave: no teardown);
//   - autograd-cli gradcheck --python bench/layers_numpy.py#NAME (NumPy, (value, gradients))
//     and --torch bench/layers_torch.py#NAME (custom autograd.Functions, torch.autograd);
//   - python3 bench/layers_torch.py NAME: torch.autograd.gradcheck on the same function
//     (a NumPy layer's torch twin), the same sizes, float64, its default settings.
//
// "beyond imports" is a row's wall (and CPU time, user + system with its children, where
// GNU time is installed: the figure machine load does not move) less its baseline's
// (import numpy for --python, import torch for the rest): the CLI's own start (Node) is in
// it. Target: ≤ 1 s wall.
//
//   node bench/python-adapters.mjs [--runs 5] [--interpreter PYTHON] [--json] [--check]
//
// The Python must have NumPy and torch (default: python3, else /usr/bin/python3).
// --check exits 1 when a CLI row is more than 1 s beyond its imports. Not part of
// `npm test`; run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './seeded.mjs';

const TARGET_MS = 1000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'autograd-cli.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(flag('--runs', 5));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (!existsSync(join(root, 'dist', 'cli.cjs'))) {
  process.stderr.write('bench/python-adapters: the CLI is not built; run `npm run build` first\n');
  process.exit(2);
}
const python =
  flag('--interpreter', undefined) ??
  ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import numpy, torch'], { stdio: 'ignore' }).status === 0);
if (!python) {
  process.stderr.write('bench/python-adapters: no python3 here has NumPy and torch (apt-get install python3-numpy python3-torch, or --interpreter)\n');
  process.exit(2);
}

/** [label, input entries, the CLI's arguments, the torch.autograd.gradcheck layer, its baseline] */
const LAYERS = [
  ['softmax loss, NumPy (--python)', 55, ['--python', 'bench/layers_numpy.py#softmax_np', '--at', 'W=randn(10,5),b=randn(5)'], 'softmax', 'numpy'],
  ['2-layer tanh MLP, NumPy (--python)', 84, ['--python', 'bench/layers_numpy.py#mlp_np', '--at', 'W1=randn(10,6),W2=randn(6,4)'], 'mlp', 'numpy'],
  ['sigmoid Function, 16 → 16 (--torch)', 16, ['--torch', 'bench/layers_torch.py#Sigmoid.apply', '--at', 'x=randn(16)'], 'sigmoid', 'torch'],
  [
    'linear Function, 76 → 32 (--torch)',
    76,
    ['--torch', 'bench/layers_torch.py#Linear.apply', '--at', 'x=randn(8,6),W=randn(4,6),b=randn(4)'],
    'linear',
    'torch',
  ],
  [
    'sum(tanh(linear Function)) (--torch)',
    76,
    ['--torch', 'bench/layers_torch.py#linear_loss', '--at', 'x=randn(8,6),W=randn(4,6),b=randn(4)'],
    'linear_loss',
    'torch',
  ],
  ['softmax loss, torch ops (--torch)', 55, ['--torch', 'bench/layers_torch.py#softmax_torch', '--at', 'W=randn(10,5),b=randn(5)'], 'softmax', 'torch'],
];

// CPU time (user + system, the process and its children) where GNU time is installed
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const cpuFile = join(tmpdir(), `python-adapters-${process.pid}.time`);

function once(cmd, argv) {
  const t0 = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...argv], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    : spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpuMs = TIME
    ? readFileSync(cpuFile, 'utf8')
        .trim()
        .split(/\s+/)
        .slice(-2)
        .reduce((a, b) => a + Number(b) * 1000, 0)
    : NaN;
  return { ms, cpuMs, stdout: r.stdout };
}

// torch's teardown at exit costs ~0.25 s of CPU: the baseline, the adapter and the
// torch.autograd.gradcheck script all leave without it (os._exit)
const importOf = (module) => () => once(python, ['-c', `import ${module}, os; os._exit(0)`]);
// each row's baseline is taken right before it, in every run: the difference is paired
const rows = LAYERS.map(([label, entries, cli, layer, base]) => ({ label, entries, base, cli, layer, runs: [] }));
for (let k = 0; k < runs; k++) {
  for (const row of rows) {
    const baseline = importOf(row.base)();
    const ours = once(process.execPath, [bin, 'gradcheck', ...row.cli, '--interpreter', python, '--reporter', 'json']);
    const torchBaseline = importOf('torch')();
    const theirs = once(python, ['bench/layers_torch.py', row.layer]);
    row.evaluations = JSON.parse(ours.stdout).evaluations;
    row.runs.push({ baseline, ours, torchBaseline, theirs });
  }
}
rmSync(cpuFile, { force: true });
const med = (row, f) => median(row.runs.map(f));
const table = rows.map((row) => ({
  layer: row.label,
  entries: row.entries,
  evaluations: row.evaluations,
  baselineMs: med(row, (r) => r.baseline.ms),
  cliMs: med(row, (r) => r.ours.ms),
  cliBeyondMs: med(row, (r) => r.ours.ms - r.baseline.ms),
  cliCpuBeyondMs: med(row, (r) => r.ours.cpuMs - r.baseline.cpuMs),
  torchMs: med(row, (r) => r.theirs.ms),
  torchBeyondMs: med(row, (r) => r.theirs.ms - r.torchBaseline.ms),
  torchCpuBeyondMs: med(row, (r) => r.theirs.cpuMs - r.torchBaseline.cpuMs),
}));
const all = (f) => median(rows.flatMap((row) => row.runs.map(f)));
const out = {
  machine: `${cpus()[0]?.model.split(' ').slice(0, 3).join(' ') ?? 'cpu'}, ${cpus().length} cores, Node ${process.version}`,
  python: python,
  loadAverage: loadavg()[0],
  runs,
  baselines: {
    importNumpyMs: median(rows.filter((r) => r.base === 'numpy').flatMap((row) => row.runs.map((r) => r.baseline.ms))),
    importTorchMs: all((r) => r.torchBaseline.ms),
    importTorchCpuMs: all((r) => r.torchBaseline.cpuMs),
  },
  targetMs: TARGET_MS,
  rows: table,
};
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  const lines = [
    `${out.machine}; ${python}; load average ${out.loadAverage.toFixed(1)}; median of ${runs}`,
    `baselines (wall): python3 -c "import numpy" ${s(out.baselines.importNumpyMs)}; python3 -c "import torch" ${s(out.baselines.importTorchMs)} (CPU ${s(out.baselines.importTorchCpuMs)})`,
    '',
    '| layer | entries | evaluations | autograd-cli wall | beyond imports: wall, CPU | torch.autograd.gradcheck wall | beyond import torch: wall, CPU |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...table.map(
      (r) =>
        `| ${r.layer} | ${r.entries} | ${r.evaluations} | ${s(r.cliMs)} | ${s(r.cliBeyondMs)}, ${s(r.cliCpuBeyondMs)} | ${s(r.torchMs)} | ${s(r.torchBeyondMs)}, ${s(r.torchCpuBeyondMs)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
if (args.includes('--check') && table.some((r) => r.cliBeyondMs > TARGET_MS)) process.exit(1);
