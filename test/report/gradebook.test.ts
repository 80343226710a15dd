import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeReport, gradeSubmission, prepareKey } from '../../src/homework/grade/grade.js';
import { feedbackNames, safeFileName } from '../../src/homework/grade/names.js';
import { loadKey } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';
import { renderFeedback, renderGradeTable } from '../../src/report/grade.js';
import { renderGradebook, text } from '../../src/report/gradebook.js';
import { renderGradescope } from '../../src/report/gradescope.js';
import { ROOT } from '../helpers.js';
import { GRADEBOOK } from '../grade/gradebook-fixture.js';

const dir = join(ROOT, 'fixtures/homework');
const key = loadKey(join(dir, 'key.yaml'));
const prepared = prepareKey(key);
const report = (...names: string[]) =>
  gradeReport(
    key,
    prepared.problems,
    names.map((n) => gradeSubmission(prepared.problems, loadSubmission(join(dir, 'submissions', n)))),
    [],
    [],
    0,
  );

describe('the gradebook (CSV)', () => {
  it('one row per student: the points of each problem, total, maximum — the exact totals', () => {
    const csv = renderGradebook(report('ada.yaml', 'bob.yaml', 'carol.json', 'mallory.yaml')).replaceAll(`${ROOT}/`, '');
    expect(csv).toBe(GRADEBOOK);
  });

  it('starts with the UTF-8 byte-order mark (EF BB BF), once, so Excel reads names as UTF-8', () => {
    const bytes = Buffer.from(renderGradebook(report('ada.yaml')), 'utf8');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3, 10).toString()).toBe('student');
    expect(bytes.indexOf(Buffer.from([0xef, 0xbb, 0xbf]), 3)).toBe(-1);
  });

  it('quotes what needs quoting and neutralises cells a spreadsheet would run as formulas', () => {
    expect(text('Ada')).toBe('Ada');
    expect(text('Lovelace, Ada')).toBe('"Lovelace, Ada"');
    expect(text('say "hi"')).toBe('"say ""hi"""');
    for (const lead of ['=', '+', '-', '@']) expect(text(`${lead}1+1`)).toBe(`'${lead}1+1`);
    expect(text('=SUM(A1,A2)')).toBe(`"'=SUM(A1,A2)"`);
    // control characters are escaped, never written raw
    expect(text('a\u0007b\u202ec')).toBe('a\\x07b\\u202ec');
    expect(text(' padded ')).toBe('" padded "');
  });
});

describe('feedback and Gradescope', () => {
  it('feedback: every part with its verdict, what is missing, in plain text', () => {
    const r = report('bob.yaml');
    const text = renderFeedback(r, r.students[0]);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'Homework 1: backpropagation by hand — feedback for Bob',
      `submission: ${join(dir, 'submissions/bob.yaml')}`,
      'score: 15 of 30 points',
      '',
    ]);
    expect(text).toContain('circuit: 1 of 5 points\n  ✓ value (1/1): matches the 2 digits you wrote\n  ✗ gradient.x (0/1): your ∂f/∂x has the wrong sign');
    expect(text).toContain('  – gradient.q (0/1): missing — no answer given\n');
    expect(text).toContain('missing: circuit.gradient.q, mlp.value, mlp.gradient.W1, mlp.gradient.W2, mlp.gradient.h, mlp.gradient.yp\n');
    const refused = report('mallory.yaml');
    expect(renderFeedback(refused, refused.students[0])).toContain('This submission was not graded. A submission holds answers only');
  });

  it('the table: one line per student with the score, what was not right beneath', () => {
    const t = renderGradeTable(report('ada.yaml', 'bob.yaml')).replaceAll(`${ROOT}/`, '');
    expect(t.split('\n')[0]).toBe('Homework 1: backpropagation by hand  (fixtures/homework/key.yaml: 7 problems, 30 points)');
    expect(t).toContain(
      'Ada Lovelace  fixtures/homework/submissions/ada.yaml  30 of 30 points\nBob  fixtures/homework/submissions/bob.yaml  15 of 30 points\n  circuit  1 of 5 points\n',
    );
    expect(t).toContain('  mlp  0 of 5 points  – not answered\n');
    expect(t.split('\n').at(-1)).toBe('✓ 2 submissions graded: mean 22.5 of 30 points (0.00 s)');
  });

  it('Gradescope results.json: the score, one test per part with score, max_score, status and output', () => {
    const r = JSON.parse(renderGradescope(report('bob.yaml')));
    expect(r.score).toBe(15);
    expect(r.output).toMatch(/^Homework 1: backpropagation by hand — feedback for Bob\n/);
    expect(r.tests).toHaveLength(34);
    expect(r.tests[0]).toEqual({ name: 'circuit: value', score: 1, max_score: 1, status: 'passed', output: 'matches the 2 digits you wrote' });
    expect(r.tests[1]).toMatchObject({ name: 'circuit: gradient.x', score: 0, max_score: 1, status: 'failed' });
    expect(r.tests.find((t: { name: string }) => t.name === 'neuron: gradient.w0')).toMatchObject({ score: 0.5, max_score: 0.5 });
    expect(r.tests.reduce((s: number, t: { score: number }) => s + t.score, 0)).toBe(15);
  });

  it('feedback files get safe, distinct names', () => {
    expect(safeFileName('Ada Lovelace')).toBe('Ada_Lovelace');
    expect(safeFileName('../../etc/passwd')).toBe('etc_passwd');
    expect(safeFileName('.hidden')).toBe('hidden');
    expect(safeFileName('Zoë Ångström')).toBe('Zoe_Angstrom');
    expect(safeFileName('CON')).toBe('_CON');
    expect(safeFileName('///')).toBe('student');
    expect(safeFileName('x'.repeat(300))).toHaveLength(64);
    expect(feedbackNames(['Bob', 'bob', 'Bob', '?'])).toEqual(['Bob.txt', 'bob-2.txt', 'Bob-3.txt', 'student.txt']);
  });
});
