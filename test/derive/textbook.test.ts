import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { hasSizedConstant, textbook } from '../../src/subjects/formula/derive/textbook.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { evaluate, expectEntries, reverseGradient } from './evaluate.js';
import { randomTensors } from './random.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';

/**
 * Matrix derivatives as the Matrix Cookbook and matrixcalculus.org write them: each
 * example through derive, the exact text printed, derive's own cross-check passed, and
 * the printed formula evaluated here against reverse mode (grad) at the point given.
 */
const { randn, spd } = randomTensors(2026);
/** a well-conditioned square matrix (det far from 0) */
const wellConditioned = (n: number): Tensor => {
  const t = randn(n, n);
  for (let i = 0; i < n; i++) t.data[i * n + i] += 4;
  return t;
};

interface Example {
  formula: string;
  wrt: string;
  at: () => Record<string, Tensor>;
  /** the text printed */
  want: string;
  /** where it is from */
  source: string;
}

const v3 = () => randn(3);
const m3 = () => randn(3, 3);

const EXAMPLES: Example[] = [
  { formula: 'trace(A*X)', wrt: 'X', at: () => ({ A: m3(), X: m3() }), want: "A'", source: 'Matrix Cookbook' },
  { formula: "trace(X'*A)", wrt: 'X', at: () => ({ A: m3(), X: m3() }), want: 'A', source: 'Matrix Cookbook' },
  { formula: 'trace(A*X*B)', wrt: 'X', at: () => ({ A: m3(), X: m3(), B: m3() }), want: "A' * B'", source: 'Matrix Cookbook' },
  { formula: "x'*A*x", wrt: 'x', at: () => ({ A: m3(), x: v3() }), want: "(A + A') * x", source: 'Matrix Cookbook, matrixcalculus.org' },
  { formula: "x'*A*x", wrt: 'A', at: () => ({ A: m3(), x: v3() }), want: "x * x'", source: 'Matrix Cookbook' },
  { formula: "a'*X*b", wrt: 'X', at: () => ({ a: v3(), X: m3(), b: v3() }), want: "a * b'", source: 'Matrix Cookbook, matrixcalculus.org' },
  { formula: "a'*X'*b", wrt: 'X', at: () => ({ a: v3(), X: m3(), b: v3() }), want: "b * a'", source: 'Matrix Cookbook' },
  { formula: "a'*X*X'*b", wrt: 'X', at: () => ({ a: v3(), X: m3(), b: v3() }), want: "(a * b' + b * a') * X", source: 'Matrix Cookbook' },
  { formula: "trace(X'*B*X)", wrt: 'X', at: () => ({ B: randn(2, 2), X: randn(2, 2) }), want: "(B + B') * X", source: 'Matrix Cookbook' },
  { formula: "trace(X*A*X')", wrt: 'X', at: () => ({ X: randn(3, 2), A: randn(2, 2) }), want: "X * (A + A')", source: 'Matrix Cookbook, matrixcalculus.org' },
  { formula: 'trace(X*X)', wrt: 'X', at: () => ({ X: m3() }), want: "2 * X'", source: 'Matrix Cookbook' },
  { formula: "trace(X'*X)", wrt: 'X', at: () => ({ X: randn(3, 4) }), want: '2 * X', source: 'Matrix Cookbook' },
  { formula: 'sum(X.^2)', wrt: 'X', at: () => ({ X: m3() }), want: '2 * X', source: 'Frobenius norm squared' },
  { formula: 'log(det(X))', wrt: 'X', at: () => ({ X: wellConditioned(3) }), want: "inv(X)'", source: 'Matrix Cookbook, matrixcalculus.org' },
  { formula: 'det(X)', wrt: 'X', at: () => ({ X: wellConditioned(3) }), want: "det(X) * inv(X)'", source: 'Matrix Cookbook, matrixcalculus.org' },
  { formula: "a'*inv(X)*b", wrt: 'X', at: () => ({ a: v3(), X: wellConditioned(3), b: v3() }), want: "-inv(X)' * a * b' * inv(X)'", source: 'Matrix Cookbook' },
  {
    formula: 'trace(A*inv(X)*B)',
    wrt: 'X',
    at: () => ({ A: m3(), X: wellConditioned(3), B: m3() }),
    want: "-inv(X)' * A' * B' * inv(X)'",
    source: 'Matrix Cookbook',
  },
  { formula: 'sum((A*x - b).^2)', wrt: 'x', at: () => ({ A: m3(), x: v3(), b: v3() }), want: "2 * A' * (A * x - b)", source: 'least squares' },
  { formula: 'norm(A*x - b)^2', wrt: 'x', at: () => ({ A: m3(), x: v3(), b: v3() }), want: "2 * A' * (A * x - b)", source: 'least squares (2-norm)' },
  { formula: "(x'*A*x)^2", wrt: 'x', at: () => ({ A: m3(), x: v3() }), want: "2 * (x' * A * x) * (A + A') * x", source: 'chain rule on the quadratic form' },
  { formula: 'trace(X*X*X)', wrt: 'X', at: () => ({ X: m3() }), want: "3 * X' * X'", source: 'Matrix Cookbook' },
  { formula: "x'*A*y + y'*B*x", wrt: 'x', at: () => ({ A: m3(), B: m3(), x: v3(), y: v3() }), want: "(A + B') * y", source: 'Matrix Cookbook' },
  { formula: 'sum((W*x).^2)', wrt: 'x', at: () => ({ W: randn(3, 4), x: randn(4) }), want: "2 * W' * W * x", source: '‖Wx‖²' },
];

