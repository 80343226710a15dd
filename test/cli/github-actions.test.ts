import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers.js';

/** `check --reporter github` as a workflow step runs it: GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, and a working-directory: below the checkout. */
describe('check --reporter github on GitHub Actions', () => {
  it('under working-directory: annotations name files from the workspace, and the job summary is appended to', () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'ag-gh-')), 'step_summary.md');
    // an earlier step of the job wrote its own summary: it stays
    writeFileSync(summary, '## an earlier step\n');
    const r = cli(['check', 'homework/exercises.yaml', '--reporter', 'github'], {
      cwd: join(ROOT, 'fixtures'),
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: ROOT, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code, r.stderr).toBe(1);
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.length).toBeLessThanOrEqual(10);
    for (const a of annotations) expect(a).toMatch(/^::error file=fixtures\/homework\/exercises\.yaml,line=\d+/);
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('## an earlier step\n### autograd-cli check\n')).toBe(true);
    expect(md).toContain('| case | entry | yours | finite differences | what is wrong |');
    expect(md).toMatch(/\| ∂f\/∂x \| 0\.841471 \| 1\.38177 \|/);
    expect(md).toContain('(fixtures/homework/exercises.yaml:');
    // a second step appends again
    cli(['check', 'homework/exercises.yaml', '--reporter', 'github'], {
      cwd: join(ROOT, 'fixtures'),
      env: { GITHUB_WORKSPACE: ROOT, GITHUB_STEP_SUMMARY: summary },
    });
    expect(readFileSync(summary, 'utf8').split('### autograd-cli check').length).toBe(3);
  });

  it('without GITHUB_STEP_SUMMARY nothing else is written; a summary file that cannot be written is one line', () => {
    const plain = cli(['check', 'fixtures/ci/passing/', '--reporter', 'github'], { env: { GITHUB_STEP_SUMMARY: '' } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^✓ \d+ cases: /m);
    const bad = cli(['check', 'fixtures/ci/passing/', '--reporter', 'github'], { env: { GITHUB_STEP_SUMMARY: join(ROOT, 'no-such-folder', 'summary.md') } });
    expect(bad.stderr).toMatch(/^error: the report was not written: cannot append to .*summary\.md: the folder does not exist$/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
