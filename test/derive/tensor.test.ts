import { describe, expect, it } from 'vitest';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { evaluate, flat } from './evaluate.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { formulaToTex, simplifyExpr } from '../../src/subjects/formula/derive/simplify.js';

/**
 * derive for tensors: each matrix formula is evaluated numerically, entry by entry, against
 * reverse mode (grad) and against the textbook's form, at random values and random
 * shapes, independently of derive's own cross-check.
 */
const rng = new Rng(99);
const randn = (...shape: number[]): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });

/** The derivative formula against reverse mode and against `want`, at values of several shapes. */
function agree(formula: string, variable: string, derivative: string, want: string, shapes: (() => Record<string, Tensor>)[]): void {
  for (const make of shapes) {
    for (let t = 0; t < 3; t++) {
      const values = make();
      const got = evaluate(derivative, values);
      const reverse = flat(grad(formula, values, { check: false, forwardMode: false, edges: false }).gradient[variable]);
      const book = evaluate(want, values);
      const where = `${derivative} at ${JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.shape])))}`;
      expect(got.length, where).toBe(reverse.length);
      got.forEach((v, k) => {
        expect(Math.abs(v - reverse[k]), `${where}: entry ${k} vs reverse mode`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(reverse[k])));
        expect(Math.abs(v - book[k]), `${where}: entry ${k} vs ${want}`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(book[k])));
      });
    }
  }
}

