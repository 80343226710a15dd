#!/usr/bin/env node
// Grading throughput: `autograd-cli grade` over a generated class — an answer key of 10
// problems (the lecture's exercises from fixtures/homework/key.yaml and three scalar
// ones, one of them at random points) and 300 submissions whose answers are drawn from
// right and wrong variants (numbers rounded as students round them, formulas in the
// variables and named steps, the usual mistakes) — with a gradebook and feedback files.
// Wall time of the real built CLI from spawn to exit, median of a few runs. Target: ≤ 5 s.
//
//   node bench/grade.mjs [--students 300] [--runs 3] [--json] [--check]
//
// Not part of `npm test`; run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { args, bin, childEnv, machine as machineText, opt, requireBuilt, root } from './cli.mjs';
import { median as medianOf } from './seeded.mjs';

const TARGET_MS = 5000;
const students = opt('--students', 300);
const runs = opt('--runs', 3);
requireBuilt('grade');

// the key: the homework's seven problems and three more
const extra = `
  - name: chain
    f: sin(x^2)
    at: { x: 1.5 }
    parts: [gradient.x]
  - name: product
    f: exp(x) * x^2
    ranges: { x: [-2, 2] }
    samples: 5
    parts: [gradient.x]
  - name: quotient
    f: u = sin(x)*cos(x); f = log(u)
    at: { x: 0.7 }
    parts: [value, gradient.x, gradient.u]
`;
const key = readFileSync(join(root, 'fixtures/homework/key.yaml'), 'utf8') + extra;

// answer variants per part: right ones first, then wrong ones
const V = {
  circuit: {
    value: ['-12', '-12.0', '12'],
    'gradient.x': ['-4', '"z"', '4'],
    'gradient.y': ['-4', '"z"', '3'],
    'gradient.z': ['3', '"q"', '"x*y"'],
    'gradient.q': ['-4', '"z"', '-3'],
  },
  neuron: {
    value: ['0.73', '0.731', '0.7'],
    'gradient.w0': ['-0.20', '-0.197', '0.20'],
    'gradient.x0': ['0.39', '0.393', '-0.39'],
    'gradient.w1': ['-0.39', '-0.393', '0.20'],
    'gradient.x1': ['-0.59', '-0.590', '-0.57'],
    'gradient.w2': ['0.20', '"1/den*(1 - 1/den)"', '0.73'],
    'gradient.s': ['0.20', '0.197', '-0.20'],
    'gradient.den': ['-0.53', '"-1/den^2"', '"1/den^2"'],
  },
  logistic: {
    value: ['0.313', '"-log(p)"', '0.31'],
    'gradient.w': ['"(p - y)*x"', '[0.27, 0.54]', '"p - y"'],
    'gradient.b': ['"p - y"', '-0.269', '0.269'],
    'gradient.z': ['"p - y"', '-0.27', '"y - p"'],
    'steps.p': ['0.731', '"sigmoid(z)"', '0.269'],
  },
  norm: {
    value: ['0.116', '"sum(q.^2)"', '0.12'],
    'gradient.W': ['"2*(W*x)*x\'"', '"2*q*x\'"', '"2*q*x"'],
    'gradient.x': ['"2*W\'*(W*x)"', '"2*W\'*q"', '"W\'*q"'],
    'gradient.q': ['"2*q"', '[0.88, 1.04]', '"q"'],
  },
  softmax: {
    value: ['0.500', '"-log(p[2])"', '0.5'],
    'gradient.W': ['"(p - onehot(y, 3))*x\'"', '"outer(p - onehot(y, 3), x)"', '"x*(p - onehot(y, 3))\'"'],
    'gradient.x': ['"W\'*(p - onehot(y, 3))"', '[-0.578, -0.459]', '"W\'*p"'],
    'gradient.z': ['"p - onehot(y, 3)"', '[0.0608, -0.394, 0.333]', '"p"'],
  },
  svm: {
    value: ['1.7', '1.70', '2.7'],
    'gradient.W': ['[[1, 2], [-2, -4], [1, 2]]', '"[1; -2; 1]*x\'"', '[[1, 2], [-1, -2], [1, 2]]'],
    'gradient.s': ['[1, -2, 1]', '[1.0, -2.0, 1.0]', '[-1, 2, -1]'],
  },
  mlp: {
    value: ['1.39', '1.394', '1.3'],
    'gradient.W1': ['"X\'*((2*(yp - Y)*W2\') .* sign(h))"', '"X\'*((2*(yp - Y)*W2\') .* sign(h))"', '"X\'*(2*(yp - Y)*W2\')"'],
    'gradient.W2': ['"h\'*(2*(yp - Y))"', '"h\'*2*(yp - Y)"', '"h\'*(yp - Y)"'],
    'gradient.h': ['"2*(yp - Y)*W2\'"', '"2*(yp - Y)*W2\'"', '"(yp - Y)*W2\'"'],
    'gradient.yp': ['"2*(yp - Y)"', '"2*yp - 2*Y"', '"yp - Y"'],
  },
  chain: { 'gradient.x': ['"2*x*cos(x^2)"', '-1.88', '"cos(x^2)"'] },
  product: { 'gradient.x': ['"exp(x)*(x^2 + 2*x)"', '"exp(x)*x^2 + 2*x*exp(x)"', '"exp(x)*2*x"'] },
  quotient: {
    value: ['-0.73', '"log(sin(x)*cos(x))"', '0.73'],
    'gradient.x': ['"cot(x) - tan(x)"', '"(cos(x)^2 - sin(x)^2)/u"', '"1/u"'],
    'gradient.u': ['"1/u"', '2.1', '"u"'],
  },
};

