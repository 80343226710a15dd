import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import { gradeSubmission, prepareKey, type StudentResult } from '../../src/homework/grade/grade.js';
import { loadKey, parsePart } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';
import { ROOT } from '../helpers.js';

/** An answer key grades Jacobians (fixtures/jacobian): parts jacobian.<x> of a vector f, judged entry by entry. */

const dir = join(ROOT, 'fixtures/jacobian');
const prepared = prepareKey(loadKey(join(dir, 'key.yaml')));
const grade = (name: string) => gradeSubmission(prepared.problems, loadSubmission(join(dir, 'submissions', name)));
const part = (s: StudentResult, problem: string, name: string) => s.problems.find((p) => p.name === problem)!.parts.find((x) => x.part === name)!;

describe('a key with Jacobian parts', () => {
  it('parses jacobian.<x> as a part', () => {
    expect(parsePart('jacobian.z')).toEqual({ kind: 'jacobian', name: 'z', part: 'jacobian.z' });
    expect(parsePart('jacobian.')).toBeNull();
  });

  it('totals: the course forms earn full marks, the usual mistakes lose their share', () => {
    expect(prepared.warnings).toEqual([]);
    expect(['ana.yaml', 'ben.yaml'].map((f) => [grade(f).student, grade(f).earned, grade(f).max])).toEqual([
      ['Ana', 14, 14],
      ['Ben', 7.5, 14],
    ]);
    expect(grade('ana.yaml').notes).toEqual([]);
  });

  it('feedback names the wrong entry, the transpose, and the partial credit', () => {
    const ben = grade('ben.yaml');
    expect(ben.problems.map((p) => [p.name, p.earned])).toEqual([
      ['softmax', 0],
      ['layer', 2],
      ['linear', 5.5],
    ]);
    expect(part(ben, 'softmax', 'jacobian.z')).toMatchObject({ status: 'wrong', earned: 0, what: '∂f/∂z' });
    expect(part(ben, 'softmax', 'jacobian.z').message).toMatch(/^your ∂f\[\d\]\/∂z\[\d\] = /);
    expect(part(ben, 'layer', 'jacobian.x')).toMatchObject({ status: 'wrong', earned: 0, mistake: 'transposed' });
    expect(part(ben, 'layer', 'jacobian.b')).toMatchObject({ status: 'right', earned: 2 });
    expect(part(ben, 'linear', 'jacobian.x')).toMatchObject({ status: 'wrong', earned: 2.5 });
    expect(part(ben, 'linear', 'jacobian.x').message).toMatch(/wrong in 1 of 6 entries \(partial: entries — 5 of 6 entries right\)$/);
  });

  it('a Jacobian part of a scalar f, or of a matrix variable, is the key’s error naming the part', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'jac-key-'));
    const keyOf = (problem: string) => {
      const file = join(tmp, `key${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, `title: t\nproblems:\n${problem}`);
      return () => prepareKey(loadKey(file));
    };
    const scalar = keyOf('  - name: p\n    f: sum(z)\n    at: { z: [1, 2] }\n    parts: [jacobian.z]\n');
    expect(scalar).toThrow(AgError);
    expect(scalar).toThrow(/problem p: parts: jacobian\.z: f is a scalar: its Jacobian is its gradient/);
    const matrix = keyOf('  - name: p\n    f: W*x\n    at: { W: [[1, 2], [3, 4]], x: [1, 2] }\n    parts: [jacobian.W]\n');
    expect(matrix).toThrow(/W is a matrix; Jacobians are checked for f a vector and x a scalar or a vector/);
  });
});