describe('derive writes matrix derivatives as the Matrix Cookbook does', () => {
  for (const ex of EXAMPLES) {
    it(`${ex.formula} by ${ex.wrt}: ${ex.want} (${ex.source})`, () => {
      const at = ex.at();
      const r = derive(ex.formula, { wrt: [ex.wrt], at });
      expect(r.derivatives[ex.wrt]).toBe(ex.want);
      expect(r.check.passed).toBe(true);
      expect(r.check.points.length).toBeGreaterThan(0);
      // no constants sized for these shapes remain (eye(3) went): checked at other shapes too; the book's form never disagrees
      expect(r.notes.join('\n')).not.toMatch(/sized for these shapes|textbook form .* disagrees/);
      expect(r.check.shapes).toBeGreaterThan(1);
      // and here, independently: the printed formula against reverse mode at the point given
      expectEntries(evaluate(r.derivatives[ex.wrt], at), reverseGradient(ex.formula, at, ex.wrt));
    });
  }

  it("det: det(X) * inv(X)' with a note where X is invertible, the adjugate adj(X)' where it is not; log det(inv(X)): -inv(X)'", () => {
    const r = derive('det(X)', { at: { X: wellConditioned(3) } });
    expect(r.derivatives.X).toBe("det(X) * inv(X)'");
    expect(r.notes).toContain("this form holds where det(X) ≠ 0; where it is 0 the derivative is adj(X)' (the adjugate), which reverse mode gives");
    const singular = derive('det(X)', { at: { X: { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) } } });
    expect(singular.derivatives.X).toBe("adj(X)'");
    expect(singular.check.passed).toBe(true);
    expect(singular.notes.join('\n')).not.toMatch(/disagrees/);
    const inverse = derive('log(det(inv(X)))', { at: { X: spd(3) } });
    expect(inverse.derivatives.X).toBe("-inv(X)'");
    expect(inverse.check.passed).toBe(true);
  });

  it('a norm: X / norm(X, "fro") with a note where the point is not 0, the guard kept where it is 0', () => {
    const r = derive('norm(X, "fro")', { at: { X: randn(3, 3) } });
    expect(r.derivatives.X).toBe('X / norm(X, "fro")');
    expect(r.check.passed).toBe(true);
    expect(r.notes).toContain(
      'this form holds where norm(X, "fro") ≠ 0; where it is 0 the derivative does not exist and reverse mode gives 0 (PyTorch\'s convention)',
    );
    const v = derive('norm(x)', { at: { x: randn(4) } });
    expect(v.derivatives.x).toBe('x / norm(x)');
    // at 0 the form without the guard is not finite: the guarded form is the one that holds there
    const zero = derive('norm(X, "fro")', { at: { X: { shape: [3, 3], data: new Float64Array(9) } } });
    expect(zero.derivatives.X).toBe('(norm(X, "fro") == 0) ? 0 : (X / norm(X, "fro"))');
    expect(zero.check.passed).toBe(true);
    expect(zero.notes.join('\n')).not.toMatch(/this form holds/);
  });

  it("x'*(A - A')*x is 0 for every x and A: derive prints 0, and reverse mode agrees", () => {
    const r = derive("x'*(A - A')*x", { at: { x: randn(3), A: randn(3, 3) } });
    expect(r.derivatives).toEqual({ x: '0', A: '0' });
    expect(r.check.passed).toBe(true);
    expect(r.notes.join('\n')).not.toMatch(/disagrees/);
    const s = derive("x'*(A - A')*x + x'*B*x", { at: { x: randn(3), A: randn(3, 3), B: randn(3, 3) } });
    expect(s.derivatives.x).toBe("(B + B') * x");
  });

  it("trace(X'*A*X*B) by X: A*X*B + A'*X*B', the Cookbook's eq. 117 in its order", () => {
    const at = { X: randn(3, 3), A: randn(3, 3), B: randn(3, 3) };
    const r = derive("trace(X'*A*X*B)", { wrt: ['X'], at });
    expect(r.derivatives.X).toBe("A * X * B + A' * X * B'");
    expect(r.check.passed).toBe(true);
    expectEntries(evaluate(r.derivatives.X, at), reverseGradient("trace(X'*A*X*B)", at, 'X'));
  });

  it('a vector made a column scales rows: diag(v) * M, not v * ones(1, 1) .* M; diag(v) is its own transpose', () => {
    for (const [formula, at, want] of [
      ['sum(diag(M) .* v)', { M: randn(3, 4), v: randn(3) }, 'diag(v) * [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]'],
      ["sum(diag(M'*M) .* v)", { M: randn(3, 4), v: randn(4) }, '2 * M * diag(v)'],
      ['sum(exp(diag(M)))', { M: randn(3, 4) }, 'diag(exp(diag(M))) * [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]'],
      // a vector node printed as a column (M * ones(4, 1) + v is [3,1]): diag of it would be one entry, and bare it would be regrouped by simplify (a .* (c .* v) into a .* c .* v), so it stays a column times ones(1, 1)
      [
        'sum(diag(M) .* v) + sum(M .* (diag(M)*ones(1,4)))',
        { M: randn(3, 4), v: randn(3) },
        'diag(M) * ones(1, 4) + [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] .* ((M * ones(4, 1) + v) * ones(1, 1))',
      ],
      // beside a column the vector scales it by diag too (v .* m would read so, but simplify regroups a .* (v .* m) into a .* v .* m)
      [
        'sum(diag(M) .* exp(sum(M, 2) + v))',
        { M: randn(3, 4), v: randn(3) },
        'ones(3, 4) .* (diag(diag(M)) * exp(sum(M, 2) + v)) + [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] .* exp(sum(M, 2) + v)',
      ],
      // in a matrix product a vector is a column already (diag(M) * ones(1, 4)); a column printed as one (M * ones(4, 1), sum(M, 2)) is written as it is
      ['sum(diag(M) .* (M*ones(4,1)))', { M: randn(3, 4) }, 'diag(M) * ones(1, 4) + [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] .* (M * ones(4, 1))'],
      ['sum(diag(M) .* sum(M, 2))', { M: randn(3, 4) }, 'diag(diag(M)) * ones(3, 4) + [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] .* sum(M, 2)'],
      // a vector made a column, back to a vector and a column again is the vector: diag(v) * …, and simplify takes it out (it wrote v * ones(1, 1) ^ 2 before, which disagreed)
      ['sum((diag(M) + sum(M, 2)) .* v)', { M: randn(3, 4), v: randn(3) }, 'diag(v) * ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] + ones(3, 4))'],
    ] as const) {
      const r = derive(formula, { wrt: ['M'], at });
      expect(r.derivatives.M).toBe(want);
      expect(r.check.passed).toBe(true);
      expect(r.notes.join('\n')).not.toMatch(/disagrees/);
      expectEntries(evaluate(r.derivatives.M, at), reverseGradient(formula, at, 'M'));
    }
  });

  it('a constant that only fits the shapes given stays, with its note: trace(X) is eye(3)', () => {
    const r = derive('trace(X)', { at: { X: randn(3, 3) } });
    expect(r.derivatives.X).toBe('eye(3)');
    expect(r.notes.join('\n')).toMatch(/sized for these shapes/);
  });
});

