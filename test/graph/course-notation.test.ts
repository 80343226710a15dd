import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import type { Nested } from '../../src/core/parse/values.js';
import type { Shape, Tensor } from '../../src/core/tensor.js';
import { grad, prepare } from '../../src/subjects/formula/grad.js';
import { cli } from '../helpers.js';

/**
 * Issue 25 items 1-3: shapes as courses write them. A reduction along a dimension keeps
 * it; a vector beside a square matrix is refused, never guessed; textbook transposes and
 * the sources' own names (micrograd's e, CS231n's dot) work.
 */
const t = (shape: Shape, data: number[]): Tensor => ({ shape, data: Float64Array.from(data) });
const flat = (x: Nested): number[] => (Array.isArray(x) ? (x as Nested[]).flatMap(flat) : [x as number]);
const outShape = (f: string, vals: Record<string, Tensor>): Shape => {
  const tape = prepare(f, vals);
  return tape.nodes[tape.output].shape;
};
const error = (f: string, vals: Record<string, Tensor>): AgError => {
  try {
    prepare(f, vals);
  } catch (e) {
    if (e instanceof AgError) return e;
    throw e;
  }
  throw new Error(`${f} did not throw`);
};

const A = t([2, 3], [1, -2, 0.5, 3, 0.25, -1]);
const Q = t([3, 3], [1, 2, 0.5, 0.3, -1, 2, 1.5, 0.2, -0.7]);
const v3 = t([3], [0.5, -1, 2]);

describe('a reduction along a dimension keeps it', () => {
  for (const fn of ['sum', 'mean', 'prod', 'logsumexp']) {
    it(`${fn}(A, 2) is the column [m,1], ${fn}(A, 1) the row [1,n]`, () => {
      expect(outShape(`${fn}(A, 2)`, { A })).toEqual([2, 1]);
      expect(outShape(`${fn}(A, 1)`, { A })).toEqual([1, 3]);
      // a vector's only dimension reduces it to a scalar
      expect(outShape(`${fn}(v, 1)`, { v: v3 })).toEqual([]);
    });
  }

  it('A - sum(A, 2) subtracts each row its own sum, also when A is square', () => {
    const r = grad('sum((Q - sum(Q, 2)).^2)', { Q });
    // by hand: row i of Q minus the sum of row i
    const rows = [0, 1, 2].map((i) => Array.from(Q.data.subarray(3 * i, 3 * i + 3)));
    const want = rows.flatMap((r) => r.map((x) => (x - r.reduce((s, y) => s + y, 0)) ** 2)).reduce((s, x) => s + x, 0);
    expect(r.value).toBeCloseTo(want, 12);
    expect(r.check?.passed).toBe(true);
  });

  it('sum(A, 2) in a gradient: both engines agree with finite differences', () => {
    for (const engine of ['js', 'native'] as const) {
      const r = grad('sum(sum(A, 2).^2) + sum(mean(A, 1).^3)', { A }, { engine });
      expect(r.check?.passed, engine).toBe(true);
      // ∂/∂A_ij = 2·rowsum_i + 3·colmean_j²/m
      const rowsum = [0, 1].map((i) => A.data[3 * i] + A.data[3 * i + 1] + A.data[3 * i + 2]);
      const colmean = [0, 1, 2].map((j) => (A.data[j] + A.data[3 + j]) / 2);
      const want = [0, 1].flatMap((i) => [0, 1, 2].map((j) => 2 * rowsum[i] + (3 * colmean[j] ** 2) / 2));
      flat(r.gradient.A).forEach((g, k) => expect(g).toBeCloseTo(want[k], 12));
    }
  });
});

