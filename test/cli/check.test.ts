import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ag-check-'));
/** A JSON report without its timings, which differ from run to run. */
const untimed = (stdout: string) => {
  const r = JSON.parse(stdout);
  delete r.summary.ms;
  for (const c of r.cases) delete c.ms;
  return r;
};

describe('autograd-cli check', () => {
  it('runs the homework set: a table of verdicts, counterexamples, exit 1', () => {
    const r = cli(['check', 'fixtures/homework/exercises.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('fixtures/homework/exercises.yaml\n  ✓ right: backprop warm-up (x+y)z (1 sample)\n');
    expect(r.stdout).toContain(
      '  ✗ wrong: (x+y)sin(x), product rule forgotten (1 sample; 0.5 of 1 point)  fixtures/homework/exercises.yaml:47\n      → the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x + y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7  (fixtures/homework/exercises.yaml:52)\n',
    );
    const [score, summary] = r.stdout.trimEnd().split('\n').slice(-2);
    // each case is worth 1 point, split evenly over its answers
    expect(score).toBe('score: 12.92 of 19 points');
    expect(summary).toMatch(/^✗ 19 cases: 11 passed, 8 failed \(\d+ samples, [\d.]+ s\)$/);
  });

  it('exits 0 when every case passes (YAML and JSON, a folder)', () => {
    const r = cli(['check', 'fixtures/ci/passing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fixtures/ci/passing/model.yaml\n');
    expect(r.stdout).toContain('fixtures/ci/passing/scalars.json\n');
    expect(r.stdout).toMatch(/✓ 6 cases: 6 passed/);
  });

  it('checks one formula from the command line, as in the issue', () => {
    const ok = cli(['check', '(x+y)*sin(x)', '--expect', 'x=sin(x)+(x+y)*cos(x)', '--expect', 'y=sin(x)', '--samples', '5']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('command line\n  ✓ (x+y)*sin(x) (5 samples)');
    // the old name of --samples still works, with a note
    const old = cli(['check', '(x+y)*sin(x)', '--expect', 'y=sin(x)', '--points', '3']);
    expect(old.stdout).toContain('✓ (x+y)*sin(x) (3 samples)');
    expect(old.stderr).toBe('note: --points is now --samples (points: in a case file are grade points)\n');
    const wrong = cli(['check', '(x+y)*sin(x)', '--expect', 'x=sin(x), y=sin(x)', '--at', 'x=1,y=0']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(
      '→ the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x+y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    const value = cli(['check', 'exp(x)', '--at', 'x=0', '--expect-value', '2', '--reporter', 'json']);
    expect(value.code).toBe(1);
    // a number on the command line is judged at the digits written, too
    expect(JSON.parse(value.stdout).cases[0].failures[0].message).toBe(
      'your f = 2 at x=0; the true value is 1; off by 100%, beyond 2 significant digits (you wrote 1)',
    );
    const range = cli(['check', 'log(x)', '--range', 'x=[2,3]', '--expect', 'x=1/x', '--reporter', 'json']);
    expect(range.code).toBe(0);
    expect(JSON.parse(range.stdout).cases[0].samples).toBe(5);
    // a formula that starts with - is not a flag
    expect(cli(['check', '-x^2', '--at', 'x=3', '--expect', 'x=-6']).code).toBe(0);
  });

  it('per-case errors do not stop the run: file:line:col and a caret, exit 1', () => {
    const r = cli(['check', 'fixtures/ci/broken']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  ✓ runs fine (1 sample)');
    expect(r.stdout).toContain('  ✓ also runs fine (5 samples)');
    expect(r.stdout).toContain(
      '  ! misspelt function  fixtures/ci/broken/cases.yaml:9\n      error: fixtures/ci/broken/cases.yaml:10:16: unknown function sinn\n        (x + y) * sinn(x)\n                  ^^^^\n        hint: did you mean sin?',
    );
    expect(r.stdout).toMatch(/✗ 9 cases: 2 passed, 7 errors/);
  });

  it('an answer key or a submission is not a case file: named, an error with the right command; in a folder, skipped', () => {
    const r = cli(['check', 'fixtures/homework/key.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: fixtures/homework/key.yaml:6: this is an answer key, not a case file\n  hint: grade submissions against a key with autograd-cli grade KEY SUBMISSIONS...\n',
    );
    const folder = cli(['check', 'fixtures/homework', '--jobs', '1']);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      'note: skipped 5 files in the folders that are answer keys or submissions, not case files (grade them with autograd-cli grade)\n',
    );
    // an old case file's points: are grade points now; a random case says where its samples come from
    const dir = tmp();
    writeFileSync(join(dir, 'old.yaml'), '- f: (x+y)*sin(x)\n  at: random\n  points: 3\n  expect:\n    gradient: { y: sin(x) }\n');
    const old = cli(['check', join(dir, 'old.yaml')]);
    expect(old.code).toBe(0);
    expect(old.stdout).toContain(
      '  ✓ (x+y)*sin(x) (5 samples)\n      warning: points: 3 is grade points; the number of random evaluation points is samples: (5 here)\n\nscore: 3 of 3 points\n',
    );
  });

  it('exit 2 when a file cannot be read or parsed, with file:line:col on stderr; other files still run', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yaml'), '- f: x\n  at: {x: 1\n- f: y\n');
    const r = cli(['check', join(dir, 'bad.yaml'), 'fixtures/ci/passing/scalars.json', join(dir, 'none.yaml')]);
    expect(r.code).toBe(2);
    const err = r.stderr.split('\n');
    expect(err[0]).toBe(`error: ${join(dir, 'bad.yaml')}:3:1: the case file is not valid YAML: bad indentation`);
    // a pipe never gets a file's line (only a terminal does: test/security/links.test.ts)
    expect(err[1]).not.toContain('f: y');
    expect(r.stderr).toContain(`error: ${join(dir, 'none.yaml')}: cannot read it: no such file`);
    expect(r.stdout).toMatch(/✗ 2 cases: 2 passed, 2 files not read/);
    const junit = cli(['check', join(dir, 'bad.yaml'), '--reporter', 'junit']);
    expect(junit.code).toBe(2);
    expect(junit.stdout).toContain('<error message=');
  });

  it('usage errors exit 2', () => {
    for (const [args, msg] of [
      [['check'], 'name a case file (or folder), or give a formula'],
      [['check', 'x', 'y'], 'give one formula at a time'],
      [['check', 'fixtures/ci/passing', '--shard', '3/2'], '--shard 3/2: the part must be from 1 to 2'],
      [['check', 'fixtures/ci/passing', '--jobs', '0'], '--jobs must be a whole number from 1 to 256'],
      [['check', 'fixtures/ci/passing', '--expect', 'x=1'], '--expect applies to a formula on the command line'],
      [['check', 'x^2', '--expect', 'x'], '--expect should be variable=answer'],
      [['check', 'x^2', '--range', 'x=[3,1]'], '--range x: should be [low, high] with low < high'],
      [['check', 'x', '--reporter', 'xml'], 'Invalid values'],
    ] as [string[], string][]) {
      const r = cli(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.stderr).toContain(msg);
    }
  });

  it('--reporter json: one document with every case, in order', () => {
    const r = cli(['check', 'fixtures/homework', '--reporter', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.files).toEqual(['fixtures/homework/exercises.yaml', 'fixtures/homework/tensors.yaml']);
    expect(j.summary).toMatchObject({ total: 26, passed: 15, failed: 11, errors: 0 });
    expect(j.cases.map((c: any) => c.status)).toEqual(j.cases.map((c: any) => (c.name.startsWith('wrong') ? 'fail' : 'pass')));
    expect(untimed(cli(['check', 'fixtures/homework', '--json']).stdout)).toEqual(untimed(r.stdout));
  });

  it('--output writes the report to a file while the table goes to the terminal', () => {
    const dir = tmp();
    const out = join(dir, 'report.xml');
    const r = cli(['check', 'fixtures/homework/tensors.yaml', '--reporter', 'junit', '--output', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('fixtures/homework/tensors.yaml\n  ✓ right:');
    const xml = readFileSync(out, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<testsuite name="fixtures/homework/tensors.yaml" tests="7" failures="3" errors="0"');
    const tap = join(dir, 'report.tap');
    expect(cli(['check', 'fixtures/ci/passing', '--reporter', 'tap', '-o', tap]).code).toBe(0);
    expect(readFileSync(tap, 'utf8')).toMatch(/^TAP version 13\n1\.\.6\nok 1 - /);
    // a report that cannot be written: the table is still printed, the exit code is the cases', the error on stderr
    const nowhere = cli(['check', 'fixtures/ci/passing', '-o', join(dir, 'no/such/dir/r.json'), '--reporter', 'json']);
    expect(nowhere.code).toBe(0);
    expect(nowhere.stdout).toMatch(/✓ 6 cases: 6 passed/);
    expect(nowhere.stderr).toBe(`error: the report was not written: cannot write ${join(dir, 'no/such/dir/r.json')}: the folder does not exist\n`);
  });

  it('--reporter github prints annotations at the YAML lines', () => {
    const r = cli(['check', 'fixtures/homework/exercises.yaml', '--reporter', 'github']);
    expect(r.code).toBe(1);
    const lines = readFileSync('fixtures/homework/exercises.yaml', 'utf8').split('\n');
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(notes.length).toBe(8);
    for (const n of notes) {
      const line = Number(/,line=(\d+)/.exec(n)![1]);
      expect(n).toMatch(/^::error file=fixtures\/homework\/exercises\.yaml,line=\d+,title=autograd-cli check%3A wrong%3A /);
      expect(lines[line - 1]).toMatch(/^\s+(gradient: \{|[a-z]\w*: )/);
    }
  });

  it('--shard i/n: disjoint parts that together are the whole run', () => {
    const whole = untimed(cli(['check', 'fixtures/homework', 'fixtures/ci', '--reporter', 'json']).stdout);
    const parts = [1, 2, 3].map((i) => untimed(cli(['check', 'fixtures/homework', 'fixtures/ci', '--reporter', 'json', '--shard', `${i}/3`]).stdout));
    expect(parts.flatMap((p) => p.cases)).toEqual(whole.cases);
    const n = whole.cases.length;
    expect(parts.map((p) => p.cases.length)).toEqual([1, 2, 3].map((i) => Math.floor((i * n) / 3) - Math.floor(((i - 1) * n) / 3)));
    expect(parts[1].shard).toEqual({ index: 2, count: 3 });
    // the same shard twice is the same cases
    expect(untimed(cli(['check', 'fixtures/homework', 'fixtures/ci', '--reporter', 'json', '--shard', '2/3']).stdout)).toEqual(parts[1]);
  });

  it('--jobs N: the same report, in the same order, as one job', () => {
    const dir = tmp();
    const cases = Array.from(
      { length: 40 },
      (_, i) =>
        `- name: case ${i}\n  f: sin(${(i % 5) + 1}*x) * y^2\n  at: random\n  samples: 2\n  expect:\n    gradient: { y: "${i % 7 === 0 ? 'y' : `2*y*sin(${(i % 5) + 1}*x)`}" }\n`,
    );
    writeFileSync(join(dir, 'many.yaml'), cases.join(''));
    const one = cli(['check', join(dir, 'many.yaml'), 'fixtures/homework', '--reporter', 'json', '--jobs', '1']);
    // workers start at once here (this run is too short for them to pay off otherwise)
    const eager = { env: { AUTOGRAD_POOL_EAGER: '1' } };
    const two = cli(['check', join(dir, 'many.yaml'), 'fixtures/homework', '--reporter', 'json', '--jobs', '2'], eager);
    const three = cli(['check', join(dir, 'many.yaml'), 'fixtures/homework', '--reporter', 'json', '--jobs', '3'], eager);
    const auto = cli(['check', join(dir, 'many.yaml'), 'fixtures/homework', '--reporter', 'json']);
    // the folder's answer key and submissions are not case files
    expect(two.stderr).toBe('note: skipped 5 files in the folders that are answer keys or submissions, not case files (grade them with autograd-cli grade)\n');
    expect(one.code).toBe(1);
    expect([two.code, three.code]).toEqual([1, 1]);
    expect(untimed(two.stdout)).toEqual(untimed(one.stdout));
    expect(untimed(three.stdout)).toEqual(untimed(one.stdout));
    expect(untimed(auto.stdout)).toEqual(untimed(one.stdout));
    expect(untimed(one.stdout).cases.filter((c: any) => c.status === 'fail').length).toBe(6 + 11);
  });
});
