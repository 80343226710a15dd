#!/usr/bin/env node
// Cold start of the CLI: median wall time of
//   autograd-cli grad "(x+y)*sin(x)" --at x=pi,y=pi
// against `node -e 0`, both run N times (default 20) after a warm-up, in this one
// process, interleaved so that background load hits both alike. Prints both medians
// and their ratio (target: ≤ 1.25×). Runs the real built bin: `npm run build` first.
//
//   node bench/cold-start.mjs [--runs 20] [--json] [--check]
//
// --check exits 1 when the ratio is above the target. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET = 1.25;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'autograd-cli.js');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', 20));
const warmup = Number(opt('--warmup', 3));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

if (!existsSync(join(root, 'dist', 'cli.cjs'))) {
  process.stderr.write('bench/cold-start: dist/cli.cjs is missing; run `npm run build` first\n');
  process.exit(2);
}

const cli = { name: 'autograd-cli grad "(x+y)*sin(x)" --at x=pi,y=pi', argv: [bin, 'grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi'] };
const base = { name: 'node -e 0', argv: ['-e', '0'] };
// the environment a user's shell would give: no colour forcing, no NODE_OPTIONS from a test runner
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.FORCE_COLOR;

function once(cmd, capture = false) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, cmd.argv, { env, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'ignore', encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd.name} exited with ${r.status}${capture ? `:\n${r.stderr}` : ''}`);
  return { ms, stdout: r.stdout };
}

// warm-up (file cache, CPU frequency), and a check that the CLI really computes the gradient
const first = once(cli, true);
if (!/-6\.28319/.test(first.stdout) || !/check passed/.test(first.stdout)) {
  throw new Error(`unexpected output from ${cli.name}:\n${first.stdout}`);
}
for (let i = 0; i < warmup; i++) {
  once(base);
  once(cli);
}

const times = { cli: [], base: [] };
for (let i = 0; i < runs; i++) {
  times.base.push(once(base).ms);
  times.cli.push(once(cli).ms);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cliMs = median(times.cli);
const baseMs = median(times.base);
const ratio = cliMs / baseMs;
const machine = `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${process.platform}`;

if (args.includes('--json')) {
  process.stdout.write(
    `${JSON.stringify({ runs, cli: { command: cli.name, medianMs: cliMs, ms: times.cli }, node: { command: base.name, medianMs: baseMs, ms: times.base }, ratio, target: TARGET, machine }, null, 2)}\n`,
  );
} else {
  const f = (x) => x.toFixed(1).padStart(7);
  process.stdout.write(
    `cold start, median of ${runs} runs each (after ${warmup} warm-up runs)\n` +
      `  ${f(cliMs)} ms  ${cli.name}\n` +
      `  ${f(baseMs)} ms  ${base.name}\n` +
      `  ratio ${ratio.toFixed(2)}×  (target ≤ ${TARGET.toFixed(2)}×: ${ratio <= TARGET ? 'met' : 'NOT met'})\n` +
      `  ${machine}\n`,
  );
}
if (args.includes('--check') && ratio > TARGET) process.exitCode = 1;