describe('a vector beside a square matrix is refused, never guessed', () => {
  it('names both readings and both fixes', () => {
    for (const op of ['+', '-', '.*']) {
      const e = error(`Q ${op} v`, { Q, v: v3 });
      expect(e.code).toBe('shape');
      expect(e.message).toBe(
        `Q ${op} v: [3,3] ${op} [3] — a vector [3] beside a square matrix [3,3] could be a row or a column, and neither is guessed: ` +
          "write v' to use it as a row (one copy per row), or v*ones(1, 3) as a column (one copy per column)",
      );
      expect(e.hint).toBe("here: v' as a row, v*ones(1, 3) as a column");
    }
    // the hint writes the vector as the formula does
    expect(error('Q .* (Q*v)', { Q, v: v3 }).hint).toBe("here: (Q*v)' as a row, (Q*v)*ones(1, 3) as a column");
    expect(error('Q ./ v', { Q, v: v3 }).message).toMatch(/neither is guessed/);
    expect(error('max(0, Q - v)', { Q, v: v3 }).code).toBe('shape');
  });

  it("both fixes mean what they say: v' is added to each row, v*ones(1, n) to each column", () => {
    const row = grad("sum((Q + v').^2)", { Q, v: v3 });
    const col = grad('sum((Q + v*ones(1, 3)).^2)', { Q, v: v3 });
    const sq = (f: (i: number, j: number) => number) =>
      [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (Q.data[3 * i + j] + f(i, j)) ** 2)).reduce((s, x) => s + x, 0);
    expect(row.value).toBeCloseTo(
      sq((_i, j) => v3.data[j]),
      12,
    );
    expect(col.value).toBeCloseTo(
      sq((i) => v3.data[i]),
      12,
    );
  });

  it('unambiguous cases keep working: a bias [C] on X*W [N,C] with N != C, a vector with its column', () => {
    const vals = { X: t([4, 2], [1, 2, 0.3, -1, 1.5, 0.2, -0.5, 0.8]), W: t([2, 3], [0.2, -0.5, 0.1, 1.5, 1.3, 2.1]), b: v3 };
    expect(outShape('X*W + b', vals)).toEqual([4, 3]);
    expect(grad('sum(softmax(X*W + b) .* (X*W + b))', vals).check?.passed).toBe(true);
    expect(outShape('v + c', { v: v3, c: t([3, 1], [1, 2, 3]) })).toEqual([3, 1]);
    expect(outShape('v .* u', { v: v3, u: v3 })).toEqual([3]);
  });

  it('the CLI refuses it with one line, exit 2, no stack trace', () => {
    const r = cli(['grad', 'sum(Q + v)', '--at', 'Q=randn(3,3)', '--at', 'v=randn(3)']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(/^error: Q \+ v: \[3,3\] \+ \[3\] — a vector \[3\] beside a square matrix \[3,3\] could be a row or a column/);
    expect(r.stderr).toContain("hint: here: v' as a row, v*ones(1, 3) as a column");
    expect(r.stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
  });
});

describe('textbook transposes', () => {
  const vals = { A: Q, x: v3 };
  const want = grad("x'*(A + A')*x", vals);
  for (const f of ["x'*(A + A^T)*x", "x'*(A + A^T) x", "x'*(A + A^\\top)*x", "x'*(A + A^{\\top})*x", "x'*(A + Aᵀ)*x", "x'*(A + A^{T})*x", 'xᵀ(A + Aᵀ)x']) {
    it(`${f} is x'*(A + A')*x`, () => {
      const r = grad(f, vals);
      expect(r.value).toBe(want.value);
      expect(flat(r.gradient.A)).toEqual(flat(want.gradient.A));
      expect(flat(r.gradient.x)).toEqual(flat(want.gradient.x));
      // T is no variable of the formula: nothing asks for a value of T
      expect(r.warnings.map((w) => w.message).join('\n')).not.toMatch(/\bT\b/);
    });
  }

  it('T given a value is a variable: x^T is a power, and A^T of a matrix says how to write the transpose', () => {
    expect(grad('x^T', { x: t([], [2]), T: t([], [3]) }).value).toBe(8);
    const e = error('A^T', { A: Q, T: t([], [3]) });
    expect(e.message).toMatch(/\^ is for scalars here/);
    expect(e.hint).toBe("T is a variable here, so ^T is a power; for the transpose write A'");
    // a step named T is one too
    expect(grad('T = 2*x; x^T', { x: t([], [3]) }).value).toBe(729);
  });

  it('the CLI: (A + A^T) x needs no value for T', () => {
    const r = cli(['grad', "x'*(A + A^T) x", '--at', 'A=randn(3,3)', '--at', 'x=randn(3)', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).variables).toEqual(['x', 'A']);
  });
});

describe("the sources' own names shadow a constant or function, with a note", () => {
  it("micrograd's step e: e is the step, not Euler's number", () => {
    const r = grad('e = a*b; d = e + c; L = d*f; L', { a: t([], [2]), b: t([], [-3]), c: t([], [10]), f: t([], [-2]) });
    expect(r.value).toBe(-8);
    expect(r.gradient).toEqual({ a: 6, b: -4, c: -2, f: 4 });
    expect(r.warnings).toContainEqual({ code: 'shadowed-name', message: 'the step e shadows the constant e (2.71828)' });
    // before the step, e is still the constant
    expect(grad('k = e*a; e = a; k + e', { a: t([], [2]) }).value).toBeCloseTo(Math.E * 2 + 2, 14);
  });

  it("CS231n's step dot: dot is the step, and dot(u, v) still calls the function", () => {
    const r = grad('dot = w[1]*x[1] + w[2]*x[2] + w[3]; f = 1.0/(1 + exp(-dot)); f + 0*dot(x, x)', { w: t([3], [2, -3, -3]), x: t([2], [-1, -2]) });
    expect(r.value).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(r.warnings.map((w) => w.message)).toContain('the step dot shadows the name of the function dot; dot(…) still calls the function');
  });

  it('a variable given a value for e is that variable', () => {
    const r = grad('e*x + e', { e: t([], [3]), x: t([], [2]) });
    expect(r.value).toBe(9);
    expect(r.gradient).toEqual({ e: 3, x: 3 });
    expect(r.warnings.map((w) => w.code)).toEqual(['shadowed-name']);
  });

  it('names of the language and of mathjs code are still refused', () => {
    for (const f of ['i = 2; i*x', 'evaluate = 2; evaluate*x']) expect(() => prepare(f, { x: t([], [1]) })).toThrow(/it is a built-in name/);
  });
});

describe('softmax, logsoftmax and logsumexp need a dimension only for a column', () => {
  const r = t([1, 3], [1, 2, 3]);
  it('a one-row matrix is one lane', () => {
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(grad('logsumexp(r)', { r }).value).toBeCloseTo(lse, 14);
    expect(grad('sum(logsoftmax(r))', { r }).value).toBeCloseTo(6 - 3 * lse, 13);
    expect(grad('softmax(r)[1, 3]', { r }).value).toBeCloseTo(Math.exp(3 - lse), 15);
  });
  it("a scalar's logsumexp is the scalar", () => {
    const s = grad('logsumexp(2*x)', { x: t([], [1.5]) });
    expect(s.value).toBe(3);
    expect(s.gradient).toEqual({ x: 2 });
  });
});