describe('the rules, one by one (textbook)', () => {
  const S = { A: [3, 3], B: [3, 3], C: [3, 4], X: [3, 3], x: [3], y: [3], a: [3], b: [3], s: [] };
  const tb = (e: string) => textbook(e, S).text;

  it('transposes: through products and sums, off scalars, twice is none', () => {
    expect(tb("(x' * A)'")).toBe("A' * x");
    expect(tb("(A * B * C)'")).toBe("C' * B' * A'");
    expect(tb("(A + B')'")).toBe("A' + B");
    expect(tb("(A')'")).toBe('A');
    expect(tb("(s * A)'")).toBe("s * A'");
    expect(tb("s'")).toBe('s');
    expect(tb("(a' * b)' * A")).toBe("(a' * b) * A");
    expect(tb("(diag(y) * A')'")).toBe('A * diag(y)');
    // the diagonal of a matrix is a vector: not its own transpose
    expect(tb("diag(A)' * x")).toBe("diag(A)' * x");
  });

  it('identities: eye(n) in a product, ones(m, n) .* X of the same shape', () => {
    expect(tb('A * eye(3)')).toBe('A');
    expect(tb('eye(3) * A * eye(3)')).toBe('A');
    expect(tb('eye(3) * eye(3)')).toBe('eye(3)');
    expect(tb('ones(3, 3) .* X')).toBe('X');
    expect(tb('X .* ones(3, 3)')).toBe('X');
    // ones of another shape broadcasts: not the identity
    expect(tb('ones(3, 4) .* a')).toBe('ones(3, 4) .* a');
  });

  it('scalars go to the front; numbers multiply; s and 1/s cancel; X * s^(-1) is X / s', () => {
    expect(tb("A' * 2 * A * x")).toBe("2 * A' * A * x");
    expect(tb('A * 2 * B * 3')).toBe('6 * A * B');
    expect(tb('X * s ^ (-1)')).toBe('X / s');
    expect(tb('s * X * s ^ (-1)')).toBe('X');
    // a product of scalars is one list of scalars, divisions last
    expect(tb('-exp(s) / (exp(s) + 1) * s * x')).toBe('-exp(s) * s * x / (exp(s) + 1)');
    // a number made of matrices (u'*v) is one factor, in parentheses, and goes to the front too
    expect(tb("A * (a' * b)")).toBe("(a' * b) * A");
    expect(tb("A' * x * x' * A * x")).toBe("(x' * A * x) * A' * x");
  });

  it('entry by entry: (1 ./ d) .* e is e ./ d, and a number factor moves out to the product', () => {
    expect(tb('(1 ./ (x + 1)) .* y')).toBe('y ./ (x + 1)');
    expect(tb('y .* (1 ./ x)')).toBe('y ./ x');
    expect(tb("A' * (x .* (-y))")).toBe("-A' * (x .* y)");
    expect(tb('(2 * x) .* (3 * y)')).toBe('6 * (x .* y)');
  });

  it('like terms: coefficients added, common right and left factors taken out', () => {
    expect(tb('A * x + A * x')).toBe('2 * A * x');
    expect(tb("A' * x + A * x")).toBe("(A + A') * x");
    expect(tb("x' * A + x' * B")).toBe("x' * (A + B)");
    expect(tb('2 * A * x - B * x')).toBe('(2 * A - B) * x');
    expect(tb('A * x - A * x + B * y')).toBe('B * y');
    // what every collected term has goes outside: a coefficient, a scalar
    expect(tb('2 * A * x + 2 * B * x')).toBe('2 * (A + B) * x');
    expect(tb('-A * x - B * x')).toBe('-(A + B) * x');
    expect(tb('s * A * x + s * B * x - 2 * s * X * x')).toBe('s * (A + B - 2 * X) * x');
    // scalars in another order are the same term
    expect(tb("(x' * A * x) * A' * x + A' * x * x' * A * x")).toBe("2 * (x' * A * x) * A' * x");
  });

  it('a sum that cancels is 0: dropped from a sum, 0 in a product, and a whole derivative of 0 is 0', () => {
    expect(tb("(A - A' + (A' - A)) * x")).toBe('0');
    expect(tb("(A - A' + (A' - A)) * x + B * y")).toBe('B * y');
    expect(tb("x * x' - x * x'")).toBe('0');
    expect(tb("(A - A') * x + (A' - A) * x")).toBe('0');
    // inside a function the zeros are written as they came, which keeps their shape at every shape (zeros(3) would not)
    expect(tb('exp((A - A) * x)')).toBe('exp((A - A) * x)');
    expect(tb('exp((A - A) * x) + (B - B) * y')).toBe('exp((A - A) * x)');
    expect(tb("(x - x)'")).toBe('0');
  });

  it("the book's order: of terms made of the same matrices, added first, then fewer transposes (Cookbook eq. 117)", () => {
    expect(tb("B' + B")).toBe("B + B'");
    expect(tb("A' * X * B' + A * X * B")).toBe("A * X * B + A' * X * B'");
    expect(tb("-A * X * B + A' * X * B'")).toBe("A' * X * B' - A * X * B");
    // terms of other matrices keep their places
    expect(tb("A' + B")).toBe("A' + B");
    expect(tb("B' * A' + X + A * B")).toBe("A * B + X + B' * A'");
  });

  it('matrix products never commute: A*B + B*A has no common factor', () => {
    expect(tb('A * B + B * A')).toBe('A * B + B * A');
    expect(tb('A * B - B * A')).toBe('A * B - B * A');
    // (A*B)' is B'*A', never A'*B'
    expect(tb("(A * B)' - A' * B'")).toBe("B' * A' - A' * B'");
  });

  it("a sum of vectors with a column in it stays a column: the column's 0 is kept where the rest are vectors", () => {
    // M * (o - o) is a [3,1] column of zeros: without it, y + A * y would be a vector [3], which meets a matrix as a row
    const T = { ...S, M: [3, 4], o: [4, 1] };
    expect(textbook('M * (o - o) + y + A * y', T).text).toBe('M * (o - o) + y + A * y');
    expect(textbook('(A - A) * x + y + A * y', T).text).toBe('y + A * y');
  });

  it('a square matrix squared (simplify writes D*D as D^2, for scalars only) is D * D', () => {
    expect(tb('X ^ 2 * x')).toBe('X * X * x');
    expect(tb('diag(y) ^ 2')).toBe('diag(y) * diag(y)');
    expect(tb('s ^ 2 * x')).toBe('s ^ 2 * x');
  });

  it('a term without a matrix of its own is not collected (x + A*x is not (eye + A)*x)', () => {
    expect(tb('x + A * x')).toBe('x + A * x');
  });

  it('unknown shapes: nothing is moved (an unknown name may be a matrix)', () => {
    expect(tb("(Z * A)'")).toBe("(Z * A)'");
    expect(tb('A * Z * 2')).toBe('A * Z * 2');
  });

  it('the text comes back unchanged when it cannot be read', () => {
    expect(textbook('A * (', S).text).toBe('A * (');
  });

  it('sized constants: eye, ones, zeros, onehot, array literals; not indexing', () => {
    expect(hasSizedConstant("A' * eye(3)")).toBe(true);
    expect(hasSizedConstant('[1, 2] * x')).toBe(true);
    expect(hasSizedConstant('x[2] * A[1, 2]')).toBe(false);
    expect(hasSizedConstant("A'")).toBe(false);
  });
});

