import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeSubmission, prepareKey } from '../../src/homework/grade/grade.js';
import { loadKey, parsePart } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';

const dir = mkdtempSync(join(tmpdir(), 'ag-key-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const keyError = (text: string) => {
  try {
    prepareKey(loadKey(file('k.yaml', text)));
  } catch (e) {
    return (e as Error).message.replace(`${dir}/`, '');
  }
  throw new Error('no error');
};

describe('answer keys', () => {
  it('reads parts as the key writes them', () => {
    expect(parsePart('value')).toEqual({ kind: 'value', name: 'f', part: 'value' });
    expect(parsePart('gradient.W1')).toEqual({ kind: 'gradient', name: 'W1', part: 'gradient.W1' });
    expect(parsePart('steps.q')).toEqual({ kind: 'step', name: 'q', part: 'steps.q' });
    for (const bad of ['gradient', 'gradient.', 'steps.1q', 'value.x', 'grad.x']) expect(parsePart(bad), bad).toBeNull();
  });

  it('a key that cannot be used is an error naming file, line and problem', () => {
    expect(keyError('- f: x\n')).toBe('k.yaml:1: an answer key should be a mapping with title: and problems:, not a list');
    expect(keyError('title: t\nproblem: []\n')).toBe(
      'k.yaml:2: unknown key problem: in the answer key (did you mean problems:?); it has title:, problems: and visibility:',
    );
    expect(keyError('problems:\n  - f: x\n    at: { x: 1 }\n')).toBe('k.yaml:2: problem 1 has no name: (submissions answer problems by name)');
    expect(keyError('problems:\n  - name: a\n    f: x\n  - name: a\n    f: y\n')).toBe('k.yaml:4: two problems are named a (lines 2 and 4); names must differ');
    expect(keyError('problems:\n  - name: a\n    f: x\n    expect: { value: 1 }\n')).toBe('k.yaml:4: problem 1: unknown key expect:');
    expect(keyError('problems:\n  - name: a\n    f: x\n    parts: [value, gradient]\n')).toBe(
      'k.yaml:4: a: parts: gradient is not a part; a part is value, gradient.<variable or step>, steps.<step>, hessian.<variable>.<variable> or jacobian.<variable>',
    );
    expect(keyError('problems:\n  - name: a\n    f: q = x^2; q + 1\n    at: { x: 1 }\n    parts: [gradient.z]\n')).toBe(
      'k.yaml:5: problem a: parts: the formula has no variable or named step z',
    );
    expect(keyError('problems:\n  - name: a\n    f: sinn(x)\n    at: { x: 1 }\n')).toBe('k.yaml:3:8: problem a: unknown function sinn');
    expect(keyError('problems:\n  - name: a\n    f: -log(softmax(z)[y])\n    at: { z: [1, 2], y: 1 }\n    parts: [gradient.y]\n')).toBe(
      'k.yaml:5: problem a: parts: y is used as an index, so it has no gradient',
    );
    // a key may not loosen the judgement past the caps either
    expect(keyError('problems:\n  - name: a\n    f: x\n    at: { x: 1 }\n    rtol: 0.5\n')).toBe(
      'k.yaml:5: problem a: rtol: 0.5 is above 0.1, the most a case file may set',
    );
  });

  it('by default grades the value and every variable differentiated (not indices, not those left out by wrt)', () => {
    const k = prepareKey(
      loadKey(file('d.yaml', 'problems:\n  - name: ce\n    f: -log(softmax(W*x)[y])\n    at: { W: [[1, 2], [3, 4]], x: [1, -1], y: 2 }\n    wrt: [W]\n')),
    );
    expect(k.problems[0].parts.map((p) => p.part)).toEqual(['value', 'gradient.W']);
  });

  it('random points: every submission is judged at the same points, a formula answer at all of them', () => {
    const k = prepareKey(loadKey(file('r.yaml', 'problems:\n  - name: p\n    f: (x + y)*sin(x)\n    samples: 4\n    parts: [gradient.x]\n')));
    expect(k.problems[0].samples).toHaveLength(4);
    const s = (answer: string) =>
      gradeSubmission(k.problems, loadSubmission(file('s.yaml', `answers:\n  p:\n    gradient: { x: "${answer}" }\n`))).problems[0].parts[0];
    expect(s('sin(x) + (x + y)*cos(x)')).toMatchObject({ status: 'right', earned: 1 });
    const wrong = s('sin(x)');
    expect(wrong.status).toBe('wrong');
    expect(wrong.message).toMatch(/; wrong at 4 of 4 points$/);
    // an answer in another variable cannot be judged: the part's error, with where it is
    expect(s('2*t')).toMatchObject({
      status: 'error',
      message: 'no value for the variable t (give it a value under at:, or draw it at random with at: random (or ranges:))',
      error: { line: 3, field: 'answers.p.gradient.x' },
    });
    expect(s('2*x +')).toMatchObject({ status: 'error', error: { code: 'syntax', line: 3, col: 26, source: '2*x +' } });
  });
});

describe('submissions', () => {
  it('the student is named by student: or by the file', () => {
    expect(loadSubmission(file('zoe.yaml', 'answers: {}\n')).student).toBe('zoe');
    expect(loadSubmission(file('s1.yaml', 'student: 42\nanswers: {}\n')).student).toBe('42');
    expect(loadSubmission(file('s2.yaml', 'student: [a]\nanswers: {}\n')).refused).toEqual(['line 1: student: should be a name, not a list']);
  });

  it('numbers keep the text they were written with, in YAML and JSON', () => {
    const y = loadSubmission(file('n.yaml', 'answers:\n  p: { value: -0.1970, gradient: { x: [0.39, 1.2e-3] } }\n'));
    expect(y.answers.p.expect).toEqual({ value: '-0.1970', gradient: { x: ['0.39', '1.2e-3'] } });
    const j = loadSubmission(file('n.json', '{"answers": {"p": {"value": -0.1970, "gradient": {"x": [0.39, 1.2e-3]}}}}'));
    expect(j.answers.p.expect).toEqual({ value: '-0.1970', gradient: { x: ['0.39', '1.2e-3'] } });
  });

  it('refuses anything but answers: keys that judge, file references, a submission that is not a mapping', () => {
    expect(loadSubmission(file('a.yaml', '- 1\n')).refused).toEqual(['line 1: a submission should be a mapping with student: and answers:, not a list']);
    expect(loadSubmission(file('b.yaml', 'answers:\n  p: { value: 1, min_digits: 1, samples: 1 }\n')).refused).toEqual([
      'line 2: answers.p.min_digits: a submission cannot set min_digits; how answers are judged (the formula, the point, tolerances, digits, samples) is set by the answer key',
      'line 2: answers.p.samples: a submission cannot set samples; how answers are judged (the formula, the point, tolerances, digits, samples) is set by the answer key',
    ]);
    expect(loadSubmission(file('c.yaml', 'answers:\n  p: { gradient: { W: ["@w.npy", 1] } }\n')).refused).toEqual([
      'line 2: answers.p.gradient.W: @w.npy is a file reference; a submission holds numbers and formulas only',
    ]);
    // a variable may be called rtol: under gradient:, names are data
    expect(loadSubmission(file('d.yaml', 'answers:\n  p: { gradient: { rtol: 1, __proto__: 2 } }\n')).refused).toEqual([]);
  });
});
