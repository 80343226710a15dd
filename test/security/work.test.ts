import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, expectNoTrace, expectRefused } from './harness.js';

/** Class 3: work is bounded — inline expansion, derive's simplify, --timeout, the directional check. */
const dir = mkdtempSync(join(tmpdir(), 'ag-work-'));
const bomb = ['f1(t)=t*t', ...Array.from({ length: 39 }, (_, i) => `f${i + 2}(t)=f${i + 1}(t)+f${i + 1}(t)`), 'f40(x)'].join('; ');

describe('work is bounded', () => {
  it('the f1..f40 doubling bomb (849 bytes) fails fast, naming the limit', () => {
    expect(bomb.length).toBeLessThan(900);
    for (const cmd of ['grad', 'derive']) {
      const r = attack([cmd, bomb, ...(cmd === 'grad' ? ['--at', 'x=1'] : [])]);
      expectRefused(r, /building the graph takes more than 2000000 steps \(inline functions expand f40 → f39/, { maxCpuMs: 8000 });
    }
  });

  it('a nested inline bomb inside a case file is that case’s error', () => {
    const f = join(dir, 'bomb.yaml');
    writeFileSync(f, `- f: "${bomb}"\n- f: x^2\n`);
    const r = attack(['check', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/--max-expansion/);
    expect(r.stdout).toMatch(/1 passed, 1 error/);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  const product = Array.from({ length: 14 }, (_, i) => `(x+${i + 1})`).join('*');
  const quotient = Array.from({ length: 39 }, (_, i) => `(x+${i + 1})`).join('/');
  for (const [name, f] of [
    ['(x+1)*…*(x+14)', product],
    ['(x+1)/…/(x+39)', quotient],
  ]) {
    it(`derive ${name}: answers within seconds, unsimplified but correct, with a note`, () => {
      const r = attack(['derive', f]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/simplify ran out of its time budget/);
      expect(r.stdout).toMatch(/✓ cross-checked: equal to reverse mode/);
      // work, not wall time: a loaded machine stretches the clock, not what simplify does in its budget
      expect(r.cpuMs).toBeLessThan(15_000);
    });
  }

  it('derive exp(exp(…x)) 20 deep answers within seconds', () => {
    const r = attack(['derive', `${'exp('.repeat(20)}x${')'.repeat(20)}`]);
    expect([0, 2]).toContain(r.code);
    expectNoTrace(r);
    expect(r.cpuMs).toBeLessThan(15_000);
  });

  it('--timeout stops a runaway gradient cleanly (both engines)', () => {
    for (const engine of ['native', 'js']) {
      const r = attack([
        'grad',
        'sum(exp(W*W*W))',
        '--at',
        'W=randn(400,400)',
        '--fd-max',
        '200000',
        '--max-evaluations',
        '10000000',
        '--timeout',
        '1',
        '--engine',
        engine,
      ]);
      // unstopped this runs for hours; the bound leaves room for a loaded machine's start-up and the last pass in progress
      expectRefused(r, /took longer than 1 s and was stopped \(--timeout\)/, { maxMs: 20_000 });
    }
  });

  it('--timeout in check is per case: the slow case is an error, the others run', () => {
    const f = join(dir, 'slow.yaml');
    writeFileSync(f, ['- name: slow', '  f: sum(exp(W*W*W))', '  at: { W: "randn(300,300)" }', '- name: quick', '  f: x^2', ''].join('\n'));
    const r = attack(['check', f, '--timeout', '1', '--reporter', 'json']);
    expect(r.code).toBe(1);
    const cases = JSON.parse(r.stdout).cases;
    expect(cases[0].status).toBe('error');
    expect(cases[0].error.message).toMatch(/--timeout/);
    expect(cases[1].status).toBe('pass');
    // a deadline is wall time: 1 s for the slow case, start-up and the quick case, with a loaded machine's slack
    expect(r.ms).toBeLessThan(20_000);
  });

  it('the directional check’s cost is bounded: a million directions is refused before running', () => {
    const r = attack(['grad', 'sum(W.^2)', '--at', 'W=randn(100,100)', '--fd-max', '10', '--directions', '1000000']);
    expectRefused(r, /evaluations of the formula; the limit is 200000 \(--max-evaluations\)/);
    // a Jacobian by both modes: a million forward passes for one output
    const s = attack(['jacobian', 'sum(W)', '--at', 'W=randn(1000,1000)']);
    expectRefused(s, /--max-evaluations|--max-memory/);
  });
});
