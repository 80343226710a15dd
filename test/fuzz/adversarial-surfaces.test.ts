import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { ROOT } from '../helpers.js';
import { attack, expectNoneLeft, expectNoTrace, killCarrying, OVERHEAD_MB, type Attack } from '../security/harness.js';

/**
 * Adversarial fuzzing of issue 22's surfaces through the real CLI:
 * (a) random submission and case folders where symlinks to /proc/self/environ, to files
 *     outside the tree holding a secret, to FIFOs, folders and /dev sit among ordinary
 *     answers, under every reporter with gradebook and feedback files: no byte of a
 *     secret in any stream or file written;
 * (b) one huge op (a matrix product of up to 7000×7000) in an answer, an `at:` value or a
 *     formula, under --timeout 2: each run ends by its deadlines plus slack;
 * (c) `gradcheck --exec` programs that stall, flood stderr, die or leave children in a
 *     session of their own: no process left (/proc scanned for a marker), memory bounded.
 * Every run exits 0, 1 or 2 with no trace, under its memory cap. `npm test` runs a few of
 * each; `npm run fuzz` (FUZZ_RUNS=10000) 30 of each.
 */
const RUNS = Math.max(2, Math.min(30, Math.round(Number(process.env.FUZZ_RUNS ?? 500) / 300)));
const TIMEOUT_S = 2;
/** start-up, ending a worker or a program, a loaded machine: what a run may take past its deadlines */
const SLACK_MS = 10_000;
const MEMORY_GIB = 0.25;
const dir = mkdtempSync(join(tmpdir(), 'ag-fuzz-surfaces-'));
const hostile = join(ROOT, 'fixtures', 'code', 'hostile.py');

const TOKEN = 'ghp_FUZZSECRETtoken0123456789abcdefABCD';
const ENV_SECRET = 'ghp_FUZZSECRETenv9876543210zyxwvuZYXWV';
const env = { AG_FUZZ_SECRET: ENV_SECRET };
const outside = join(dir, 'outside');
mkdirSync(outside);
// neither YAML nor JSON: a parser that reached it would quote its offending line
writeFileSync(join(outside, 'token.txt'), `${TOKEN}: [unclosed\n  password: {${TOKEN}\n`);
writeFileSync(join(outside, 'answers.yaml'), `student: ${TOKEN}\nanswers:\n  p1: { value: 9 }\n`);
writeFileSync(join(outside, 'cases.yaml'), `- f: x^2\n  name: ${TOKEN}\n  at: { x: 3 }\n`);

function expectNoSecret(text: string): void {
  expect(text).not.toContain('FUZZSECRET');
  expect(text).not.toContain('ghp_');
  expect(text).not.toMatch(/PATH=|HOME=|password/);
}