let state = 7;
const rand = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const dir = mkdtempSync(join(tmpdir(), 'ag-grade-bench-'));
const subs = join(dir, 'submissions');
mkdirSync(subs);
writeFileSync(join(dir, 'key.yaml'), key);
for (let s = 0; s < students; s++) {
  const lines = [`student: Student ${s + 1}`, 'answers:'];
  for (const [problem, parts] of Object.entries(V)) {
    if (rand() < 0.03) continue; // a problem left out now and then
    const value = [];
    const grads = [];
    const steps = [];
    for (const [part, variants] of Object.entries(parts)) {
      const r = rand();
      if (r < 0.02) continue; // a part left out
      const answer = variants[r < 0.6 ? 0 : r < 0.85 ? 1 : 2];
      if (part === 'value') value.push(answer);
      else if (part.startsWith('gradient.')) grads.push(`${part.slice(9)}: ${answer}`);
      else steps.push(`${part.slice(6)}: ${answer}`);
    }
    lines.push(`  ${problem}:`);
    if (value.length) lines.push(`    value: ${value[0]}`);
    if (grads.length) lines.push(`    gradient: { ${grads.join(', ')} }`);
    if (steps.length) lines.push(`    steps: { ${steps.join(', ')} }`);
  }
  writeFileSync(join(subs, `s${String(s + 1).padStart(3, '0')}.yaml`), `${lines.join('\n')}\n`);
}

const env = childEnv();
const once = () => {
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'grade',
      join(dir, 'key.yaml'),
      subs,
      '--gradebook',
      join(dir, 'grades.csv'),
      '--feedback',
      out,
      '--reporter',
      'json',
      '-o',
      join(dir, 'report.json'),
    ],
    { env, encoding: 'utf8', maxBuffer: 1 << 30 },
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`grade failed (exit ${r.status}):\n${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  if (report.students.length !== students || readdirSync(out).length !== students) throw new Error('not every submission was graded');
  const parts = report.students.reduce((n, s) => n + s.problems.reduce((m, p) => m + p.parts.length, 0), 0);
  const right = report.students.reduce((n, s) => n + s.problems.reduce((m, p) => m + p.parts.filter((x) => x.status === 'right').length, 0), 0);
  const named = report.students.reduce((n, s) => n + s.problems.reduce((m, p) => m + p.parts.filter((x) => x.mistake).length, 0), 0);
  const mean = report.students.reduce((n, s) => n + s.earned, 0) / students;
  return { ms, parts, right, named, mean, max: report.max };
};

once(); // warm-up
const times = [];
let last;
for (let i = 0; i < runs; i++) {
  last = once();
  times.push(last.ms);
}
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
const median = medianOf(times);
const machine = machineText();
const met = students !== 300 || median <= TARGET_MS;
if (args.includes('--json')) {
  process.stdout.write(
    `${JSON.stringify({ students, problems: Object.keys(V).length, runs, medianMs: median, ms: times, ...last, targetMs: TARGET_MS, machine }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `grade: ${students} submissions × ${Object.keys(V).length} problems (${last.parts} parts judged, ${last.right} right, ${last.named} mistakes named; mean ${last.mean.toFixed(2)} of ${last.max} points), gradebook and feedback written\n` +
      `  median ${(median / 1000).toFixed(2)} s wall of ${runs} runs (${times.map((t) => (t / 1000).toFixed(2)).join(', ')})\n` +
      (students === 300 ? `  target ≤ ${TARGET_MS / 1000} s: ${met ? 'met' : 'NOT met'}\n` : '') +
      `  ${machine}\n`,
  );
}
if (args.includes('--check') && !met) process.exitCode = 1;
