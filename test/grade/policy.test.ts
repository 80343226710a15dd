import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeSubmission, prepareKey, type StudentResult } from '../../src/homework/grade/grade.js';
import { loadKey } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';
import { parseCases } from '../../src/homework/cases/load.js';
import { runCase } from '../../src/homework/cases/run.js';
import { writtenDecimals } from '../../src/verify/precision.js';
import { renderFeedback } from '../../src/report/grade.js';
import { cli, ROOT } from '../helpers.js';

/**
 * Grading by a course's policy (fixtures/policy: a 2-decimal quiz): min_decimals:,
 * partial: entries, layout:, each shown in the feedback; and the mistakes courses warn
 * about, named (a fork's shares not added, stopped one node early, A assumed symmetric).
 */

const dir = join(ROOT, 'fixtures/policy');
const gradeWith = (keyFile: string) => {
  const prepared = prepareKey(loadKey(keyFile));
  expect(prepared.warnings).toEqual([]);
  return (name: string) => gradeSubmission(prepared.problems, loadSubmission(join(dir, 'submissions', name)));
};
const grade = gradeWith(join(dir, 'key.yaml'));
const part = (s: StudentResult, problem: string, name: string) => s.problems.find((p) => p.name === problem)!.parts.find((x) => x.part === name)!;
const run1 = (yaml: string) => runCase(parseCases(yaml, 'c.yaml').cases[0]);

describe('a key with a 2-decimal policy', () => {
  it('totals: the right answers to 2 decimal places earn full marks, the usual mistakes their share', () => {
    expect(['grace.yaml', 'hal.yaml', 'ivy.yaml'].map((f) => [grade(f).student, grade(f).earned, grade(f).max])).toEqual([
      ['Grace', 20, 20],
      ['Hal', 11, 20],
      ['Ivy', 20, 20],
    ]);
  });

  it('without min_decimals the same right answers lose 5 points (too few significant digits)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'policy-'));
    const keyFile = join(tmp, 'key.yaml');
    writeFileSync(keyFile, readFileSync(join(dir, 'key.yaml'), 'utf8').replace(/^ {4}min_decimals: 2\n/gm, ''));
    const grace = gradeWith(keyFile)('grace.yaml');
    expect(grace.earned).toBe(15);
    expect(part(grace, 'quadratic', 'gradient.A')).toMatchObject({ status: 'wrong', earned: 0 });
    // 3 of W's 4 entries have too few digits; partial: entries still credits the fourth
    expect(part(grace, 'least-squares', 'gradient.W')).toMatchObject({ status: 'wrong', earned: 1, mistake: 'digits' });
  });

  it('says which rule judged a right answer, and the key policy of each problem', () => {
    const grace = grade('grace.yaml');
    expect(part(grace, 'quadratic', 'gradient.A').message).toBe('matches the 2 decimal places you wrote (min_decimals: 2)');
    expect(part(grace, 'quadratic', 'gradient.x').message).toBe('within rtol 1e-5, atol 1e-7');
    expect(grace.problems.map((p) => p.policy)).toEqual([
      'answers written to 2 decimal places are judged at them (min_decimals: 2)',
      "answers written to 2 decimal places are judged at them (min_decimals: 2); a tensor part earns the share of its entries that are right (partial: entries); a vector's gradient is a column, not a row (layout: strict)",
      'answers written to 2 decimal places are judged at them (min_decimals: 2)',
    ]);
    const ivy = grade('ivy.yaml');
    expect(part(ivy, 'quadratic', 'gradient.x')).toMatchObject({ status: 'right', earned: 2 });
    expect(part(ivy, 'quadratic', 'gradient.x').message).toBe(
      "matches the 2 decimal places you wrote (min_decimals: 2); written as a row: a vector's gradient may be a row or a column (a key's layout: strict asks for the column)",
    );
  });

  it('names the mistakes, credits a tensor entry by entry, and refuses a row where the key is strict', () => {
    const hal = grade('hal.yaml');
    expect(hal.problems.map((p) => [p.name, p.earned])).toEqual([
      ['quadratic', 4],
      ['least-squares', 3],
      ['fork', 4],
    ]);
    expect(part(hal, 'quadratic', 'gradient.x')).toMatchObject({ status: 'wrong', earned: 0, mistake: 'symmetric' });
    expect(part(hal, 'quadratic', 'gradient.x').message).toMatch(/^your ∂f\/∂x assumed A symmetric: it equals the true value only where A = A' — /);
    expect(part(hal, 'least-squares', 'gradient.W')).toMatchObject({ status: 'wrong', earned: 3 });
    expect(part(hal, 'least-squares', 'gradient.W').message).toMatch(/wrong in 1 of 4 entries \(partial: entries — 3 of 4 entries right\)$/);
    expect(part(hal, 'least-squares', 'gradient.x')).toMatchObject({ status: 'wrong', earned: 0, mistake: 'transposed' });
    expect(part(hal, 'least-squares', 'gradient.x').message).toContain("(the key asks layout: strict, so a vector's gradient is a column)");
    expect(part(hal, 'fork', 'gradient.x')).toMatchObject({ status: 'wrong', mistake: 'fork' });
    expect(part(hal, 'fork', 'gradient.x').message).toMatch(
      /^the gradients at a fork were not added: your ∂f\/∂x is only the share through the edge x → h; it also feeds sin\(x\)/,
    );
    const feedback = renderFeedback({ title: 'Quiz 3', key: 'key.yaml', problems: [], students: [hal], fileErrors: [], warnings: [], max: 20, ms: 0 }, hal);
    expect(feedback).toContain(
      "least-squares: 3 of 8 points\n  graded by the key's policy: answers written to 2 decimal places are judged at them (min_decimals: 2); a tensor part earns",
    );
  });
});

