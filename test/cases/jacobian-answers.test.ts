import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseCases } from '../../src/homework/cases/load.js';
import { runCase } from '../../src/homework/cases/run.js';
import { cli, ROOT } from '../helpers.js';

const run1 = (yaml: string) => runCase(parseCases(yaml, 'c.yaml').cases[0]);

const SOFTMAX = `- f: "softmax(z)"
  at: "z=randn(3)"
  samples: 3
  expect:
    jacobian:
      z: "diag(softmax(z)) - softmax(z)*softmax(z)'"
`;

describe('expect.jacobian.<x>: a vector f’s Jacobian as an answer', () => {
  it('passes the softmax Jacobian (CS224n) at random points, on both engines', () => {
    for (const engine of ['js', 'native'] as const) {
      const r = runCase(parseCases(SOFTMAX, 'c.yaml').cases[0], { engine });
      expect([engine, r.status, r.error?.message, r.failures]).toEqual([engine, 'pass', undefined, []]);
      expect(r.expected).toEqual(['jacobian.z']);
      expect(r.samples).toBe(3);
    }
  });

  it('judges numbers, a scalar x (the shape of f) and the value of a vector f', () => {
    const r = run1(`- f: "A*x + t*[1, 2]"
  at: { A: [[1, 2, 3], [4, 5, 6]], x: [1, 0, -1], t: 0.5 }
  wrt: [x, t]
  expect:
    value: [-1.5, -1]
    jacobian:
      x: [[1, 2, 3], [4, 5, 6]]
      t: [1, 2]
`);
    expect([r.status, r.error?.message, r.failures]).toEqual(['pass', undefined, []]);
    expect(r.expected).toEqual(['value', 'jacobian.x', 'jacobian.t']);
  });

  it('names a transposed Jacobian: the same shape (square) and the wrong shape', () => {
    const square = run1(`- f: "A*x"
  at: { A: [[1, 2, 3], [4, 5, 6], [7, 8, 10]], x: [1, 2, 3] }
  wrt: [x]
  expect:
    jacobian: { x: "A'" }
`);
    expect(square.status).toBe('fail');
    expect(square.failures[0]).toMatchObject({ kind: 'jacobian', mistake: 'transposed', field: 'expect.jacobian.x' });
    expect(square.failures[0].message).toMatch(/^your ∂f\/∂x is the transpose of the true value — your ∂f\[1\]\/∂x\[3\] = 7 at .*; the true value is 3;/);
    const wide = run1(`- f: "A*x"
  at: { A: [[1, 2, 3], [4, 5, 6]], x: [1, 2, 3] }
  wrt: [x]
  expect:
    jacobian: { x: "A'" }
`);
    expect(wide.failures[0]).toMatchObject({ kind: 'shape', mistake: 'transposed' });
    expect(wide.failures[0].message).toContain('your ∂f/∂x is 3×2 but ∂f/∂x is 2×3');
    expect(wide.failures[0].message).toContain('it is the transpose of the true value');
  });

  it('names a wrong entry ∂f[i]/∂z[j]', () => {
    const r = run1(`- f: "softmax(z)"
  at: "z=randn(3)"
  samples: 2
  expect:
    jacobian:
      z: "diag(softmax(z)) - softmax(z)*softmax(z)' + [[0, 0, 0], [0, 0, 1], [0, 0, 0]]"
`);
    expect(r.status).toBe('fail');
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ kind: 'jacobian', entry: '∂f[2]/∂z[3]', entries: { wrong: 1, of: 9 }, failedPoints: 2 });
    expect(r.failures[0].message).toMatch(/^your ∂f\[2\]\/∂z\[3\] = .* wrong in 1 of 9 entries, at 2 of 2 points$/);
  });

  it('refuses what it does not define, in one line naming the shapes it does', () => {
    const scalar = run1('- f: "sum(softmax(z))"\n  at: "z=randn(3)"\n  expect:\n    jacobian: { z: [1, 2, 3] }\n');
    expect(scalar.status).toBe('error');
    expect(scalar.error).toMatchObject({ field: 'expect.jacobian.z', line: 4 });
    expect(scalar.error?.message).toBe(
      'expect.jacobian.z: f is a scalar: its Jacobian is its gradient (answer it as gradient.z); Jacobians are checked for f a vector and x a scalar or a vector',
    );
    const matrixX = run1('- f: "A*x"\n  at: { A: [[1, 2], [3, 4]], x: [1, 2] }\n  expect:\n    jacobian: { A: 1 }\n');
    expect(matrixX.error?.message).toMatch(/^expect\.jacobian\.A: A is a matrix; Jacobians are checked for f a vector and x a scalar or a vector/);
    const matrixF = run1('- f: "x*x\'"\n  at: { x: [1, 2] }\n  expect:\n    jacobian: { x: 1 }\n');
    expect(matrixF.error?.message).toMatch(/^expect\.jacobian\.x: f has shape 2×2; a Jacobian answer needs f a vector/);
    const mixed = run1('- f: "A*x"\n  at: { A: [[1, 2], [3, 4]], x: [1, 2] }\n  expect:\n    gradient: { x: 1 }\n    jacobian: { x: A }\n');
    expect(mixed.error?.message).toBe('expect.gradient.x: a case with Jacobian answers has a vector f, which has no gradient');
    const step = run1('- f: "q = 2*x; f = q*[1, 2]"\n  at: { x: 1 }\n  expect:\n    jacobian: { q: [1, 2] }\n');
    expect(step.error?.message).toBe('expect.jacobian.q: the formula has no variable q (q is a named step: Jacobians are taken with respect to variables)');
    const order2 = run1('- f: "A*x"\n  at: { A: [[1, 2], [3, 4]], x: [1, 2] }\n  order: 2\n  expect:\n    jacobian: { x: A }\n');
    expect(order2.error?.message).toMatch(/^order 2 checks the second derivatives of a scalar f/);
  });

  it('is in the case file schema', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'case-file.schema.json'), 'utf8'));
    const valid = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
    expect(valid(parse(SOFTMAX))).toBe(true);
  });
});

describe('the CLI', () => {
  it('check FILE with expect.jacobian, and --expect "jacobian.z=…"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-jacobian-'));
    writeFileSync(join(dir, 'softmax.yaml'), SOFTMAX);
    const ok = cli(['check', join(dir, 'softmax.yaml')]);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toContain('✓ 1 case: 1 passed (3 samples');
    const inline = cli(['check', 'softmax(z)', '--at', 'z=randn(3)', '--expect', "jacobian.z=diag(softmax(z)) - softmax(z)*softmax(z)'"]);
    expect([inline.code, inline.stderr]).toEqual([0, '']);
    const wrong = cli(['check', 'A*x', '--at', 'A=[[1,2],[3,5]], x=[1,2]', '--wrt', 'x', '--expect', "jacobian.x=A'"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('your ∂f/∂x is the transpose of the true value');
    const scalar = cli(['check', 'sum(z)', '--at', 'z=[1,2]', '--expect', 'jacobian.z=[1,1]']);
    expect(scalar.stdout).toContain('--expect jacobian.z: f is a scalar: its Jacobian is its gradient (answer it as gradient.z)');
  });
});
