import { describe, expect, it } from 'vitest';
import { compileExpected, evaluateExpected } from '../../src/subjects/formula/check/expect.js';
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
});
