import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers.js';

/**
 * Issue 22, class 7: Gradescope never loses a student's result. Whatever the student
 * uploaded — a file that is not YAML, two answer files, none — the run writes a
 * results.json Gradescope can show: score 0, every test failed, and why in words a
 * student understands. Results are plain text, and tests carry the key's visibility:.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-gradescope-'));
const KEY = join(dir, 'key.yaml');
writeFileSync(
  KEY,
  'title: HW 1\nproblems:\n  - name: square\n    f: x^2\n    at: { x: 3 }\n    points: 2\n  - name: line\n    f: 2*x + y\n    at: { x: 1, y: 2 }\n',
);
const GOOD = 'student: Ada\nanswers:\n  square: { value: 9, gradient: { x: 6 } }\n  line: { value: 4, gradient: { x: 2, y: 1 } }\n';

interface Results {
  score: number;
  output: string;
  output_format: string;
  test_output_format: string;
  test_name_format: string;
  visibility?: string;
  tests: { name: string; score: number; max_score: number; status: string; output: string; visibility?: string }[];
}

/** Run as Gradescope does: the key, the submission folder, results.json. */
function autograde(files: Record<string, string>, key = KEY): { code: number; stderr: string; results: Results } {
  const root = mkdtempSync(join(dir, 'run-'));
  const submission = join(root, 'submission');
  mkdirSync(submission);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(submission, name, '..'), { recursive: true });
    writeFileSync(join(submission, name), text);
  }
  const out = join(root, 'results.json');
  const r = cli(['grade', key, submission, '--reporter', 'gradescope', '-o', out]);
  expect(r.stderr).not.toMatch(/internal error|this is a bug|\n\s+at \S+:\d+:\d+/);
  const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
  rmSync(root, { recursive: true, force: true });
  return { code: r.code, stderr: r.stderr, results };
}

/** A result that scores 0 and says why: every test of the key listed and failed, plain text. */
function expectNotGraded(results: Results, why: RegExp): void {
  expect(results.score).toBe(0);
  expect(results.output).toMatch(/^HW 1\nscore: 0 of 3 points\n\nYour submission was not graded: /);
  expect(results.output).toMatch(why);
  expect(results.output_format).toBe('text');
  expect(results.tests.map((t) => [t.name, t.score, t.max_score, t.status])).toEqual([
    ['square: value', 0, 1, 'failed'],
    ['square: gradient.x', 0, 1, 'failed'],
    ['line: value', 0, 0.33, 'failed'],
    ['line: gradient.x', 0, 0.33, 'failed'],
    ['line: gradient.y', 0, 0.33, 'failed'],
  ]);
}

describe('Gradescope never loses a student result', () => {
  it('a file that is not YAML: results.json with score 0 and where the file is wrong', () => {
    const r = autograde({ 'answers.yaml': 'answers:\n  square: { value: [9\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*answers\.yaml:\d+:\d+: the submission is not valid YAML/);
    expectNotGraded(
      r.results,
      /your answer file answers\.yaml could not be read \(line \d+, column \d+\): the submission is not valid YAML: .*\. Fix it and submit again\.\n$/,
    );
  });

  it('JSON that JSON.parse refuses: the reason, never the text', () => {
    const r = autograde({ 'answers.json': '{"answers": {"square": {"value": ghp_SECRET}}}' });
    expectNotGraded(r.results, /answers\.json could not be read \(line 1, column \d+\): the submission is not valid JSON/);
    expect(JSON.stringify(r.results) + r.stderr).not.toContain('ghp_');
  });

  it('two answer files, or none: score 0 and what to upload', () => {
    const two = autograde({ 'a.yaml': GOOD, 'sub/b.json': '{"answers": {}}' });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--reporter gradescope grades one submission; found 2/);
    expectNotGraded(two.results, /it has 2 answer files \(a\.yaml, sub\/b\.json\)\. Upload exactly one file with all your answers\./);
    // what a Mac zip or a GitHub upload carries beside the answers is not a second answer file
    const zipped = autograde({
      'answers.yaml': GOOD,
      '__MACOSX/._answers.yaml': '\u0000\u0005\u0016\u0007',
      '.github/workflows/ci.yml': 'on: push\n',
      '.hidden.yaml': 'x: 1\n',
    });
    expect(zipped.code).toBe(0);
    expect(zipped.results.score).toBe(3);
    const none = autograde({ 'notes.txt': 'my answers are on paper' });
    expectNotGraded(none.results, /no answer file was found\. Upload one file with your answers \(\.yaml, \.yml or \.json\)\./);
  });

  it('a submission that is not a mapping is graded 0 with the refusal, as before; a good one gets its score', () => {
    const refused = autograde({ 's.yaml': '- 9\n- 6\n' });
    expect(refused.code).toBe(0);
    expect(refused.results.score).toBe(0);
    expect(refused.results.output).toMatch(/a submission should be a mapping with student: and answers:, not a list/);
    const good = autograde({ 's.yaml': GOOD });
    expect(good.code).toBe(0);
    expect(good.results.score).toBe(3);
    expect(good.results.tests.every((t) => t.status === 'passed')).toBe(true);
  });

  it('plain text everywhere: names and formulas with HTML are shown as written, never rendered', () => {
    const r = autograde({ 's.yaml': 'student: "<img src=x onerror=alert(1)>"\nanswers:\n  square: { value: 9, gradient: { x: "<b>2</b>*x" } }\n' });
    expect(r.results).toMatchObject({ output_format: 'text', test_output_format: 'text', test_name_format: 'text' });
    expect(r.results.output).toContain('<img src=x onerror=alert(1)>');
  });

  it("the key's visibility: marks the result and each problem's tests; without it, none is set", () => {
    const key = join(dir, 'visible-key.yaml');
    writeFileSync(
      key,
      readFileSync(KEY, 'utf8')
        .replace('title: HW 1\n', 'title: HW 1\nvisibility: after_published\n')
        .replace('    points: 2\n', '    points: 2\n    visibility: hidden\n'),
    );
    for (const files of [{ 's.yaml': GOOD }, { 's.yaml': 'answers: [\n' }]) {
      const r = autograde(files, key);
      expect(r.results.visibility).toBe('after_published');
      expect(r.results.tests.map((t) => t.visibility)).toEqual(['hidden', 'hidden', undefined, undefined, undefined]);
    }
    const plain = autograde({ 's.yaml': GOOD });
    expect(plain.results.visibility).toBeUndefined();
    expect(plain.results.tests.some((t) => 'visibility' in t)).toBe(false);
    // a visibility Gradescope does not know is the key's error, caught before any student is graded
    writeFileSync(key, `${readFileSync(KEY, 'utf8')}visibility: later\n`);
    const bad = cli(['grade', key, join(dir, 'none'), '--reporter', 'gradescope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/visibility: should be one of visible, hidden, after_due_date, after_published, not string "later"/);
  });
});
