import { describe, expect, it } from 'vitest';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { hessian } from '../../src/subjects/formula/hessian.js';
import type { Tensor } from '../../src/core/tensor.js';
import { evaluate, expectEntries, reverseGradient } from './evaluate.js';
import { randomTensors } from './random.js';

/**
 * matrixcalculus.org's own examples (the input examples of its documentation page,
 * www.matrixcalculus.org/documentation), written in our notation: `tr` is trace, `norm2` is
 * norm, `norm1(v)` is norm(v, 1), `vector(1)` is the number 1 (it broadcasts). For each: the
 * text derive prints, derive's own cross-check, and the printed formula evaluated at random
 * points against reverse mode and against the published answer.
 *
 * Published answers: the site computes its answers live and we found none of its outputs
 * for these examples published as text (searched: its documentation page, the paper
 * "Computing Higher Order Derivatives of Matrix and Tensor Expressions", Laue, Mitterreiter,
 * Giesen, NeurIPS 2018). What is published, and used here:
 * - the documentation's layout examples: ∂/∂x (v'x) = v and ∂/∂X tr(A*X) = A';
 * - the paper's opening example: the Hessian of x'Ax is A + A';
 * - for the rest, where the Matrix Cookbook (Petersen & Pedersen, 2012) states the identity,
 *   the Cookbook's answer (named `book`, with its equation); where neither does, `book` is
 *   null and the comment says so; the answer is then checked against reverse mode only.
 */
const { randn, spd } = randomTensors(2018);

interface Example {
  /** as the site writes it */
  site: string;
  /** in our notation */
  formula: string;
  wrt: string;
  at: () => Record<string, Tensor>;
  /** what derive prints */
  want: string;
  /** the published answer in our notation, and where it is published; null: none found */
  book: { formula: string; source: string } | null;
}

const v3 = () => randn(3);
const m3 = () => randn(3, 3);