describe('the policy through the CLI', () => {
  it('grade prints the totals and writes the policy into each feedback file', () => {
    const out = mkdtempSync(join(tmpdir(), 'policy-cli-'));
    const r = cli(['grade', 'fixtures/policy/key.yaml', 'fixtures/policy/submissions/', '--gradebook', join(out, 'grades.csv'), '--feedback', out], {
      cwd: ROOT,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'grades.csv'), 'utf8').split('\r\n').slice(1, 4)).toEqual([
      'Grace,fixtures/policy/submissions/grace.yaml,6,8,6,20,20',
      'Hal,fixtures/policy/submissions/hal.yaml,4,3,4,11,20',
      'Ivy,fixtures/policy/submissions/ivy.yaml,6,8,6,20,20',
    ]);
    expect(readFileSync(join(out, 'Grace.txt'), 'utf8')).toContain(
      "quadratic: 6 of 6 points\n  graded by the key's policy: answers written to 2 decimal places are judged at them (min_decimals: 2)\n",
    );
  });
});

describe('the policy in a case file', () => {
  it('min_decimals: 0.07 for 0.0661 is right at 2 decimals; without it, too few digits', () => {
    const f = 'f: x^2\n  at: { x: 0.2571 }\n  expect: { value: 0.07 }';
    expect(run1(`- ${f}\n  min_decimals: 2\n`).status).toBe('pass');
    const strict = run1(`- ${f}\n`);
    expect(strict.failures[0]).toMatchObject({ mistake: 'digits' });
    expect(run1(`- ${f}\n  min_decimals: 3\n`).failures[0].mistake).toBe('digits');
    // wrong at the places written
    const off = run1('- f: x^2\n  at: { x: 0.2571 }\n  min_decimals: 2\n  expect: { value: 0.08 }\n');
    expect(off.failures[0].message).toMatch(/beyond the 2 decimal places you wrote \(min_decimals: 2\)$/);
    // from defaults:
    const withDefaults = parseCases('defaults: { min_decimals: 2 }\ncases:\n  - f: x^2\n    at: { x: 0.2571 }\n    expect: { value: 0.07 }\n', 'c.yaml');
    expect(runCase(withDefaults.cases[0]).status).toBe('pass');
  });

  it('partial: entries scores a tensor answer by its right entries; a wrong shape earns nothing', () => {
    const base = 'f: sum(x.^2)\n  at: { x: [1, 2, 3] }\n  points: 3\n';
    expect(run1(`- ${base}  partial: entries\n  expect: { gradient: { x: [2, 4, 7] } }\n`).score).toEqual({ earned: 2, max: 3 });
    expect(run1(`- ${base}  expect: { gradient: { x: [2, 4, 7] } }\n`).score).toEqual({ earned: 0, max: 3 });
    expect(run1(`- ${base}  partial: entries\n  expect: { gradient: { x: [[2, 4]] } }\n`).score).toEqual({ earned: 0, max: 3 });
  });

  it("layout: a vector's gradient as a row passes unless strict", () => {
    const base = 'f: x\'*x\n  at: { x: [1, 2] }\n  expect: { gradient: { x: "2*x\'" } }\n';
    expect(run1(`- ${base}`).status).toBe('pass');
    const strict = run1(`- ${base}  layout: strict\n`);
    expect(strict.failures[0]).toMatchObject({ kind: 'shape', mistake: 'transposed' });
    // a matrix's transpose stays a mistake under either layout
    const m = run1('- f: sum((W*x).^2)\n  at: { W: [[1, 2, 3], [4, 5, 6]], x: [1, 1, 1] }\n  expect: { gradient: { W: "2*x*(W*x)\'" } }\n');
    expect(m.failures[0]).toMatchObject({ kind: 'shape', mistake: 'transposed' });
  });

  it('a policy field with a wrong value is the case error, saying what it may be', () => {
    expect(run1('- f: x\n  layout: sideways\n').error).toMatchObject({ field: 'layout', message: 'layout: should be strict or either, not "sideways"' });
    expect(run1('- f: x\n  partial: all\n').error).toMatchObject({ field: 'partial', message: 'partial: should be entries or none, not "all"' });
    expect(run1('- f: x\n  min_decimals: 1.5\n').error).toMatchObject({ field: 'min_decimals' });
  });

  it('names a stop one node early, and A assumed symmetric for numbers and formulas', () => {
    const early = run1('- f: sum(tanh(W*x))\n  at: { x: [1, 2], W: [[0.1, 0.2], [0.3, 0.4]] }\n  expect: { gradient: { x: "1 - tanh(W*x).^2" } }\n');
    expect(early.failures[0].mistake).toBe('early');
    expect(early.failures[0].message).toMatch(/^your ∂f\/∂x stopped one node early: it is ∂f\/∂\(W\*x\), the gradient of the node it feeds/);
    const at = 'at: { x: [1, 2], A: [[1, 2], [3, 4]] }';
    expect(run1(`- f: x'*A*x\n  ${at}\n  expect: { gradient: { x: "2*A*x" } }\n`).failures[0].mistake).toBe('symmetric');
    expect(run1(`- f: x'*A*x\n  ${at}\n  expect: { gradient: { x: [10, 22] } }\n`).failures[0].mistake).toBe('symmetric');
    // with A symmetric the same answer is right
    expect(run1('- f: x\'*A*x\n  at: { x: [1, 2], A: [[1, 2], [2, 4]] }\n  expect: { gradient: { x: "2*A*x" } }\n').status).toBe('pass');
    // a max that routes the gradient elsewhere (local derivative 0) is not "one node early"
    const max = run1('- f: 2*max(z, w)\n  at: { z: 2, w: -1 }\n  expect: { gradient: { w: 2 } }\n');
    expect(max.failures[0].mistake).toBeUndefined();
  });

  it('counts decimal places as written', () => {
    expect(['0.07', '12.50', '1.2e-3', '100', '1e2', '-0.1970', 'pi'].map(writtenDecimals)).toEqual([2, 2, 4, 0, 0, 4, null]);
  });
});
