import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cached } from '../../src/subjects/formula/check/compile.js';
import { AgError } from '../../src/core/errors.js';
import { TimeoutError } from '../../src/core/limits.js';
import { attack, expectNoTrace, expectRefused } from './harness.js';

/**
 * Issue 22, class 2: --timeout stops one expensive op. Each run below does minutes of work
 * inside single matrix products (the TypeScript engine's, the native engine's BLAS and
 * built-in kernel, their exact recompute of overflowing entries, a value expression in a
 * case file, a student's answer); each must stop at the deadline with exit 2 and one line.
 * The bound is the deadline plus SLACK_MS (start-up, values of a few million entries and
 * the block in progress, on a loaded machine); unstopped, every run here takes more than
 * 30 s even on an idle machine.
 */
const SLACK_MS = 10_000;
const TIMEOUT = /took longer than \d+ s and was stopped \(--timeout\)/;
const dir = mkdtempSync(join(tmpdir(), 'ag-single-op-'));
// killed by the harness only if nothing stops it: then the assertions on code and time say so
const KILL_MS = 150_000;

describe('--timeout stops one expensive op', () => {
  it('grad --engine js: a 2000×2000 product (8e9 multiply-adds per pass)', () => {
    const r = attack(['grad', 'sum(A*B)', '--at', 'A=ones(2000,2000),B=ones(2000,2000)', '--engine', 'js', '--timeout', '1'], { timeoutMs: KILL_MS });
    expectRefused(r, TIMEOUT, { maxMs: 1000 + SLACK_MS, maxMB: 1000 });
  });

  // every entry overflows and is computed again exactly (unstopped: 40 s of CPU and more);
  // BLAS and the built-in kernel. The deadline leaves time for the values, so that the
  // product is under way when it passes even on a loaded machine (before the product, the
  // check between nodes would stop it, fixed or not); --max-memory above the estimate (about 2.2 GiB): this test is about the clock
  for (const blas of ['auto', 'none']) {
    it(`grad --engine native: an overflowing 2500×2500 product and its exact recompute (AUTOGRAD_BLAS=${blas})`, () => {
      const r = attack(
        ['grad', 'sum((1e306*A)*B)', '--at', 'A=ones(2500,2500),B=ones(2500,2500)', '--engine', 'native', '--no-check', '--timeout', '8', '--max-memory', '4'],
        {
          env: { AUTOGRAD_BLAS: blas },
          timeoutMs: KILL_MS,
        },
      );
      expectRefused(r, TIMEOUT, { maxMs: 8000 + SLACK_MS, maxMB: 1000 });
    });
  }

  it('check: a value expression in at: (its products run on the TypeScript engine) is the case’s timeout', () => {
    const f = join(dir, 'value.yaml');
    writeFileSync(
      f,
      ['- name: slow-value', '  f: sum(A)', '  at: { A: "ones(2500,2500)*ones(2500,2500)*ones(2500,2500)" }', '- name: quick', '  f: x^2', ''].join('\n'),
    );
    const r = attack(['check', f, '--timeout', '1', '--reporter', 'json'], { timeoutMs: KILL_MS });
    expectNoTrace(r);
    expect(r.code, r.stderr).toBe(1);
    const cases = JSON.parse(r.stdout).cases;
    expect(cases[0].status).toBe('error');
    expect(cases[0].error.message).toMatch(TIMEOUT);
    expect(cases[1].status).toBe('pass');
    expect(r.ms).toBeLessThan(1000 + SLACK_MS);
  });

  it('grade: a slow answer is that part’s timeout, and no later student inherits it', () => {
    // A's first part (two 2500×2500 products) uses up the problem's deadline, so A's second part
    // times out too; B wrote the same second part and must be judged on it, not given A's timeout
    const g = join(dir, 'grade');
    mkdirSync(join(g, 'subs'), { recursive: true });
    writeFileSync(
      join(g, 'key.yaml'),
      ['title: one slow answer', 'problems:', '  - name: p', '    f: x^2', '    at: { x: 3 }', '    parts: [gradient.x, value]', ''].join('\n'),
    );
    const shared = 'x^2 + 0*sum(ones(300,300)*ones(300,300))';
    writeFileSync(
      join(g, 'subs', 'a.yaml'),
      [
        'student: A',
        'answers:',
        '  p:',
        '    gradient: { x: "2*x + 0*sum(ones(2500,2500)*ones(2500,2500)*ones(2500,2500))" }',
        `    value: "${shared}"`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(g, 'subs', 'b.yaml'), ['student: B', 'answers:', '  p:', '    gradient: { x: "2*x" }', `    value: "${shared}"`, ''].join('\n'));
    const r = attack(['grade', join(g, 'key.yaml'), join(g, 'subs'), '--timeout', '4', '--json'], { timeoutMs: KILL_MS });
    expectNoTrace(r);
    expect(r.code, r.stderr).toBe(0);
    const students = JSON.parse(r.stdout).students;
    const parts = (name: string) =>
      Object.fromEntries(
        students
          .find((s: { student: string }) => s.student === name)
          .problems[0].parts.map((p: { part: string; status: string; message: string }) => [p.part, p]),
      );
    const [a, b] = [parts('A'), parts('B')];
    expect(a['gradient.x'].status).toBe('error');
    expect(a['gradient.x'].message).toMatch(TIMEOUT);
    expect(a.value.status).toBe('error');
    expect(a.value.message).toMatch(TIMEOUT);
    expect(b['gradient.x'].status).toBe('right');
    expect(b.value.status, b.value.message).toBe('right');
    // one problem per student, each stopped at its own deadline
    expect(r.ms).toBeLessThan(2 * 4000 + SLACK_MS);
  });

  it('the answer caches keep an answer’s error, but never a limit’s', () => {
    const memo = new Map<string, object | AgError>();
    let made = 0;
    const make = (e: Error) => () => {
      made++;
      throw e;
    };
    for (let i = 0; i < 2; i++) expect(() => cached(memo, 'slow', make(new TimeoutError(1)))).toThrow(TimeoutError);
    expect(made).toBe(2);
    expect(memo.has('slow')).toBe(false);
    for (let i = 0; i < 2; i++) expect(() => cached(memo, 'bad', make(new AgError('syntax', 'unexpected )')))).toThrow(/unexpected \)/);
    expect(made).toBe(3);
    expect(memo.get('bad')).toBeInstanceOf(AgError);
  });
});