const EXAMPLES: Example[] = [
  {
    site: "0.5*x'*A*x",
    formula: "0.5*x'*A*x",
    wrt: 'x',
    at: () => ({ x: v3(), A: m3() }),
    want: "(A + A') * x / 2",
    // the site's output not found; Cookbook eq. 81: ∂(x'Bx)/∂x = (B + B')x
    book: { formula: "0.5 * (A + A') * x", source: 'Matrix Cookbook eq. 81' },
  },
  {
    site: "(y.*v)'*x",
    formula: "(y.*v)'*x",
    wrt: 'x',
    at: () => ({ x: v3(), y: v3(), v: v3() }),
    want: 'y .* v',
    // the site's output not found; Cookbook eq. 69: ∂(x'a)/∂x = a, with a = y ⊙ v
    book: { formula: 'y .* v', source: 'Matrix Cookbook eq. 69' },
  },
  {
    site: "sin(x)'*y (an earlier version of the documentation)",
    formula: "sin(x)'*y",
    wrt: 'x',
    at: () => ({ x: v3(), y: v3() }),
    want: 'y .* cos(x)',
    // no published answer found (the chain rule gives cos(x) ⊙ y): checked against reverse mode only
    book: null,
  },
  {
    site: 'norm1(A*x-y)',
    formula: 'norm(A*x - y, 1)',
    wrt: 'x',
    at: () => ({ x: v3(), y: v3(), A: m3() }),
    want: "A' * sign(A * x - y)",
    // no published answer found: checked against reverse mode only
    book: null,
  },
  {
    site: 'norm2(A*x-y)^2',
    formula: 'norm(A*x - y)^2',
    wrt: 'x',
    at: () => ({ x: v3(), y: randn(4), A: randn(4, 3) }),
    want: "2 * A' * (A * x - y)",
    // the site's output not found; the Cookbook's derivative of a quadratic form (Ax - y)'(Ax - y) by x: 2A'(Ax - y)
    book: { formula: "2 * A' * (A * x - y)", source: "Matrix Cookbook, quadratic forms (Ax - b)'(Ax - b)" },
  },
  {
    site: 'norm2(A*x-y)^2',
    formula: 'norm(A*x - y)^2',
    wrt: 'A',
    at: () => ({ x: v3(), y: randn(4), A: randn(4, 3) }),
    want: "2 * (A * x - y) * x'",
    // the site's output not found; a published table of matrix derivatives (www.iodraw.com/en/blog/220397911, formula 11): ∂(Xu - v)'(Xu - v)/∂X = 2(Xu - v)u'
    book: { formula: "2 * (A * x - y) * x'", source: 'a table of matrix derivatives, formula 11' },
  },
  {
    site: 'sum(log(exp(-y.*(X*w)) + vector(1)))',
    formula: 'sum(log(exp(-y.*(X*w)) + 1))',
    wrt: 'w',
    at: () => ({ w: v3(), y: randn(4), X: randn(4, 3) }),
    want: "-X' * (exp(-(y .* (X * w))) ./ (exp(-(y .* (X * w))) + 1) .* y)",
    // the logistic loss; no published answer found: checked against reverse mode only
    book: null,
  },
  {
    site: "tr(A*X'*B*X*C)",
    formula: "trace(A*X'*B*X*C)",
    wrt: 'X',
    at: () => ({ A: m3(), X: m3(), B: m3(), C: m3() }),
    want: "B * X * C * A + B' * X * A' * C'",
    // the site's output not found; tr(AX'BXC) = tr(X'BX(CA)), Cookbook eq. 117: ∂tr(X'BXC)/∂X = BXC + B'XC'
    book: { formula: "B * X * (C * A) + B' * X * (C * A)'", source: 'Matrix Cookbook eq. 117' },
  },
  {
    site: 'log(det(inv(X)))',
    formula: 'log(det(inv(X)))',
    wrt: 'X',
    at: () => ({ X: spd(3) }),
    want: "-inv(X)'",
    // the site's output not found; Cookbook eq. 57: ∂ ln|det X|/∂X = inv(X)', and ln det inv(X) = -ln det X
    book: { formula: "-inv(X)'", source: 'Matrix Cookbook eq. 57' },
  },
  {
    site: "∂/∂x (v'*x) (the documentation's layout conventions)",
    formula: "v'*x",
    wrt: 'x',
    at: () => ({ v: v3(), x: v3() }),
    want: 'v',
    book: { formula: 'v', source: 'matrixcalculus.org documentation, layout conventions' },
  },
  {
    site: "∂/∂X tr(A*X) (the documentation's layout conventions)",
    formula: 'trace(A*X)',
    wrt: 'X',
    at: () => ({ A: m3(), X: m3() }),
    want: "A'",
    book: { formula: "A'", source: 'matrixcalculus.org documentation, layout conventions' },
  },
];
// Left out: `A*exp(x)` (vector-valued: its derivative is a Jacobian, which derive does not print) and `a^b` (scalars: derive's scalar path, tested in derive.test.ts).

describe("matrixcalculus.org's examples, derived", () => {
  for (const ex of EXAMPLES) {
    it(`${ex.site} by ${ex.wrt}: ${ex.want}${ex.book ? ` (${ex.book.source})` : ' (no published answer found)'}`, () => {
      const r = derive(ex.formula, { wrt: [ex.wrt], at: ex.at() });
      expect(r.derivatives[ex.wrt]).toBe(ex.want);
      expect(r.check.passed).toBe(true);
      expect(r.notes.join('\n')).not.toMatch(/disagrees|sized for these shapes/);
      // at three random points: the printed formula equals reverse mode and the published answer
      for (let t = 0; t < 3; t++) {
        const at = ex.at();
        const got = evaluate(r.derivatives[ex.wrt], at);
        expectEntries(got, reverseGradient(ex.formula, at, ex.wrt), 1e-9, 'reverse mode');
        if (ex.book) expectEntries(got, evaluate(ex.book.formula, at), 1e-9, ex.book.source);
      }
    });
  }

  it("the paper's opening example: the Hessian of x'*A*x is A + A'", () => {
    const A = m3();
    const h = hessian("x'*A*x", { x: v3(), A }, { wrt: ['x'], check: false });
    const book = evaluate("A + A'", { A });
    expectEntries(h.hessian.flat(), book);
  });
});
