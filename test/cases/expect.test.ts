import { describe, expect, it } from 'vitest';
import { compileExpected, evaluateExpected, evaluateTogether } from '../../src/subjects/formula/check/expect.js';
import { parseCases } from '../../src/homework/cases/load.js';
import { runCase } from '../../src/homework/cases/run.js';
import type { Stmt } from '../../src/core/parse/ast.js';
import { scalar, tensor, type Tensor } from '../../src/core/tensor.js';
import { buildTape, VALUE_PLAN } from '../../src/core/graph/build.js';
import { makeArena, view } from '../../src/core/graph/tape.js';
import { jsEngine } from '../../src/core/engine/js.js';
import { compileFormula } from '../../src/subjects/formula/check/compile.js';
import { stepTruths } from '../../src/subjects/formula/check/point.js';
import { parseProgram } from '../../src/core/parse/parse.js';
import { isFunctionName } from '../../src/core/ops/index.js';

describe('expected answers', () => {
  it('evaluates formulas at the point, numbers as they are, mixed arrays as one array formula', () => {
    const values = { x: scalar(2), v: tensor([3], [1, 2, 3]) };
    expect(Array.from(evaluateExpected(compileExpected('x^2 + 1', 'x', []), values).data)).toEqual([5]);
    expect(
      evaluateExpected(
        compileExpected(
          [
            [1, 2],
            [3, 4],
          ],
          'W',
          [],
        ),
        values,
      ),
    ).toMatchObject({ shape: [2, 2] });
    const mixed = evaluateExpected(compileExpected(['2*x', 0, 'x^2'], 'v', []), values);
    expect(mixed.shape).toEqual([3]);
    expect(Array.from(mixed.data)).toEqual([4, 0, 4]);
    expect(Array.from(evaluateExpected(compileExpected('v .* x', 'v', []), values).data)).toEqual([2, 4, 6]);
    expect(() => compileExpected('2*x +', 'x', [])).toThrow(/unexpected end/);
    expect(() => evaluateExpected(compileExpected('2*t', 'x', []), values)).toThrow('no value for the variable t');
  });

  it('gives at every point, to the last bit, what a tape built there with the variables held fixed gives', () => {
    const e = compileExpected('x*sin(y) + v[i]^2/3 + sum(v)*exp(-x)', 'x', []);
    if (e.kind !== 'formula') throw new Error('a formula was meant');
    const fresh = (values: Record<string, Tensor>) => {
      const tape = buildTape(parseProgram(e.text, { isFunction: isFunctionName }), values, { wrt: [], plan: VALUE_PLAN });
      const arena = makeArena(tape, values);
      jsEngine.forward(tape, arena);
      return Array.from(view(arena, tape.nodes[tape.output]));
    };
    const points = [
      { x: scalar(0.1), y: scalar(1.7), v: tensor([3], [0.3, -1.1, 2.9]), i: scalar(1) },
      { x: scalar(-2.3), y: scalar(0.01), v: tensor([3], [1e-8, 7.7, -0.2]), i: scalar(1) },
      // another index: its value is written into the tape, so it is another tape
      { x: scalar(-2.3), y: scalar(0.01), v: tensor([3], [1e-8, 7.7, -0.2]), i: scalar(3) },
      // another shape: another tape
      { x: scalar(1 / 3), y: scalar(-4.2), v: tensor([4], [5, 6, 7, 8.125]), i: scalar(4) },
      { x: scalar(0.1), y: scalar(1.7), v: tensor([3], [0.3, -1.1, 2.9]), i: scalar(2) },
    ];
    const seen = new Set<number>();
    for (const values of [...points, ...points]) {
      const got = Array.from(evaluateExpected(e, values).data);
      const want = fresh(values);
      expect(got.map((g, k) => Object.is(g, want[k]))).toEqual(want.map(() => true));
      seen.add(got[0]);
    }
    // the points give different values (an index or a shape is not taken from a tape of another point)
    expect(seen.size).toBe(points.length);
  });

  it("gives each named step's value at each point (one program per step, its tape built once)", () => {
    const c = compileFormula({ f: 'q = x*y + 1; r = sin(q); f = r^2' });
    c.stepValues = ['q', 'r'];
    for (const [x, y] of [
      [2, 3],
      [-0.5, 4],
      [2, 3],
    ]) {
      const t = stepTruths(c, { x: scalar(x), y: scalar(y) });
      expect(Array.from(t.q.data)).toEqual([x * y + 1]);
      expect(Array.from(t.r.data)).toEqual([Math.sin(x * y + 1)]);
    }
  });
  it("evaluates a case's answers together from one tape, each to the last bit what it is alone", () => {
    const f = compileFormula({ f: 'q = W*v + b; h = tanh(q); f = sum(h.^2) + x*sum(v)' });
    const texts = ["2*(h.*(1 - h.^2))*v'", "2*W'*(h.*(1 - h.^2)) + x", '2*h.*(1 - h.^2)', 'sum(v)', 'tanh(q).^2 + x*exp(-x)'];
    const answers = texts.map((t) => compileExpected(t, 'a', f.steps));
    const stmts: Stmt[] = [...f.steps];
    answers.forEach((e, i) => {
      if (e.kind !== 'formula') throw new Error('a formula was meant');
      const own = e.program.stmts.at(-1)!;
      if (own.k !== 'expr') throw new Error('an expression was meant');
      stmts.push({ k: 'assign', name: `#${i}`, expr: own.expr, span: own.span, nameSpan: own.span });
    });
    const program = { source: f.spec.f, stmts };
    const names = texts.map((_, i) => `#${i}`);
    for (const seed of [1, 2, 3]) {
      const r = (k: number) => Math.sin(seed * 12.9898 + k * 78.233) * 3;
      const values = {
        W: tensor([2, 3], [r(1), r(2), r(3), r(4), r(5), r(6)]),
        v: tensor([3], [r(7), r(8), r(9)]),
        b: tensor([2], [r(10), r(11)]),
        x: scalar(r(12)),
      };
      const together = evaluateTogether(program, names, values);
      answers.forEach((e, i) => {
        const alone = evaluateExpected(e, values);
        expect(together[i].shape).toEqual(alone.shape);
        expect(Array.from(together[i].data).map((g, k) => Object.is(g, alone.data[k]))).toEqual(Array.from(alone.data, () => true));
      });
    }
  });

  it('names the answer that cannot be evaluated, and judges the others, when answers are evaluated together', () => {
    const yaml = (v: string) => `- name: c
  f: "q = W*v; f = sum(q.^2)"
  at: { W: [[1, 2, 3], [4, 5, 6]], v: [0.5, -1, 2] }
  expect:
    gradient:
      W: "2*q*v'"
      v: "${v}"
      q: "2*q"
`;
    const bad = runCase(parseCases(yaml('v*W'), 'c.yaml').cases[0]);
    expect(bad.status).toBe('error');
    expect(bad.error).toMatchObject({ field: 'expect.gradient.v', message: expect.stringContaining('inner dimensions differ') });
    const wrong = runCase(parseCases(yaml("2*W'*q + 1"), 'c.yaml').cases[0]);
    expect(wrong.status).toBe('fail');
    expect(wrong.failures.map((x) => x.field)).toEqual(['expect.gradient.v']);
    expect(runCase(parseCases(yaml("2*W'*q"), 'c.yaml').cases[0]).status).toBe('pass');
  });
});
