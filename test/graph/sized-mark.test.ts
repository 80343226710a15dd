import { describe, expect, it } from 'vitest';
import { TapeWriter } from '../../src/core/graph/append.js';

/**
 * A number that counts entries of these shapes (mean's 1/N, the 3 of sum(ones(3))) is marked, and
 * the mark survives the writer's folding: derive reads it to say the derivative holds for these
 * shapes only, and to check it there (two batched softmax cross-entropies lost it through fold).
 */
describe('the sized mark survives folding', () => {
  const setup = () => {
    const w = TapeWriter.empty();
    const x = w.input('x', [2, 2]);
    return { w, x };
  };

  it('shapeNumber is marked and is a node of its own: the same number written plainly stays plain', () => {
    const { w } = setup();
    const n = w.shapeNumber(0.25);
    const plain = w.constant(0.25);
    expect(w.isSized(n)).toBe(true);
    expect(plain).not.toBe(n);
    expect(w.isSized(plain)).toBe(false);
    expect(w.shapeNumber(0.25)).toBe(n);
  });

  it('a number computed from a tensor or from a marked number is marked', () => {
    const { w } = setup();
    const three = w.op('sum', [w.constant({ shape: [3], data: Float64Array.of(1, 1, 1) })]);
    expect(w.constValue(three)!.data[0]).toBe(3);
    expect(w.isSized(three)).toBe(true);
    const neg = w.op('unaryMinus', [w.shapeNumber(0.25)]);
    expect(w.constValue(neg)!.data[0]).toBe(-0.25);
    expect(w.isSized(neg)).toBe(true);
    expect(w.isSized(w.constant(-0.25))).toBe(false);
  });

  it('the one value of a marked uniform tensor, taken out by fold, keeps the mark', () => {
    const { w, x } = setup();
    // -1/N spread over the shape, as mean's rule and a negation make it
    const spread = w.op('multiply', [w.constant({ shape: [2, 2], data: new Float64Array(4).fill(1) }), w.shapeNumber(-0.25)]);
    expect(w.isSized(spread)).toBe(true);
    for (const y of [w.mul(x, spread), w.mul(spread, x), w.div(x, spread)]) {
      const n = w.node(y);
      const c = n.inputs.find((i) => w.constValue(i) !== undefined)!;
      expect(w.shape(c)).toEqual([]);
      expect(w.isSized(c)).toBe(true);
    }
  });

  it('a marked 1 or -1 stays a factor (dropping it would drop the mark); a plain 1 still folds', () => {
    const { w, x } = setup();
    expect(w.mul(x, w.constant(1))).toBe(x);
    const kept = w.mul(x, w.shapeNumber(1));
    expect(kept).not.toBe(x);
    expect(w.node(kept).inputs.some((i) => w.isSized(i))).toBe(true);
    const minus = w.mul(w.shapeNumber(-1), x);
    expect(w.node(minus).op).toBe('multiply');
    expect(w.div(x, w.shapeNumber(1))).not.toBe(x);
  });

  it('a writer on a finished tape (a Hessian writes on a gradient) knows the marked numbers again', () => {
    const { w, x } = setup();
    const n = w.shapeNumber(0.25);
    const y = w.mul(x, n);
    const { tape, ids } = w.finish(y);
    const again = new TapeWriter(tape);
    expect(again.isSized(ids[n])).toBe(true);
    expect(again.isSized(tape.inputs[0].node)).toBe(false);
  });
});
