import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { DEFAULT_LIMITS, limitsFrom } from '../../src/core/limits.js';
import { attack, expectRefused } from './harness.js';

/** Class 1: limits are on by default, in every command and library entry point. */
const dir = mkdtempSync(join(tmpdir(), 'ag-limits-'));
// 2^19 + 1 nodes: x+x+…+x, 1 MB of text
const huge = join(dir, 'huge.txt');
writeFileSync(huge, Array.from({ length: 262_145 }, () => 'x').join('+'));

describe('limits are on by default', () => {
  for (const cmd of ['grad', 'graph', 'derive', 'jacobian']) {
    it(`${cmd} @file with 524,289 nodes: refused by the default limit`, () => {
      expectRefused(attack([cmd, `@${huge}`, ...(cmd === 'derive' ? [] : ['--at', 'x=1'])]), /--max-length/, { maxCpuMs: 10_000 });
    });
  }

  it('check: the same formula in a case file is that case’s error, exit 1', () => {
    const f = join(dir, 'huge.yaml');
    writeFileSync(f, `- name: huge\n  f: "@${huge}"\n- f: x^2\n`);
    const r = attack(['check', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1 passed, 1 error/);
  });

  for (const [what, args, msg] of [
    ['sum(zeros(6e7))+x (1.4 GB before)', ['grad', 'sum(zeros(6e7))+x', '--at', 'x=1'], /zeros would make a tensor \[60000000\].*--max-entries/],
    ['ones(1e9) in --at', ['grad', 'x', '--at', 'x=1,W=ones(1e9)'], /--at W: ones would make a tensor.*--max-entries/],
    ['randn(100000,100000)', ['grad', 'x', '--at', 'x=1,W=randn(100000,100000)'], /randn would make a tensor \[100000,100000\].*--max-entries/],
    ['zeros(1e300)', ['grad', 'x', '--at', 'x=1,W=zeros(1e300)'], /zeros would make a tensor.*--max-entries/],
    ['eye(1e5) in a formula', ['grad', 'x*sum(eye(1e5))', '--at', 'x=1'], /eye would make a tensor \[100000,100000\]/],
    [
      'ones(7000,7000) within entries, over memory',
      ['grad', 'x*sum(ones(7000,7000))', '--at', 'x=1'],
      /would need about .* GiB; the limit is 2 GiB \(--max-memory\)/,
    ],
    ['graph of a huge generator', ['graph', 'x*sum(ones(7000,7000))', '--at', 'x=1'], /--max-memory/],
    ['jacobian of a huge generator', ['jacobian', 'x*ones(7000,7000)', '--at', 'x=1'], /--max-memory|--max-entries/],
    ['derive of a huge generator', ['derive', 'x*sum(ones(9000,9000))'], /--max-entries|--max-memory/],
  ] as const) {
    it(`${what}: exit 2 naming the limit, before allocating`, () => {
      expectRefused(attack([...args]), msg, { maxMB: 250 });
    });
  }

  it('values and expect formulas inside case files are held to the limits', () => {
    const f = join(dir, 'values.yaml');
    writeFileSync(
      f,
      [
        '- name: big value',
        '  f: sum(W)',
        '  at: { W: "ones(7000,7000)" }',
        '- name: big answer',
        '  f: x^2',
        '  expect: { gradient: { x: "2*x + 0*sum(ones(9000,9000))" } }',
        '- f: x^2',
        '',
      ].join('\n'),
    );
    const r = attack(['check', f, '--reporter', 'json', '--max-memory', '0.5']);
    expect(r.code).toBe(1);
    const cases = JSON.parse(r.stdout).cases;
    expect(cases.map((c: { status: string }) => c.status)).toEqual(['error', 'error', 'pass']);
    expect(cases[0].error.message).toMatch(/--max-memory/);
    expect(cases[1].error.message).toMatch(/--max-entries|--max-memory/);
    expect(r.peakMB).toBeLessThan(512 + 300);
  });

  it('the library applies the defaults, and an undefined option never erases one', () => {
    const limits = limitsFrom({ maxNodes: undefined, maxMemory: undefined });
    expect(limits).toEqual(DEFAULT_LIMITS);
    expect(() => grad('sum(zeros(6e7))+x', { x: 1 }, { limits: { maxEntries: undefined } })).toThrow(/--max-entries/);
    expect(() => grad('sum(zeros(6e7))+x', { x: 1 })).toThrow(AgError);
    expect(() => limitsFrom({ maxNodes: -1 })).toThrow(/--max-nodes must be a positive whole number/);
    // a flag given on the command line changes only its own limit
    const r = attack(['grad', 'x*sum(ones(2000))', '--at', 'x=1', '--max-entries', '1000']);
    expectRefused(r, /the limit is 1000 \(--max-entries\)/);
  });
});
