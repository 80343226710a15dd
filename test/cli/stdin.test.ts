import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers.js';

/** `check -` and `grade KEY -`: a case file or a submission on standard input, through the bounded reader. */
describe('standard input as a document', () => {
  const scalars = readFileSync(join(ROOT, 'fixtures/ci/passing/scalars.json'), 'utf8');

  it('check - reads a case file (JSON or YAML) from standard input', () => {
    const r = cli(['check', '-'], { input: scalars });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<stdin>\n {2}✓ sigmoid neuron/);
    expect(r.stdout).toMatch(/✓ 2 cases: 2 passed/);
    const wrong = cli(['check', '-', '--reporter', 'tap'], { input: '- f: x^2\n  at: { x: 3 }\n  expect: { gradient: { x: 5 } }\n' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^not ok 1 - x\^2 \(<stdin>:1\)$/m);
    // beside case files, in the order given
    const both = cli(['check', 'fixtures/ci/passing/model.yaml', '-'], { input: scalars });
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout.indexOf('fixtures/ci/passing/model.yaml')).toBeLessThan(both.stdout.indexOf('<stdin>'));
  });

  it('check - with an option of a formula reads the formula from standard input, as before', () => {
    const r = cli(['check', '-', '--expect', 'x=2*x'], { input: 'x^2\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ x\^2/);
    const text = cli(['check', '-'], { input: 'x^2\n' });
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(
      /^error: <stdin>:1: expected a list of cases .*\n {2}hint: check - reads a case file; a formula from standard input takes --at, --expect or --wrt\n$/,
    );
  });

  it('reads no more than --max-document-size, and says so in one line', () => {
    const r = cli(['check', '-', '--max-document-size', '0.001'], { input: `- f: x\n${'# padding\n'.repeat(500)}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: <stdin>: cannot read it: it is larger than the limit; the limit is [\d.]+ KiB \(--max-document-size\)$/m);
    expect(r.stderr).not.toContain('hint');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('grade KEY - grades one submission from standard input', () => {
    const bob = readFileSync(join(ROOT, 'fixtures/homework/submissions/bob.yaml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'ag-stdin-'));
    const r = cli(['grade', 'fixtures/homework/key.yaml', '-', '--gradebook', join(dir, 'g.csv')], { input: bob });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Bob  <stdin>  15 of 30 points\n');
    expect(readFileSync(join(dir, 'g.csv'), 'utf8').split('\r\n')[1]).toBe('Bob,<stdin>,1,3,4,2,3,2,0,15,30');
    const broken = cli(['grade', 'fixtures/homework/key.yaml', '-'], { input: 'answers: [1,' });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error: <stdin>:1:\d+: the submission is not valid YAML/);
    // the student's text is never quoted back
    expect(broken.stderr).not.toContain('answers: [1,');
  });

  it('standard input is read once', () => {
    const r = cli(['check', '-', '-'], { input: scalars });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: standard input \(-\) can be read once/);
  });
});
