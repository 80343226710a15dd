import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, cliJson } from '../helpers.js';

describe('hints that help', () => {
  it('ln is log, as the lecture writes it (unless the formula defines its own ln)', () => {
    const r = cliJson(['grad', 'ln(x)', '--at', 'x=2']);
    expect(r.code).toBe(0);
    expect(r.json.gradient.x).toBeCloseTo(0.5, 12);
    expect(cliJson(['grad', 'ln(t) = 2*t; ln(x)', '--at', 'x=2']).json.gradient.x).toBe(2);
  });

  it('x**2 suggests x^2', () => {
    const r = cli(['grad', 'x**2', '--at', 'x=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hint: powers are written with ^: x^2');
  });

  it('an unknown command says so before guessing', () => {
    const r = cli(['gard', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: unknown command gard');
    expect(r.stderr).toMatch(/hint: did you mean grad\?/);
    expect(cli(['frobnicate']).stderr).toMatch(
      /^error: unknown command frobnicate\n {2}hint: the commands are grad, graph, derive, jacobian, hessian, check, gradcheck, grade, doctor/,
    );
    // every command the parser runs is one the hint knows (grade came later than the list)
    expect(cli(['grader']).stderr).toMatch(/hint: did you mean grade\?/);
    expect(cli(['grade', '--help']).code).toBe(0);
    expect(cli(['gradcheck', '--help']).code).toBe(0);
  });

  it('--at "x=1;y=2" suggests commas', () => {
    const r = cli(['grad', 'x*y', '--at', 'x=1;y=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hint: separate values with commas: x=1,y=2');
  });

  it('a YAML value YAML reads as syntax suggests quoting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-hints-'));
    const file = join(dir, 'cases.yaml');
    writeFileSync(file, '- name: ||Wx||^2\n  f: sum((W*x).^2)\n  at: {W: [[1,2],[3,4]], x: [1,2]}\n');
    const r = cli(['check', file]);
    expect(r.code).toBe(2);
    // piped: placed and explained, not quoted; at a terminal the hint shows the line with the quotes added
    expect(r.stderr).toMatch(/cases\.yaml:1:\d+: the case file is not valid YAML: /);
    expect(r.stderr).not.toContain('Wx');
    const tty = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} check ${JSON.stringify(file)}`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(tty.stdout).toContain('a value that starts with | needs quotes: - name: "||Wx||^2"');
  });

  it('an unknown name in an expected answer is not a variable of f, with the closest one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-hints-'));
    const file = join(dir, 'cases.yaml');
    writeFileSync(file, '- name: chain rule\n  f: sin(x^2)\n  at: {x: 1}\n  expect:\n    gradient: {x: "2*X*cos(x^2)"}\n');
    const r = cli(['check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('X is not a variable of f');
    expect(r.stdout).toContain('hint: did you mean x?');
    expect(r.stdout).not.toContain('give it a value under at:');
  });
});
