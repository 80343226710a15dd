import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers.js';
import { attack, expectNoTrace, expectRefused } from './harness.js';

/** Class 5: reports are never lost or destroyed; Ctrl-C keeps what finished. */
const dir = mkdtempSync(join(tmpdir(), 'ag-reports-'));
const cases = join(dir, 'ex.yaml');
const casesText = '- f: x^2\n  expect: { gradient: { x: 3*x } }\n- f: sin(x)\n';
writeFileSync(cases, casesText);

describe('reports are never lost or destroyed', () => {
  it('check ex.yaml -o ex.yaml is refused before anything runs; the input is unchanged', () => {
    for (const out of [cases, join(dir, '.', 'ex.yaml')]) {
      expectRefused(attack(['check', cases, '-o', out]), /that is an input of this run/);
      expect(readFileSync(cases, 'utf8')).toBe(casesText);
    }
    const link = join(dir, 'alias.yaml');
    symlinkSync(cases, link);
    expectRefused(attack(['check', cases, '-o', link, '--reporter', 'junit']), /that is an input of this run/);
    expect(readFileSync(cases, 'utf8')).toBe(casesText);
  });

  it('graph @form.txt -o form.txt is refused; so is -o over an --at file', () => {
    const form = join(dir, 'form.txt');
    writeFileSync(form, '(x+y)*sin(x)');
    expectRefused(attack(['graph', `@${form}`, '--at', 'x=1,y=2', '-o', form, '-f', 'dot']), /that is an input of this run/);
    expect(readFileSync(form, 'utf8')).toBe('(x+y)*sin(x)');
    const vals = join(dir, 'v.json');
    writeFileSync(vals, '{"x": 1, "y": 2}');
    expectRefused(attack(['graph', '(x+y)*sin(x)', '--at', `@${vals}`, '-o', vals]), /that is an input/);
    expect(readFileSync(vals, 'utf8')).toBe('{"x": 1, "y": 2}');
  });

  it('writes atomically: no temporary file left behind, the old report replaced whole', () => {
    const out = join(dir, 'out', 'report.xml');
    mkdirSync(join(dir, 'out'));
    writeFileSync(out, 'old report');
    const r = attack(['check', cases, '--reporter', 'junit', '-o', out]);
    expect(r.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml/);
    expect(readdirSync(join(dir, 'out'))).toEqual(['report.xml']);
  });

  it('when the report cannot be written: the table is printed, the exit code is the cases’, the error on stderr', () => {
    const ro = join(dir, 'readonly');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const target = process.getuid?.() === 0 ? join(dir, 'no', 'such', 'r.xml') : join(ro, 'r.xml');
    const r = attack(['check', cases, '--reporter', 'junit', '-o', target]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ 2 cases: 1 passed, 1 failed/);
    expect(r.stderr).toMatch(/^error: the report was not written: cannot write /);
    expectNoTrace(r);
  });

  it('a folder walk: a symlink loop or a broken link is an error for that path, the rest runs', () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a'), { recursive: true });
    writeFileSync(join(tree, 'a', 'ok.yaml'), '- f: x^2\n');
    symlinkSync(tree, join(tree, 'a', 'loop'));
    symlinkSync(join(tree, 'nowhere.yaml'), join(tree, 'broken.yaml'));
    const r = attack(['check', tree]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/1 passed/);
    expect(r.stderr).toMatch(/broken\.yaml: a broken link/);
    expect(r.stderr).toMatch(/loop: a symlink loop/);
    expectNoTrace(r);
  });

  it('SIGINT during check prints the summary of the finished cases and exits 130', async () => {
    const many = join(dir, 'many.yaml');
    writeFileSync(many, Array.from({ length: 400 }, (_, i) => `- name: case ${i}\n  f: sum(W.^2)\n  at: { W: "randn(60,60)" }\n`).join(''));
    const child = spawn(process.execPath, [BIN, 'check', many], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stdout).toMatch(/✓ case 0 /);
    expect(stdout).toMatch(/cases: \d+ passed/);
    expect(stderr).toMatch(/interrupted: \d+ of 400 cases finished/);
  }, 60_000);
});
