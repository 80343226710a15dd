import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeReport, gradeSubmission, prepareKey, type StudentResult } from '../../src/homework/grade/grade.js';
import { loadKey } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';
import { ROOT } from '../helpers.js';

const dir = join(ROOT, 'fixtures/homework');
const key = loadKey(join(dir, 'key.yaml'));
const prepared = prepareKey(key);
const grade = (name: string) => gradeSubmission(prepared.problems, loadSubmission(join(dir, 'submissions', name)));
const part = (s: StudentResult, problem: string, name: string) => s.problems.find((p) => p.name === problem)!.parts.find((x) => x.part === name)!;

describe('grading the homework key', () => {
  it('runs the key once: seven problems, their parts and points, no warnings', () => {
    expect(key.title).toBe('Homework 1: backpropagation by hand');
    expect(prepared.problems.map((p) => [p.problem.name, p.points, p.parts.length])).toEqual([
      ['circuit', 5, 5],
      ['neuron', 4, 8],
      ['logistic', 5, 5],
      ['norm', 4, 4],
      ['softmax', 4, 4],
      ['svm', 3, 3],
      ['mlp', 5, 5],
    ]);
    expect(prepared.warnings).toEqual([]);
  });

  it('all right in textbook notation with rounded numbers: full marks, each part saying which rule judged it', () => {
    const ada = grade('ada.yaml');
    expect(ada).toMatchObject({ student: 'Ada Lovelace', earned: 30, max: 30, refused: [], notes: [] });
    for (const p of ada.problems) for (const x of p.parts) expect([p.name, x.part, x.status]).toEqual([p.name, x.part, 'right']);
    expect(part(ada, 'neuron', 'gradient.w0').message).toBe('matches the 2 digits you wrote');
    expect(part(ada, 'softmax', 'value').message).toBe('matches the 3 digits you wrote');
    expect(part(ada, 'circuit', 'gradient.z').message).toBe('matches 2 significant digits (you wrote 1)');
    expect(part(ada, 'norm', 'gradient.W').message).toBe('within rtol 1e-5, atol 1e-7');
  });

  it('the typical mistakes: each wrong part with its counterexample and the mistake named', () => {
    const bob = grade('bob.yaml');
    expect(bob.problems.map((p) => [p.name, p.earned])).toEqual([
      ['circuit', 1],
      ['neuron', 3],
      ['logistic', 4],
      ['norm', 2],
      ['softmax', 3],
      ['svm', 2],
      ['mlp', 0],
    ]);
    expect(bob.earned).toBe(15);
    const wrong = bob.problems.flatMap((p) => p.parts.filter((x) => x.status !== 'right').map((x) => [`${p.name}.${x.part}`, x.status, x.mistake ?? null]));
    expect(wrong).toEqual([
      ['circuit.gradient.x', 'wrong', 'negated'],
      ['circuit.gradient.y', 'wrong', 'swapped'],
      ['circuit.gradient.z', 'wrong', 'swapped'],
      ['circuit.gradient.q', 'missing', null],
      ['neuron.value', 'wrong', 'digits'],
      ['neuron.gradient.w1', 'wrong', 'chain'],
      ['logistic.gradient.w', 'wrong', null],
      ['norm.gradient.W', 'wrong', null],
      ['norm.gradient.x', 'wrong', 'factor'],
      ['softmax.gradient.W', 'wrong', 'transposed'],
      ['svm.gradient.s', 'wrong', 'negated'],
      ['mlp.value', 'missing', null],
      ['mlp.gradient.W1', 'missing', null],
      ['mlp.gradient.W2', 'missing', null],
      ['mlp.gradient.h', 'missing', null],
      ['mlp.gradient.yp', 'missing', null],
    ]);
    expect(part(bob, 'circuit', 'gradient.x').message).toBe(
      'your ∂f/∂x has the wrong sign: it is the true value negated — your ∂f/∂x = 4 at x=-2, y=5, z=-4; the true value is -4 (finite differences agree: -4); off by 200%, beyond 2 significant digits (you wrote 1)',
    );
    expect(part(bob, 'circuit', 'gradient.y').message).toMatch(/^your ∂f\/∂y and ∂f\/∂z are swapped: each is the other's true value — /);
    expect(part(bob, 'neuron', 'value').message).toBe(
      'too few digits (1 written, at least 2 asked for) — your f = 0.7 at w0=2, x0=-1, w1=-3, x1=-2, w2=-3; the true value is 0.7311; right when rounded to the 1 digit you wrote, but at least 2 significant digits are asked for',
    );
    expect(part(bob, 'neuron', 'gradient.w1').message).toMatch(
      /^your ∂f\/∂w1 leaves out one link of the chain: the local derivative x1 = -2 of the edge w1 → w1\*x1 — your ∂f\/∂w1 = 0\.2 at /,
    );
    // the words for a number where a matrix belongs, with the likely fix
    expect(part(bob, 'norm', 'gradient.W').message).toBe(
      "your ∂f/∂W is a scalar (0.296) but W is 2×2 (at W=[[0.1, 0.5], [-0.3, 0.8]], x=[0.2, 0.4]) — for an outer product write 2*q*x'",
    );
    expect(part(bob, 'norm', 'gradient.x').message).toMatch(/^your ∂f\/∂x is off by a constant factor: it is ½ × the true value — /);
    expect(part(bob, 'logistic', 'gradient.w').message).toBe('your ∂f/∂w is a scalar (-0.2689) but w is a column of 2 (at w=[2, -3], x=[-1, -2], b=-3, y=1)');
    expect(part(bob, 'softmax', 'gradient.W').message).toBe(
      'your ∂f/∂W is 2×3 but W is 3×2 (at W (3×2), x=[-1, 2], y=2) — it is the transpose of the true value (a gradient has the shape of its variable)',
    );
    // a wrong part keeps its line in the submission
    expect(part(bob, 'circuit', 'gradient.x').line).toBe(8);
  });

  it('a submission that sets tolerances or reads files is refused whole', () => {
    const mallory = grade('mallory.yaml');
    expect(mallory.earned).toBe(0);
    expect(mallory.refused).toEqual([
      'line 3: rtol: is not allowed in a submission; it holds student: and answers: only (how answers are judged is set by the answer key)',
      'line 7: answers.circuit.atol: a submission cannot set atol; how answers are judged (the formula, the point, tolerances, digits, samples) is set by the answer key',
      'line 8: answers.circuit.gradient.x: @/etc/passwd is a file reference; a submission holds numbers and formulas only',
      'line 10: answers.neuron.f: a submission cannot set f; how answers are judged (the formula, the point, tolerances, digits, samples) is set by the answer key',
    ]);
    expect(mallory.problems.every((p) => p.parts.every((x) => x.status === 'error' && x.earned === 0))).toBe(true);
  });

  it('JSON submissions, formulas in named steps, a misspelt key costing only its problem, answers the key does not grade', () => {
    const carol = grade('carol.json');
    expect(carol.student).toBe('=HYPERLINK("http://example.com","Carol")');
    expect(carol.problems.map((p) => p.earned)).toEqual([5, 0, 0, 2, 0, 0, 0]);
    expect(part(carol, 'neuron', 'value')).toMatchObject({
      status: 'error',
      message: 'not graded: unknown key answers.neuron.gradeint: (did you mean gradient:?)',
    });
    expect(carol.notes).toEqual(['answers.extra: the key has no problem extra; not graded']);
  });

  it('the report: problems, points and students in order', () => {
    const r = gradeReport(key, prepared.problems, ['ada.yaml', 'bob.yaml'].map(grade), [], [], 0);
    expect(r.max).toBe(30);
    expect(r.problems[0]).toEqual({ name: 'circuit', points: 5, parts: ['value', 'gradient.x', 'gradient.y', 'gradient.z', 'gradient.q'] });
    expect(r.students.map((s) => [s.student, s.earned])).toEqual([
      ['Ada Lovelace', 30],
      ['Bob', 15],
    ]);
  });
});