describe('derive for tensors: the lecture formulas', () => {
  const Wx = [() => ({ W: randn(3, 4), x: randn(4) }), () => ({ W: randn(5, 2), x: randn(2) }), () => ({ W: randn(1, 6), x: randn(6) })];

  it("‖Wx‖² by W: 2*(W*x)*x'", () => {
    const r = derive('sum((W*x).^2)', { wrt: ['W'], at: Wx[0]() });
    expect(r.shapes).toEqual({ W: [3, 4], x: [4] });
    expect(r.check.passed).toBe(true);
    expect(r.check.shapes).toBeGreaterThan(1);
    agree('sum((W*x).^2)', 'W', r.derivatives.W, "2*(W*x)*x'", Wx);
  });

  it('elementwise division ./ prints as ./ and reads back: x./y by x is 1 ./ y, by y -x ./ y .^ 2', () => {
    const xy = [() => ({ x: randn(3), y: randn(3) }), () => ({ x: randn(2, 3), y: randn(2, 3) })];
    const r = derive('sum(x./y)', { at: xy[0]() });
    expect(r.check.passed).toBe(true);
    expect(r.derivatives.x).toBe('1 ./ y');
    agree('sum(x./y)', 'x', r.derivatives.x, '1./y', xy);
    agree('sum(x./y)', 'y', r.derivatives.y, '-x./y.^2', xy);
  });

  it("‖Wx‖² by x: 2*W'*(W*x)", () => {
    const r = derive('sum((W*x).^2)', { wrt: ['x'], at: Wx[0]() });
    agree('sum((W*x).^2)', 'x', r.derivatives.x, "2*W'*(W*x)", Wx);
  });

  it("softmax cross-entropy: (softmax(W*x) - onehot(y, n))*x', written so", () => {
    const at = { W: randn(3, 4), x: randn(4), y: { shape: [], data: Float64Array.of(2) } };
    const r = derive('-log(softmax(W*x, 1)[y])', { at });
    expect(r.derivatives.W.replace(/\s/g, '')).toBe("(softmax(W*x)-onehot(y,3))*x'");
    expect(r.derivatives.x.replace(/\s/g, '')).toBe("W'*(softmax(W*x)-onehot(y,3))");
    expect(r.variables).toEqual(['W', 'x']);
    const y = at.y;
    agree('-log(softmax(W*x, 1)[y])', 'W', r.derivatives.W, "(softmax(W*x, 1) - onehot(y, 3))*x'", [
      () => ({ W: randn(3, 4), x: randn(4), y }),
      () => ({ W: randn(3, 7), x: randn(7), y }),
    ]);
  });

  it('the two-layer ReLU net: the backprop formulas', () => {
    const mlp = 'sum((relu(X*W1)*W2 - Y).^2)';
    const make = (n: number, d: number, h: number, o: number) => () => ({ X: randn(n, d), W1: randn(d, h), W2: randn(h, o), Y: randn(n, o) });
    const r = derive(mlp, { wrt: ['W1', 'W2'], at: make(5, 4, 3, 2)() });
    expect(r.derivatives.W2.replace(/\s/g, '')).toBe("2*relu(X*W1)'*(relu(X*W1)*W2-Y)");
    expect(r.derivatives.W1).toMatch(/^X' \* \(\(X \* W1 > 0\) \? /);
    const shapes = [make(5, 4, 3, 2), make(7, 3, 5, 4)];
    agree(mlp, 'W2', r.derivatives.W2, "relu(X*W1)'*(2*(relu(X*W1)*W2 - Y))", shapes);
    agree(mlp, 'W1', r.derivatives.W1, "X'*((2*(relu(X*W1)*W2 - Y)*W2') .* (X*W1 > 0))", shapes);
  });

  it("the logistic loss in vectors: −y·σ(−y(w'x + b))·x", () => {
    const make = (n: number) => () => ({ w: randn(n), x: randn(n), b: randn(), y: { shape: [], data: Float64Array.of(rng.next() < 0.5 ? -1 : 1) } as Tensor });
    const f = "log(1 + exp(-y*(w'*x + b)))";
    const r = derive(f, { wrt: ['w', 'b'], at: make(3)() });
    agree(f, 'w', r.derivatives.w, "-y*sigmoid(-y*(w'*x + b))*x", [make(3), make(6)]);
    agree(f, 'b', r.derivatives.b, "-y*sigmoid(-y*(w'*x + b))", [make(3), make(6)]);
  });

  it('an elementwise quotient of tensors prints as ./ and evaluates', () => {
    const at = { x: randn(3), y: randn(3) };
    const r = derive('sum(x ./ y)', { at });
    expect(r.check.passed).toBe(true);
    expect(r.derivatives.x).toBe('1 ./ y');
    agree('sum(x ./ y)', 'x', r.derivatives.x, '1 ./ y', [() => ({ x: randn(3), y: randn(3) }), () => ({ x: randn(5), y: randn(5) })]);
  });

  it('matrix products keep their order: A*B*C by B', () => {
    const make = (m: number, k: number, l: number, n: number) => () => ({ A: randn(m, k), B: randn(k, l), C: randn(l, n), G: randn(m, n) });
    const r = derive('sum((A*B*C) .* G)', { wrt: ['B'], at: make(2, 3, 4, 5)() });
    agree('sum((A*B*C) .* G)', 'B', r.derivatives.B, "A'*G*C'", [make(2, 3, 4, 5), make(4, 2, 3, 3)]);
  });
});

describe('derive for tensors: random formulas and shapes', () => {
  // products, transposes, elementwise functions, reductions: random compositions that are scalar in the end
  const pieces = [
    (a: string) => `tanh(${a})`,
    (a: string) => `(${a}).^2`,
    (a: string) => `sigmoid(${a})`,
    (a: string) => `exp(-(${a}).^2)`,
    (a: string) => `(${a}) .* (${a})`,
    (a: string) => `2*(${a}) - 1`,
  ];
  it('each derivative equals reverse mode entry by entry', () => {
    for (let t = 0; t < 12; t++) {
      let inner = rng.next() < 0.5 ? 'W*x' : "x'*W'";
      for (let d = 0; d < 1 + rng.int(3); d++) inner = pieces[rng.int(pieces.length)](inner);
      const f = rng.next() < 0.5 ? `sum(${inner})` : `sum((${inner}) .* (${inner}))`;
      const make = (m: number, n: number) => () => ({ W: randn(m, n), x: randn(n) });
      const r = derive(f, { at: make(3, 4)(), seed: t });
      expect(r.check.passed, f).toBe(true);
      // a formula with constants sized for the given shapes (ones(1, 3)) holds for those only
      const sized = r.notes.some((n) => /sized for these shapes/.test(n));
      for (const v of ['W', 'x']) {
        for (const shape of sized ? [make(3, 4)] : [make(3, 4), make(2, 5)]) {
          const values = shape();
          const got = evaluate(r.derivatives[v], values);
          const reverse = flat(grad(f, values, { check: false, forwardMode: false, edges: false }).gradient[v]);
          got.forEach((g, k) =>
            expect(Math.abs(g - reverse[k]), `${f}: ∂f/∂${v} = ${r.derivatives[v]}, entry ${k}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(reverse[k]))),
          );
        }
      }
    }
  });

  it('a simplifier that breaks the formula is caught: the accumulated form is shown, with a note', () => {
    const r = derive('sum((W*x).^2)', {
      wrt: ['W'],
      at: { W: randn(3, 4), x: randn(4) },
      simplify: (e) => `${e.replace(/\*\s*\(?x'\)?\s*$/, '')} * x' * 2`,
    });
    expect(r.notes.join('\n')).toMatch(/simplify changed ∂f\/∂W into a formula that disagrees with reverse mode/);
    agree('sum((W*x).^2)', 'W', r.derivatives.W, "2*(W*x)*x'", [() => ({ W: randn(3, 4), x: randn(4) })]);
  });
});

describe('derive for tensors: * (matrix product) and .* (entry by entry) keep their parentheses', () => {
  // mathjs's operator table calls .* associative with *, so it printed a .* (2 * b) as a .* 2 * b: (a .* 2) * b, a matrix product
  const values = () => ({ a: randn(3, 3), b: randn(3, 3), c: randn(3, 3), d: randn(3, 3), M1: randn(3, 4), A: randn(3), v2: randn(3), x: randn(3) });
  const cases = [
    'ones(3, 4) .* (2 * sum(M1, 2))',
    '(x > 0 ? A : 0) .* (2 * v2)',
    '(a .* b) * c',
    'a * (b .* c)',
    '(a * b) .* c',
    'a .* (b * c) .* d',
    '(a * b) ./ c',
    'a ./ (b * c)',
  ];
  it.each(cases)('simplify of %s reads back as the same values', (e) => {
    const out = simplifyExpr(e, { matrices: true });
    const at = values();
    const want = evaluate(e, at);
    const got = evaluate(out, at);
    expect(got.length, out).toBe(want.length);
    got.forEach((g, k) => expect(Math.abs(g - want[k]), `${e} simplified to ${out}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want[k]))));
  });

  it('simplify writes them as a reader needs them', () => {
    expect(simplifyExpr('ones(3, 4) .* (2 * sum(M1, 2))', { matrices: true })).toBe('ones(3, 4) .* (2 * sum(M1, 2))');
    expect(simplifyExpr('(a .* b) * c', { matrices: true })).toBe('(a .* b) * c');
    expect(simplifyExpr('(x > 0 ? A : 0) .* (2 * v2)', { matrices: true })).toBe('((x > 0) ? A : 0) .* (2 * v2)');
  });

  it('LaTeX keeps them too', () => {
    // .* is the Hadamard product ⊙, ./ the elementwise quotient ⊘, .^ a power
    expect(formulaToTex('ones(3, 4) .* (2 * sum(M1, 2))')).toContain('\\odot\\left(2\\cdot');
    expect(formulaToTex('a * (b .* c)')).toBe(' a\\cdot\\left( b\\odot c\\right)');
    expect(formulaToTex('(a .* b) * c')).toBe('\\left( a\\odot b\\right)\\cdot c');
    // parentheses mathjs writes itself are not doubled
    expect(formulaToTex('a ./ (b * c)')).toBe(' a\\oslash\\left( b\\cdot c\\right)');
    expect(formulaToTex('(a + b).^2 .* c')).toBe('{\\left( a+ b\\right)}^{2}\\odot c');
    // a sum with a negated term reads a − x, not a +- x
    expect(formulaToTex('a + -(b .* c)')).toBe(' a-\\left( b\\odot c\\right)');
    // max(A, [], 2): the empty array is [\,], not an empty matrix environment
    expect(formulaToTex('max(A, [], 2)')).toBe('\\max\\left( A,[\\,],2\\right)');
  });

  it('sum(sum(M1, 2).^2): the simplified derivative is shown (no note that simplify broke it)', () => {
    const r = derive('sum(sum(M1, 2).^2)', { at: { M1: randn(3, 4) } });
    expect(r.derivatives.M1).toBe('ones(3, 4) .* (2 * sum(M1, 2))');
    expect(r.notes.join('\n')).not.toMatch(/simplify changed/);
  });
});

describe('derive for tensors: the course losses (MSE, batched softmax cross-entropy)', () => {
  /** one-hot rows: row i has its 1 at column labels[i] */
  const onehotRows = (n: number, c: number): Tensor => {
    const data = new Float64Array(n * c);
    for (let i = 0; i < n; i++) data[i * c + rng.int(c)] = 1;
    return { shape: [n, c], data };
  };

  it('mean(v.^2), the MSE: mean divides by N = 3, so the derivative 2/3*v holds for these shapes, and says so', () => {
    const r = derive('mean(v.^2)', { at: { v: randn(3) } });
    expect(r.check.passed).toBe(true);
    expect(r.derivatives.v.replace(/\s/g, '')).toBe('2*v/3');
    expect(r.notes.join('\n')).toMatch(/mean\(v\.\^2\) divides by N = 3: the derivative's 1\/N is written as a number, for these shapes only/);
    agree('mean(v.^2)', 'v', r.derivatives.v, '2*v/3', [() => ({ v: randn(3) })]);
  });

  it('mean of a matrix, and of a row mean: N is the entries averaged', () => {
    const XWY = () => ({ X: randn(5, 3), W: randn(3, 2), Y: randn(5, 2) });
    const mse = 'mean(mean((X*W - Y).^2))';
    const r = derive(mse, { wrt: ['W'], at: XWY() });
    expect(r.notes.join('\n')).toMatch(/divides by N = 10/);
    agree(mse, 'W', r.derivatives.W, "X'*(X*W - Y)/5", [XWY]);
    const rows = derive('sum(mean(S.^2, 2))', { at: { S: randn(4, 3) } });
    expect(rows.notes.join('\n')).toMatch(/mean\(S\.\^2, 2\) divides by N = 3/);
    agree('sum(mean(S.^2, 2))', 'S', rows.derivatives.S, '2/3*S', [() => ({ S: randn(4, 3) })]);
  });

  // CS231n's loss over a batch of 4 rows of 3 class scores, as courses write it
  const batch = () => ({ S: randn(4, 3), Y: onehotRows(4, 3) });
  const summed = [
    '-sum(sum(Y .* logsoftmax(S, 2)))',
    '-sum(sum(Y .* log(softmax(S, 2))))',
    'sum(logsumexp(S, 2)) - sum(sum(S .* Y))',
    'sum(log(sum(exp(S), 2))) - sum(sum(S .* Y))',
    '-sum(log(sum(softmax(S, 2) .* Y, 2)))',
  ];
  it.each(summed)('%s by S is softmax(S, 2) - Y', (f) => {
    const r = derive(f, { wrt: ['S'], at: batch() });
    expect(r.check.passed).toBe(true);
    agree(f, 'S', r.derivatives.S, 'softmax(S, 2) - Y', [batch]);
  });
  const averaged = [
    '-mean(sum(Y .* logsoftmax(S, 2), 2))',
    '-mean(sum(Y .* log(softmax(S, 2)), 2))',
    'mean(logsumexp(S, 2) - sum(Y .* S, 2))',
    'mean(log(sum(exp(S), 2)) - sum(S .* Y, 2))',
    '-sum(sum(Y .* logsoftmax(S, 2)))/4',
  ];
  it.each(averaged)('%s by S is (softmax(S, 2) - Y)/4', (f) => {
    const r = derive(f, { wrt: ['S'], at: batch() });
    expect(r.check.passed).toBe(true);
    // mean's 1/4 is marked by its rule, and the mark survives the folds of the gradient: checked at these shapes, and said
    if (f.startsWith('-mean') || f.startsWith('mean')) {
      expect(r.notes.join('\n')).toMatch(/divides by N = 4: the derivative's 1\/N is written as a number, for these shapes only/);
      expect(r.check.shapes).toBe(1);
    }
    agree(f, 'S', r.derivatives.S, '(softmax(S, 2) - Y)/4', [batch]);
  });
});

describe('derive for tensors: a derivative too long as one formula is written with named steps', () => {
  // 21 layers sharing W: written as one formula, ∂f/∂W repeats each layer's value once per later layer
  const f = ['h1 = tanh(W*x)', ...Array.from({ length: 20 }, (_, k) => `h${k + 2} = tanh(W*h${k + 1})`), 'sum(h21)'].join('; ');
  it('each node used more than once is a step t1 = …, the formula uses the names, and it equals reverse mode', () => {
    const make = (n: number) => () => ({ W: randn(n, n), x: randn(n) });
    const r = derive(f, { wrt: ['W'], at: make(3)(), simplifyBudgetMs: 120_000 });
    expect(r.check.passed).toBe(true);
    expect(r.notes.join('\n')).toMatch(/it is written with named steps \(t1, t2, …\), each a subexpression used more than once/);
    expect(r.derivatives.W).toMatch(/^t1 = tanh\(W \* x\); t2 = tanh\(W \* t1\); /);
    expect(r.derivatives.W.length).toBeLessThan(5000);
    agree(f, 'W', r.derivatives.W, r.derivatives.W, [make(3), make(2)]);
  });
});
