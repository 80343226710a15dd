#!/usr/bin/env node
// Throughput of `check`: one run of the real built CLI over N generated scalar cases
// (default 1000) in one YAML file, wall time from spawn to exit (start-up included),
// median of a few runs. Target: ≤ 2 s for 1000 cases.
//
// The cases are what a CI file or a homework set holds: a formula built from the
// lecture's operations with random constants, values at a fixed point, and for half of
// them an expected gradient given as a formula (a hand-derived answer, right in every
// case, so the run must pass). Each case is checked against finite differences too.
//
//   node bench/check-throughput.mjs [--cases 1000] [--runs 3] [--jobs 1] [--samples 1] [--json] [--check]
//   node bench/check-throughput.mjs --compare 1,2,auto [--sweep 50,200,800,1660]
//
// --compare runs each --jobs setting (auto: the default) in turn within every run, so a
// shared machine's load falls on all of them alike, and prints each one's median and its
// ratio to --jobs 1; --sweep repeats that for several numbers of cases (the crossover
// where workers start to pay). --check exits 1 when the median is above the target (or,
// with --compare, when a setting is more than 10% slower than --jobs 1). Not part of
// `npm test`; run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { args, bin, childEnv, list, machine as machineText, opt, requireBuilt } from './cli.mjs';
import { median } from './seeded.mjs';

const TARGET_MS = 2000;
const n = opt('--cases', 1000);
const runs = opt('--runs', 3);
const jobs = opt('--jobs', 1);
const points = opt('--samples', opt('--points', 1));
const compare = list('--compare');
const sweep = list('--sweep')?.map(Number) ?? null;
for (const [k, v] of Object.entries({ cases: n, runs, jobs, samples: points })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
requireBuilt('check-throughput');

// a small seeded generator, so every run checks the same cases
let state = 12345;
const rand = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const c = () => Number((0.5 + 2 * rand()).toFixed(3));

// formula, ∂f/∂x, ∂f/∂y as functions of random constants a, b
const TEMPLATES = [
  (a, _b) => [`(x + ${a}*y) * sin(x)`, `sin(x) + (x + ${a}*y)*cos(x)`, `${a}*sin(x)`],
  (a, b) => [`exp(${a}*x) * y^2 + ${b}*y`, `${a}*exp(${a}*x)*y^2`, `2*y*exp(${a}*x) + ${b}`],
  (a, b) => [
    `sigmoid(${a}*x - ${b}*y)`,
    `${a}*sigmoid(${a}*x - ${b}*y)*(1 - sigmoid(${a}*x - ${b}*y))`,
    `-${b}*sigmoid(${a}*x - ${b}*y)*(1 - sigmoid(${a}*x - ${b}*y))`,
  ],
  (a, _b) => [`log(1 + x^2) * cos(${a}*y)`, `2*x/(1 + x^2) * cos(${a}*y)`, `-${a}*log(1 + x^2)*sin(${a}*y)`],
  (a, b) => [`q = x*y + ${a}; f = q^2 + ${b}*x`, `2*q*y + ${b}`, `2*q*x`],
  (a, b) => [`tanh(${a}*x) * y + sqrt(${b} + y^2)`, `${a}*(1 - tanh(${a}*x)^2)*y`, `tanh(${a}*x) + y/sqrt(${b} + y^2)`],
];

/** A case file of `count` generated cases (the same ones for the same count). */
function caseFile(count) {
  state = 12345;
  const lines = [];
  for (let i = 0; i < count; i++) {
    const [f, dx, dy] = TEMPLATES[i % TEMPLATES.length](c(), c());
    const x = Number((2 * rand() - 1).toFixed(4));
    const y = Number((2 * rand() - 1).toFixed(4));
    lines.push(`- name: case ${i + 1}`);
    lines.push(`  f: "${f}"`);
    if (points > 1) lines.push(`  ranges: { x: [-1, 1], y: [-1, 1] }`, `  samples: ${points}`);
    else lines.push(`  at: { x: ${x}, y: ${y} }`);
    if (i % 2 === 0) lines.push('  expect:', '    gradient:', `      x: "${dx}"`, `      y: "${dy}"`);
  }
  const file = join(dir, `cases-${count}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
const dir = mkdtempSync(join(tmpdir(), 'ag-bench-'));

const env = childEnv();
/** One run of check over `file` with `--jobs j` (auto: the default); wall time and points judged. */
const once = (file, count, j) => {
  const argv = [bin, 'check', file, '--reporter', 'json', ...(j === 'auto' ? [] : ['--jobs', String(j)])];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`check did not print a JSON report (exit ${r.status}):\n${r.stderr}`);
  }
  if (r.status !== 0 || report.summary.passed !== count) {
    const bad = report.cases.filter((x) => x.status !== 'pass').slice(0, 3);
    throw new Error(`expected all ${count} cases to pass (exit ${r.status}):\n${JSON.stringify(bad, null, 2)}`);
  }
  return { ms, points: report.summary.samples };
};
const machine = machineText();

if (compare) {
  const settings = compare.map((x) => (x === 'auto' ? 'auto' : Number(x)));
  const rows = [];
  let slower = false;
  for (const count of sweep ?? [n]) {
    const file = caseFile(count);
    for (const j of settings) once(file, count, j); // warm-up
    const times = Object.fromEntries(settings.map((j) => [j, []]));
    for (let i = 0; i < runs; i++) for (const j of settings) times[j].push(once(file, count, j).ms);
    const base = median(times[settings[0]]);
    const row = {
      cases: count,
      medianMs: Object.fromEntries(settings.map((j) => [j, median(times[j])])),
      ratio: Object.fromEntries(settings.map((j) => [j, median(times[j]) / base])),
    };
    rows.push(row);
    if (Object.values(row.ratio).some((r) => r > 1.1)) slower = true;
    if (!args.includes('--json')) {
      process.stdout.write(
        `${String(count).padStart(6)} cases: ${settings.map((j) => `--jobs ${j} ${(row.medianMs[j] / 1000).toFixed(2)} s (${row.ratio[j].toFixed(2)}×)`).join('   ')}\n`,
      );
    }
  }
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ runs, rows, machine }, null, 2)}\n`);
  else process.stdout.write(`  median of ${runs} interleaved runs each; ratio to --jobs ${settings[0]}; ${machine}\n`);
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  if (args.includes('--check') && slower) process.exitCode = 1;
} else {
  const file = caseFile(n);
  once(file, n, jobs); // warm-up: file cache, code cache
  const times = [];
  let judged = 0;
  for (let i = 0; i < runs; i++) {
    const r = once(file, n, jobs);
    times.push(r.ms);
    judged = r.points;
  }
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  const med = median(times);
  const met = n !== 1000 || med <= TARGET_MS;
  if (args.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ cases: n, points: judged, jobs, runs, medianMs: med, ms: times, casesPerSecond: (n / med) * 1000, targetMs: TARGET_MS, machine }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `check throughput: ${n} scalar cases (${judged} samples, half with expected gradient formulas), --jobs ${jobs}\n` +
        `  median ${(med / 1000).toFixed(2)} s wall of ${runs} runs (${times.map((t) => (t / 1000).toFixed(2)).join(', ')}), ${Math.round((n / med) * 1000)} cases/s\n` +
        (n === 1000 ? `  target ≤ ${TARGET_MS / 1000} s: ${met ? 'met' : 'NOT met'}\n` : '') +
        `  ${machine}\n`,
    );
  }
  if (args.includes('--check') && !met) process.exitCode = 1;
}
