import { describe, expect, it } from 'vitest';
import { compare, type Rule } from '../../src/verify/compare.js';
import { nameMistake, transposed, type MistakeInput } from '../../src/verify/mistakes.js';
import { scalar, tensor, type Tensor } from '../../src/core/tensor.js';

const rule: Rule = { rtol: 1e-5, atol: 1e-7 };
const agrees = (y: Tensor, t: Tensor) => compare(y, t.data, t.shape, rule).ok;
const named = (m: Omit<MistakeInput, 'agrees' | 'what'>) => nameMistake({ what: '∂f/∂W', agrees, ...m });
const W = tensor([2, 3], [1, -2, 3, 0.5, 4, -1]);

describe('the usual mistakes', () => {
  it('names a negated, transposed, or doubled/halved answer', () => {
    expect(
      named({
        yours: tensor(
          [2, 3],
          W.data.map((v) => -v),
        ),
        truth: W,
      }),
    ).toEqual({ code: 'negated', words: 'your ∂f/∂W has the wrong sign: it is the true value negated' });
    expect(named({ yours: transposed(W), truth: W })?.code).toBe('transposed');
    expect(
      named({
        yours: tensor(
          [2, 3],
          W.data.map((v) => v / 2),
        ),
        truth: W,
      }),
    ).toEqual({ code: 'factor', words: 'your ∂f/∂W is off by a constant factor: it is ½ × the true value' });
    expect(
      named({
        yours: tensor(
          [2, 3],
          W.data.map((v) => 3 * v),
        ),
        truth: W,
      })?.words,
    ).toMatch(/3 × the true value$/);
    // one number is a multiple of any other: only the lost or doubled 2 is named for it
    expect(named({ yours: scalar(3), truth: scalar(-12) })).toBeNull();
    expect(named({ yours: scalar(-24), truth: scalar(-12) })?.code).toBe('factor');
  });

  it('names swapped gradients only when both answers are crossed', () => {
    const others = (yours?: Tensor) => [{ what: '∂f/∂z', truth: scalar(3), yours }];
    expect(named({ yours: scalar(3), truth: scalar(-4), others: others(scalar(-4)) })).toEqual({
      code: 'swapped',
      words: "your ∂f/∂W and ∂f/∂z are swapped: each is the other's true value",
    });
    // the other answer is right: a coincidence, not a swap
    expect(named({ yours: scalar(3), truth: scalar(-4), others: others(scalar(3)) })).toBeNull();
    expect(named({ yours: scalar(3), truth: scalar(-4), others: others() })).toBeNull();
  });

  it('names a forgotten link of the chain: a local derivative of the graph missing as a factor', () => {
    const x = 1.5;
    const factors = () => [
      { edge: 'x^2 → sin(x^2)', local: 'cos(x^2)', value: scalar(Math.cos(x * x)) },
      { edge: 'x → x^2', local: '2*x', value: scalar(2 * x) },
    ];
    const m = nameMistake({ what: '∂f/∂x', agrees, yours: scalar(Math.cos(x * x)), truth: scalar(2 * x * Math.cos(x * x)), factors });
    expect(m).toEqual({ code: 'chain', words: 'your ∂f/∂x leaves out one link of the chain: the local derivative 2*x = 3 of the edge x → x^2' });
    // elementwise: a vector of local derivatives
    const s = tensor([3], [0.2, 0.25, 0.1]);
    const g = tensor([3], [1, -2, 0.5]);
    const v = nameMistake({
      what: '∂f/∂z',
      agrees,
      yours: g,
      truth: tensor(
        [3],
        g.data.map((gi, k) => gi * s.data[k]),
      ),
      factors: () => [{ edge: 'z → sigmoid(z)', local: 's*(1-s)', value: s }],
    });
    expect(v?.code).toBe('chain');
    expect(v?.words).toBe('your ∂f/∂z leaves out one link of the chain: the local derivative s*(1-s) of the edge z → sigmoid(z)');
  });

  it('names too few digits first, and nothing for an answer no mistake explains', () => {
    expect(named({ yours: scalar(-0.2), truth: scalar(-0.26), fewDigits: { written: 1, min: 2 } })).toEqual({
      code: 'digits',
      words: 'too few digits (1 written, at least 2 asked for)',
    });
    expect(named({ yours: tensor([2, 3], [1, 2, 3, 4, 5, 6]), truth: W })).toBeNull();
    expect(named({ yours: tensor([2, 3], [NaN, 2, 3, 4, 5, 6]), truth: W })).toBeNull();
  });

  it('transposes as on paper: a column becomes a row', () => {
    expect(transposed(tensor([3], [1, 2, 3])).shape).toEqual([1, 3]);
    expect(transposed(tensor([1, 3], [1, 2, 3])).shape).toEqual([3]);
    expect(Array.from(transposed(tensor([2, 3], [1, 2, 3, 4, 5, 6])).data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