describe('the textbook form on random matrix formulas', () => {
  // every rule keeps the value: derive cross-checks the book's form and would fall back, with a note, where it disagreed
  const RUNS = Math.ceil(Number(process.env.FUZZ_RUNS ?? 500) * 0.1);
  const mat = fc.letrec<{ m: string }>((tie) => ({
    m: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('A', 'B', 'X', "A'", "X'", 'eye(3)'),
      fc.tuple(tie('m'), tie('m')).map(([a, b]) => `(${a} * ${b})`),
      fc.tuple(fc.constantFrom('+', '-'), tie('m'), tie('m')).map(([op, a, b]) => `(${a} ${op} ${b})`),
      tie('m').map((a) => `(${a})'`),
      tie('m').map((a) => `2 * ${a}`),
    ),
  })).m;
  const FORMS: Record<string, (a: string, b: string) => string> = {
    tr: (a) => `trace(${a} * X)`,
    quad: (a) => `x' * ${a} * X * x`,
    bil: (a) => `x' * ${a} * X' * y`,
    fro: (a) => `sum((${a} * X).^2)`,
    had: (a, b) => `sum(${a} .* (X * ${b}))`,
    // entry by entry: the logistic loss, a quotient, a negated factor
    logistic: (a) => `sum(log(exp(-y .* (${a} * X * x)) + 1))`,
    quotient: (a, b) => `sum(y ./ exp(${a} * X * x) + (-x) .* (${b} * X' * y))`,
  };
  const top = fc.tuple(fc.constantFrom(...Object.keys(FORMS)), mat, mat).map(([k, a, b]) => FORMS[k](a, b));
  it('derive never reports that the book form disagrees, and its answer equals reverse mode', () => {
    fc.assert(
      fc.property(top, fc.integer({ min: 1, max: 1_000_000 }), (formula, seed) => {
        const r = new Rng(seed);
        const t = (...shape: number[]): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => r.normal()) });
        const at = { A: t(3, 3), B: t(3, 3), X: t(3, 3), x: t(3), y: t(3) };
        const d = derive(formula, { wrt: ['X'], at, simplifyBudgetMs: 60_000 });
        expect(d.check.passed, formula).toBe(true);
        expect(d.notes.join('\n'), formula).not.toMatch(/textbook form .* disagrees/);
        expectEntries(evaluate(d.derivatives.X, at), reverseGradient(formula, at, 'X'), 1e-8, `${formula}: ${d.derivatives.X}`);
      }),
      { numRuns: RUNS, seed: 2025 },
    );
  });

  it("a wide matrix's diagonal beside vectors and row sums: the column it is laid back from prints as diag(v) * … only where v is a vector", () => {
    const vec = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('v', 'diag(M)', 'A*v', 'sum(M, 2)', 'M*ones(4,1)'),
        tie('e').map((a) => `exp(${a})`),
        fc.tuple(fc.constantFrom('+', '-', '.*'), tie('e'), tie('e')).map(([op, a, b]) => `(${a} ${op} ${b})`),
      ),
    })).e;
    fc.assert(
      fc.property(vec, vec, fc.integer({ min: 1, max: 1_000_000 }), (a, b, seed) => {
        const formula = `sum(exp(diag(M) .* ${a}) .* ${b})`;
        const r = new Rng(seed);
        const t = (...shape: number[]): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => 0.5 * r.normal()) });
        const at = { M: t(3, 4), A: t(3, 3), v: t(3) };
        let d: ReturnType<typeof derive>;
        try {
          d = derive(formula, { wrt: ['M'], at, simplifyBudgetMs: 60_000 });
        } catch (e) {
          // the language's shape rules refuse some mixes of vectors and columns; grad refuses them alike
          expect(() => grad(formula, at, { check: false, forwardMode: false, edges: false }), `${formula}: ${String(e)}`).toThrow();
          return;
        }
        expect(d.check.passed, formula).toBe(true);
        expect(d.notes.join('\n'), `${formula}: ${d.derivatives.M}`).not.toMatch(/textbook form .* disagrees/);
        const reverse = reverseGradient(formula, at, 'M');
        // where the gradient overflows (exp of exp), the check judged other points
        if (!reverse.every(Number.isFinite)) return;
        expectEntries(evaluate(d.derivatives.M, at), reverse, 1e-8, `${formula}: ${d.derivatives.M}`);
      }),
      { numRuns: RUNS, seed: 77 },
    );
  });
});