/** Every output of a run: its streams and every file it wrote under `out`. */
function everything(r: Attack, out: string): string {
  const files = existsSync(out)
    ? readdirSync(out, { recursive: true, encoding: 'utf8' })
        .map((f) => join(out, f))
        .filter((f) => statSync(f).isFile())
    : [];
  return [r.stdout, r.stderr, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** A folder of `good` files and random bad links among them, some in subfolders (`flat`: none, one Gradescope submission). */
function hostileFolder(rng: Rng, d: string, good: () => string, ext: readonly string[], flat = false): void {
  mkdirSync(d, { recursive: true });
  const n = 1 + rng.int(6);
  const places = flat ? [''] : ['', 'inner', 'inner/deeper', 'ünï €'];
  for (let k = 0; k < n; k++) {
    const sub = join(d, pick(rng, places));
    mkdirSync(sub, { recursive: true });
    const stem = join(sub, `${pick(rng, ['s', 'ada', '__proto__', 'evil\u202Egnp', 'x'.repeat(200)])}${k}`);
    // a good file is YAML; a link may have any name the folder's files have
    if (rng.next() < 0.5) {
      writeFileSync(`${stem}${pick(rng, ['.yaml', '.yml'])}`, good());
      continue;
    }
    const name = `${stem}${pick(rng, ext)}`;
    const link = pick(rng, ['environ', 'token', 'outside-answers', 'outside-dir', 'fifo', 'dev', 'dangling', 'chain', 'inside']);
    switch (link) {
      case 'environ':
        symlinkSync(pick(rng, ['/proc/self/environ', '/proc/1/environ', '/proc/self/cmdline']), name);
        break;
      case 'token':
        symlinkSync(join(outside, 'token.txt'), name);
        break;
      case 'outside-answers':
        symlinkSync(join(outside, pick(rng, ['answers.yaml', 'cases.yaml'])), name);
        break;
      case 'outside-dir':
        symlinkSync(outside, name.replace(/\.\w+$/, ''));
        break;
      case 'fifo':
        execFileSync('mkfifo', [name]);
        break;
      case 'dev':
        symlinkSync(pick(rng, ['/dev/zero', '/dev/urandom', '/sys/kernel/hostname']), name);
        break;
      case 'dangling':
        symlinkSync(join(d, 'nowhere', 'gone.yaml'), name);
        break;
      case 'chain': {
        // a link inside the folder to a link out of it
        const mid = join(d, `mid${k}.txt`);
        symlinkSync(join(outside, 'token.txt'), mid);
        symlinkSync(mid, name);
        break;
      }
      case 'inside': {
        // a link that stays inside the tree is an ordinary file
        const real = join(d, `real${k}.txt`);
        writeFileSync(real, good());
        symlinkSync(real, name);
        break;
      }
    }
  }
}

const KEY = join(dir, 'key.yaml');
writeFileSync(
  KEY,
  [
    'title: HW',
    `visibility: after_due_date`,
    'problems:',
    '  - name: p1',
    '    f: x^2',
    '    at: { x: 3 }',
    '  - name: p2',
    '    f: sum(W*v)',
    '    at: { W: [[1, 2], [3, 4]], v: [1, -1] }',
    '    visibility: hidden',
    '',
  ].join('\n'),
);

function answers(rng: Rng): string {
  const g = pick(rng, ['6', '2*x', '"2*x"', '7', '"sum(ones(3))"', '[1, 2]', '{ nested: 1 }']);
  return `student: ${JSON.stringify(pick(rng, ['Ada', 'Bob <b>x</b>', 'evil\u202Egnp', '__proto__', 'é'.repeat(300)]))}\nanswers:\n  p1: { value: 9, gradient: { x: ${g} } }\n  p2: { value: ${pick(rng, ['-2', '0'])}, gradient: { v: "W'*ones(2,1)" } }\n`;
}

function caseText(rng: Rng): string {
  return `- name: ${JSON.stringify(pick(rng, ['plain', 'evil\u202Egnp']))}\n  f: ${pick(rng, ['x^2', 'sin(x)'])}\n  at: { x: 3 }\n`;
}

const markers: string[] = [];
afterAll(() => {
  killCarrying(markers);
  rmSync(dir, { recursive: true, force: true });
});

function expectClean(r: Attack, memoryGiB = MEMORY_GIB): void {
  expect(r.signal, r.stderr).toBeNull();
  expect([0, 1, 2], r.stderr).toContain(r.code);
  expectNoTrace(r);
  expect(r.peakMB).toBeLessThan(memoryGiB * 1024 + OVERHEAD_MB);
}

// every child has its own time bound (timeoutMs); vitest's must not cut a loaded machine short
describe('adversarial surfaces through the real CLI', { timeout: 300_000 }, () => {
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 22));

  for (let k = 0; k < RUNS; k++) {
    const seed = rng.int(2 ** 31);
    it(`(a) folder ${k + 1}: links to secrets, FIFOs, folders and /proc among answers; nothing of them in any output`, () => {
      const r0 = new Rng(seed);
      const base = join(dir, `links-${k}`);
      const grading = pick(r0, ['table', 'json', 'gradescope', 'check'] as const);
      const folder = join(base, 'in');
      const out = join(base, 'out');
      mkdirSync(out, { recursive: true });
      let r: Attack;
      if (grading === 'check') {
        hostileFolder(r0, folder, () => caseText(r0), ['.yaml', '.yml', '.json']);
        const reporter = pick(r0, ['table', 'json', 'junit', 'tap', 'github']);
        r = attack(['check', folder, '--reporter', reporter, '-o', join(out, 'report'), '--timeout', '5', '--max-memory', String(MEMORY_GIB)], {
          env,
          timeoutMs: 120_000,
        });
      } else {
        hostileFolder(r0, folder, () => answers(r0), ['.yaml', '.yml', '.json', '.txt'], grading === 'gradescope');
        const report = grading === 'gradescope' ? 'results.json' : 'report';
        r = attack(
          [
            'grade',
            KEY,
            folder,
            '--reporter',
            grading,
            '-o',
            join(out, report),
            '--gradebook',
            join(out, 'grades.csv'),
            '--feedback',
            join(out, 'feedback'),
            '--timeout',
            '5',
            '--max-memory',
            String(MEMORY_GIB),
          ],
          { env, timeoutMs: 120_000 },
        );
        // Gradescope never loses a student's result
        if (grading === 'gradescope') expect(JSON.parse(readFileSync(join(out, report), 'utf8')).score).toBeTypeOf('number');
      }
      expectClean(r);
      expectNoSecret(everything(r, out));
      expect(r.ms).toBeLessThan(60_000);
    });
  }

  for (let k = 0; k < RUNS; k++) {
    const seed = rng.int(2 ** 31);
    it(`(b) huge op ${k + 1}: one matrix product in an answer, an at: value or a formula ends by --timeout ${TIMEOUT_S}`, () => {
      const r0 = new Rng(seed);
      // up to 3000 within --max-memory 0.5 (so the deadline must stop it), 7000 refused by the memory estimate
      const n = pick(r0, [1500, 2500, 3000, 3000, 7000]);
      const product = pick(r0, [`ones(${n},${n})*ones(${n},${n})`, `(1e306*ones(${n},${n}))*ones(${n},${n})`, `ones(${n},${n})*randn(${n},${n})`]);
      const where = pick(r0, ['answer', 'at', 'check-at', 'grad'] as const);
      const base = join(dir, `op-${k}`);
      mkdirSync(base, { recursive: true });
      const limits = ['--timeout', String(TIMEOUT_S), '--max-memory', '0.5'];
      let args: string[];
      // how many deadlines the run has: one per problem of each submission, per case, per run
      let deadlines = 1;
      if (where === 'answer') {
        const subs = join(base, 'subs');
        mkdirSync(subs);
        const students = 1 + r0.int(2);
        for (let s = 0; s < students; s++)
          writeFileSync(join(subs, `s${s}.yaml`), `student: s${s}\nanswers:\n  p1: { value: 9, gradient: { x: "2*x + 0*sum(${product})" } }\n`);
        const key = join(base, 'key.yaml');
        writeFileSync(key, 'title: HW\nproblems:\n  - name: p1\n    f: x^2\n    at: { x: 3 }\n');
        args = ['grade', key, subs, ...limits];
        deadlines = students;
      } else if (where === 'at') {
        const key = join(base, 'key.yaml');
        writeFileSync(key, `title: HW\nproblems:\n  - name: p1\n    f: x*y\n    at: { x: 3, y: "sum(${product})" }\n`);
        const subs = join(base, 'subs');
        mkdirSync(subs);
        writeFileSync(join(subs, 's.yaml'), 'student: s\nanswers:\n  p1: { gradient: { x: y } }\n');
        args = ['grade', key, subs, ...limits];
      } else if (where === 'check-at') {
        const f = join(base, 'cases.yaml');
        writeFileSync(f, `- f: x*y\n  at: { x: 3, y: "sum(${product})" }\n`);
        args = ['check', f, ...limits];
      } else {
        // the same product between inputs, in either engine (the native one recomputes an overflowing product exactly)
        args = [
          'grad',
          pick(r0, ['sum(A*B)', 'sum((1e306*A)*B)']),
          '--at',
          `A=ones(${n},${n}),B=ones(${n},${n})`,
          '--engine',
          pick(r0, ['js', 'native']),
          ...limits,
        ];
      }
      const r = attack(args, { timeoutMs: 120_000 });
      expectClean(r, 0.5);
      expect(r.ms, `${where}: ${product}`).toBeLessThan(deadlines * TIMEOUT_S * 1000 + SLACK_MS);
    });
  }

  for (let k = 0; k < RUNS + 1; k++) {
    const seed = rng.int(2 ** 31);
    it(`(c) program ${k + 1}: a program that stalls, floods, dies or leaves children ends with the run, and nothing of it is left`, async () => {
      const r0 = new Rng(seed);
      const how = pick(r0, ['sumsq', 'stall', 'flood', 'flood-die', 'setsid', 'session']);
      const m = `agfuzz${process.pid}x${k}x${r0.int(1e9)}`;
      markers.push(m);
      const at = pick(r0, ['x=randn(3)', 'W=randn(30,30)', 'W=randn(100,100)']);
      const requestTimeout = pick(r0, ['1', '3', '100']);
      const r = attack(
        [
          'gradcheck',
          '--exec',
          `python3 ${hostile} ${how} ${m}`,
          '--at',
          at,
          '--timeout',
          String(TIMEOUT_S),
          '--request-timeout',
          requestTimeout,
          '--max-memory',
          String(MEMORY_GIB),
        ],
        {
          timeoutMs: 120_000,
          env: pick<Record<string, string>>(r0, [{}, { AUTOGRAD_NATIVE: '0' }]),
        },
      );
      expectClean(r);
      expect(r.ms, `${how} at ${at}`).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS);
      await expectNoneLeft(m, `${how}: `);
    });
  }
});
