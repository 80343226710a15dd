import { describe, expect, it } from 'vitest';
import { compileExpected, evaluateExpected } from '../../src/subjects/formula/check/expect.js';
import { scalar, tensor } from '../../src/core/tensor.js';

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
});
