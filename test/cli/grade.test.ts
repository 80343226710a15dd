import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers.js';
import { GRADEBOOK } from '../grade/gradebook-fixture.js';
import { visibleWidth } from '../../src/report/layout.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ag-grade-'));
const KEY = 'fixtures/homework/key.yaml';
const SUBS = 'fixtures/homework/submissions';

describe('autograd-cli grade', () => {
  it('grades a folder: the table, the gradebook, one feedback file per student, exit 0', () => {
    const out = tmp();
    const r = cli(['grade', KEY, SUBS, '--gradebook', join(out, 'grades.csv'), '--feedback', join(out, 'feedback')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Bob  fixtures/homework/submissions/bob.yaml  15 of 30 points\n');
    expect(r.stdout).toContain('Mallory  fixtures/homework/submissions/mallory.yaml  refused  (0 of 30 points)\n');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^✓ 4 submissions graded \(1 refused\): mean 13 of 30 points \([\d.]+ s\)$/);
    expect(readFileSync(join(out, 'grades.csv'), 'utf8')).toBe(GRADEBOOK);
    expect(readdirSync(join(out, 'feedback')).sort()).toEqual(['Ada_Lovelace.txt', 'Bob.txt', 'HYPERLINK_http_example.com_Carol.txt', 'Mallory.txt']);
    expect(readFileSync(join(out, 'feedback', 'Bob.txt'), 'utf8')).toContain(
      'neuron: 3 of 4 points\n  ✗ value (0/0.5): too few digits (1 written, at least 2 asked for)',
    );
  });

  it('the table fits the terminal: at 60 and 80 columns no line is wider, and the words are the same', () => {
    const wide = cli(['grade', KEY, SUBS], { env: { COLUMNS: '1000' } }).stdout;
    for (const columns of [60, 80]) {
      const r = cli(['grade', KEY, SUBS], { env: { COLUMNS: String(columns) } });
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.filter((l) => visibleWidth(l) > columns)).toEqual([]);
      expect(lines.filter((l) => / $/.test(l))).toEqual([]);
      // the continuation lines are indented under their own line; joined back, the same text
      const words = (t: string) =>
        t
          .replace(/\([\d.]+ s\)/, '')
          .split(/\s+/)
          .join(' ');
      expect(words(r.stdout)).toBe(words(wide));
    }
  });

  it('JSON and Gradescope reporters; Gradescope grades exactly one submission', () => {
    const json = JSON.parse(cli(['grade', KEY, `${SUBS}/ada.yaml`, `${SUBS}/bob.yaml`, '--json']).stdout);
    expect(json.students.map((s: { student: string; earned: number }) => [s.student, s.earned])).toEqual([
      ['Ada Lovelace', 30],
      ['Bob', 15],
    ]);
    const out = tmp();
    const gs = cli(['grade', KEY, `${SUBS}/bob.yaml`, '--reporter', 'gradescope', '-o', join(out, 'results.json')]);
    expect(gs.code).toBe(0);
    expect(gs.stdout).toContain('Bob  fixtures/homework/submissions/bob.yaml  15 of 30 points');
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.score).toBe(15);
    expect(results.tests[0]).toEqual({ name: 'circuit: value', score: 1, max_score: 1, status: 'passed', output: 'matches the 2 digits you wrote' });
    const two = cli(['grade', KEY, SUBS, '--reporter', 'gradescope']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^error: --reporter gradescope grades one submission; found 4\n/);
  });

  it('exit 2 when the key cannot be used or a submission cannot be read; the readable ones are still graded', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'key.yaml'), 'problems:\n  - name: a\n    f: sinn(x)\n    at: { x: 1 }\n');
    const bad = cli(['grade', join(dir, 'key.yaml'), SUBS]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`error: ${join(dir, 'key.yaml')}:3:8: problem a: unknown function sinn\n  sinn(x)\n  ^^^^\n  hint: did you mean sin?\n`);
    expect(bad.stdout).toBe('');
    copyFileSync(join(ROOT, SUBS, 'ada.yaml'), join(dir, 'ada.yaml'));
    copyFileSync(join(ROOT, KEY), join(dir, 'key.yaml'));
    writeFileSync(join(dir, 'broken.yaml'), 'answers: { circuit: { value: [1, }\n');
    const r = cli(['grade', join(dir, 'key.yaml'), dir, '--gradebook', join(dir, 'g.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:1:\d+: the submission is not valid YAML/);
    expect(r.stdout).toContain('Ada Lovelace');
    // the key in the folder is not graded as a submission
    expect(readFileSync(join(dir, 'g.csv'), 'utf8').split('\r\n')).toHaveLength(3);
    expect(cli(['grade', KEY]).code).toBe(2);
    expect(cli(['grade', join(dir, 'none.yaml'), SUBS]).stderr).toMatch(/none\.yaml: cannot read it: no such file/);
  });

  it('never writes over an input, even through a link; a feedback name cannot leave its folder', () => {
    const dir = tmp();
    copyFileSync(join(ROOT, SUBS, 'bob.yaml'), join(dir, 'bob.yaml'));
    const before = readFileSync(join(dir, 'bob.yaml'), 'utf8');
    const r = cli(['grade', KEY, join(dir, 'bob.yaml'), '--gradebook', join(dir, 'bob.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --gradebook .*bob\.yaml: that is an input of this run/);
    expect(readFileSync(join(dir, 'bob.yaml'), 'utf8')).toBe(before);
    // a feedback file that is a link to a submission is refused, the submission untouched
    mkdirSync(join(dir, 'fb'));
    symlinkSync(join(dir, 'bob.yaml'), join(dir, 'fb', 'Bob.txt'));
    const f = cli(['grade', KEY, join(dir, 'bob.yaml'), '--feedback', join(dir, 'fb')]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--feedback .*Bob\.txt: that is an input of this run/);
    expect(readFileSync(join(dir, 'bob.yaml'), 'utf8')).toBe(before);
    // a student called ../../x gets a plain name inside the folder
    writeFileSync(join(dir, 'evil.yaml'), 'student: ../../evil\nanswers: {}\n');
    const e = cli(['grade', KEY, join(dir, 'evil.yaml'), '--feedback', join(dir, 'fb2')]);
    expect(e.code).toBe(0);
    expect(readdirSync(join(dir, 'fb2'))).toEqual(['evil.txt']);
    expect(existsSync(join(dir, '..', 'evil.txt'))).toBe(false);
  });
});
