#!/usr/bin/env node
// gradcheck --exec: what a program over a pipe costs. The real built CLI checks
// fixtures/code/layer.py (plain python3: loss = sum((W x + b)^2) with its hand-written
// gradient) end to end, wall time from spawn to exit:
//
//   - per evaluation: (wall at ~1,000 input entries − wall at 8 entries) / the extra
//     evaluations, one request per line and with the batched form the program can opt
//     into (--batch); the same check through --module (a JS function, same protocol) is
//     the reference in the same run;
//   - a 1,000-entry input (W 20×48, x 48, b 20: 1,028 entries) checked end to end.
//     Target: ≤ 2 s. Above 256 entries a program is screened (random directions through
//     every entry and 64 sampled entries) and every entry is differenced only when the
//     screen disagrees; the two rows below the target line show what that costs: every
//     entry from the start (--fd-max 2000) and a planted wrong entry (--bug sign: the
//     screen, then every entry, naming ∂f/∂x[1]).
//
//   node bench/gradcheck-exec.mjs [--runs 3] [--json] [--check]
//
// --check exits 1 when the 1,000-entry run is above the target. Not part of `npm test`;
// run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './seeded.mjs';

const TARGET_MS = 2000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'autograd-cli.js');
const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (!existsSync(join(root, 'dist', 'cli.cjs'))) {
  process.stderr.write('bench/gradcheck-exec: the CLI is not built; run `npm run build` first\n');
  process.exit(2);
}

const SMALL = 'W=randn(2,2),x=randn(2),b=randn(2)';
const LARGE = 'W=randn(20,48),x=randn(48),b=randn(20)';
const entries = (at) => at.split(/,(?=[A-Za-z])/).reduce((s, v) => s + v.match(/\d+/g).reduce((p, d) => p * Number(d), 1), 0);

function time(target, at, status = 0) {
  const ms = [];
  let evaluations = 0;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, 'gradcheck', ...target, '--at', at, '--reporter', 'json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    ms.push(performance.now() - t0);
    if (r.status !== status) throw new Error(`gradcheck ${target.join(' ')} exited ${r.status}: ${r.stderr}`);
    evaluations = JSON.parse(r.stdout).evaluations + 2;
  }
  return { ms: median(ms), evaluations };
}

const targets = {
  'exec, one request per line': ['--exec', 'python3 fixtures/code/layer.py loss'],
  'exec, batched (opt-in)': ['--exec', 'python3 fixtures/code/layer.py loss --batch'],
  'module (reference)': ['--module', 'fixtures/code/layers.mjs#neuron'],
};
const results = {};
for (const [name, target] of Object.entries(targets)) {
  // the module's neuron is sum(tanh(W x + b)): the same inputs and the same protocol
  const small = time(target, SMALL);
  const large = time(target, LARGE);
  results[name] = { small, large, perEvaluationUs: ((large.ms - small.ms) / (large.evaluations - small.evaluations)) * 1000 };
}
const main = results['exec, one request per line'].large.ms;
// what the screen saves, and what a wrong gradient costs
const more = {
  'exec, every entry (--fd-max 2000)': time(['--exec', 'python3 fixtures/code/layer.py loss', '--fd-max', '2000'], LARGE),
  'exec, a wrong entry (--bug sign)': time(['--exec', 'python3 fixtures/code/layer.py loss --bug sign'], LARGE, 1),
};
const out = {
  machine: `${cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'cpu'}, ${cpus().length} cores, Node ${process.version}`,
  entries: entries(LARGE),
  targetMs: TARGET_MS,
  results,
  more,
};
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  process.stdout.write(`gradcheck --exec: a python3 program over a pipe, ${out.entries} input entries end to end (median of ${runs})\n`);
  for (const [name, r] of Object.entries(results)) {
    process.stdout.write(
      `  ${name.padEnd(28)} ${(r.large.ms / 1000).toFixed(2)} s for ${r.large.evaluations} evaluations; ${r.perEvaluationUs.toFixed(0)} µs per evaluation; 8 entries: ${(r.small.ms / 1000).toFixed(2)} s\n`,
    );
  }
  process.stdout.write(`  target ≤ ${TARGET_MS / 1000} s for the 1,000-entry check: ${main <= TARGET_MS ? 'met' : 'NOT met'}\n`);
  for (const [name, r] of Object.entries(more)) process.stdout.write(`  ${name.padEnd(34)} ${(r.ms / 1000).toFixed(2)} s for ${r.evaluations} evaluations\n`);
  process.stdout.write(`  ${out.machine}\n`);
}
if (args.includes('--check') && main > TARGET_MS) process.exit(1);
