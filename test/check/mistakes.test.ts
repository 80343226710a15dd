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

  it('names the gradients at a fork not added, a stop one node early, and a matrix assumed symmetric', () => {
    // f = x*y + sin(x) at x=1, y=2: the shares of ∂f/∂x are y (through x*y) and cos(x) (through sin(x))
    const edges = () => [
      { edge: 'x → x*y', to: 'x*y', share: scalar(2), upstream: scalar(1), local: scalar(1.7) },
      { edge: 'x → sin(x)', to: 'sin(x)', share: scalar(Math.cos(1)), upstream: scalar(1), local: scalar(Math.cos(1) * 1.7) },
    ];
    const fork = nameMistake({ what: '∂f/∂x', agrees, yours: scalar(2), truth: scalar(2 + Math.cos(1)), edges });
    expect(fork).toEqual({
      code: 'fork',
      words:
        'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x*y; it also feeds sin(x), and the shares of all its branches add up',
    });
    // one edge is no fork
    expect(nameMistake({ what: '∂f/∂x', agrees, yours: scalar(2), truth: scalar(2 + Math.cos(1)), edges: () => edges().slice(0, 1) })).toBeNull();

    // f = sum(tanh(W*x)): the answer is ∂f/∂(W*x), the gradient one node on, not W' times it
    const u = tensor([2], [0.7, 0.4]);
    const early = nameMistake({
      what: '∂f/∂x',
      agrees,
      yours: u,
      truth: tensor([2], [0.1 * 0.7 + 0.3 * 0.4, 0.2 * 0.7 + 0.4 * 0.4]),
      edges: () => [{ edge: 'x → W*x', to: 'W*x', share: tensor([2], [0.19, 0.3]), upstream: u, local: null }],
    });
    expect(early).toEqual({
      code: 'early',
      words: 'your ∂f/∂x stopped one node early: it is ∂f/∂(W*x), the gradient of the node it feeds; one more step back through the edge x → W*x',
    });

    // f = x'*A*x, A = [[1, 2], [3, 4]], x = [1, 2]: the truth (A + A')x = [12, 21]; 2*A*x = [10, 22] is twice the share A*x
    const shares = () => [
      { edge: "x → x'*A*x", to: "x'*A*x", share: tensor([2], [7, 10]), upstream: scalar(1), local: null },
      { edge: "x → x'", to: "x'", share: tensor([2], [5, 11]), upstream: tensor([1, 2], [5, 11]), local: null },
    ];
    const truth = tensor([2], [12, 21]);
    const words = "your ∂f/∂x assumed A symmetric: it equals the true value only where A = A'";
    // a number answer: twice one share, with a square matrix that is not symmetric
    expect(nameMistake({ what: '∂f/∂x', agrees, yours: tensor([2], [10, 22]), truth, edges: shares, symmetric: () => [{ matrix: 'A' }] })).toEqual({
      code: 'symmetric',
      words,
    });
    // a formula answer: right where A is made symmetric (there 2*A*x = (A + A')x = [12, 21])
    const atSym = () => [{ matrix: 'A', yours: tensor([2], [12, 21]), truth: tensor([2], [12, 21]) }];
    expect(nameMistake({ what: '∂f/∂x', agrees, yours: tensor([2], [10, 22]), truth, edges: shares, symmetric: atSym })?.code).toBe('symmetric');
    // wrong there too: not this mistake
    const wrongThere = () => [{ matrix: 'A', yours: tensor([2], [11, 22]), truth: tensor([2], [12, 21]) }];
    expect(nameMistake({ what: '∂f/∂x', agrees, yours: tensor([2], [11, 22]), truth, edges: shares, symmetric: wrongThere })).toBeNull();
    // no matrix that is not symmetric: twice a share is not named so
    expect(nameMistake({ what: '∂f/∂x', agrees, yours: tensor([2], [10, 22]), truth, edges: shares, symmetric: () => [] })).toBeNull();
  });
});
