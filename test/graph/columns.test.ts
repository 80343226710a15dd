import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgError } from '../../src/core/errors.js';
import { grad, prepare } from '../../src/subjects/formula/grad.js';
import type { Nested } from '../../src/core/parse/values.js';
import { Rng } from '../../src/core/random.js';
import type { Shape, Tensor } from '../../src/core/tensor.js';

/**
 * Vectors are columns, as on paper: products written with 1-D vectors give the same values
 * and gradients as the same products written with explicit [n,1] columns and [1,n] rows.
 */
const flat = (x: Nested): number[] => (Array.isArray(x) ? (x as Nested[]).flatMap(flat) : [x as number]);
const t = (shape: Shape, data: number[]): Tensor => ({ shape, data: Float64Array.from(data) });

function expectSame(a: number[], b: number[], what: string): void {
  expect(a.length, `${what}: entries`).toBe(b.length);
  a.forEach((v, k) => expect(Math.abs(v - b[k]), `${what}[${k}]: ${v} vs ${b[k]}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b[k]))));
}

const dim = fc.integer({ min: 1, max: 6 });

describe('vectors as columns: the same as explicit [n,1] / [1,n] matrices (property)', () => {
  // each product as written on paper with vectors, and with explicit column matrices U, V
  const products: { paper: string; explicit: string }[] = [
    { paper: "u*v'", explicit: "U*V'" },
    { paper: 'outer(u, v)', explicit: "U*V'" },
    { paper: "u'*w", explicit: "U'*W" },
    { paper: 'A*v', explicit: 'A*V' },
    { paper: "u'*B", explicit: "U'*B" },
    { paper: "u'*A*v", explicit: "U'*A*V" },
  ];
  for (const engine of ['js', 'native'] as const) {
    for (const { paper, explicit } of products) {
      it(`${paper} = ${explicit} (${engine} engine)`, () => {
        fc.assert(
          fc.property(dim, dim, dim, fc.integer({ min: 1, max: 2 ** 30 }), (n, m, p, seed) => {
            const rng = new Rng(seed);
            const draw = (k: number) => Array.from({ length: k }, () => rng.normal());
            const [u, v, w] = [draw(n), draw(m), draw(n)];
            const [A, B] = [draw(n * m), draw(n * p)];
            const vectors = { u: t([n], u), v: t([m], v), w: t([n], w), A: t([n, m], A), B: t([n, p], B) };
            const columns = { U: t([n, 1], u), V: t([m, 1], v), W: t([n, 1], w), A: vectors.A, B: vectors.B };
            // weigh every entry of the product, so each one reaches the gradient
            const shape = prepare(explicit, columns).nodes.at(-1)!.shape;
            const C = t(shape, draw(shape.reduce((s, d) => s * d, 1)));
            const opts = { engine, check: false, forwardMode: false, edges: false };
            const a = grad(`sum(C.*(${paper}))`, { ...vectors, C }, opts);
            const b = grad(`sum(C.*(${explicit}))`, { ...columns, C }, opts);
            expectSame([a.value], [b.value], 'value');
            for (const name of a.variables.filter((x) => x !== 'C')) {
              const other = name.length === 1 && 'uvw'.includes(name) ? name.toUpperCase() : name;
              expectSame(flat(a.gradient[name]), flat(b.gradient[other]), `∂/∂${name}`);
            }
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  it("shapes: v' is a row, u*v' is n×m, u'*v is a scalar, (v')' is v again", () => {
    const rng = new Rng(3);
    const vals = {
      u: t([3], [1, 2, 3]),
      v: t([2], [4, 5]),
      w: t([3], [1, 0, -1]),
      A: t(
        [3, 2],
        Array.from({ length: 6 }, () => rng.normal()),
      ),
    };
    const shapeOf = (f: string) => prepare(f, vals).nodes.at(-1)!.shape;
    expect(shapeOf("v'")).toEqual([1, 2]);
    expect(shapeOf('transpose(v)')).toEqual([1, 2]);
    expect(shapeOf("(v')'")).toEqual([2]);
    expect(shapeOf("(A')'")).toEqual([3, 2]);
    expect(shapeOf("u*v'")).toEqual([3, 2]);
    expect(shapeOf('outer(u, v)')).toEqual([3, 2]);
    expect(shapeOf("u'*w")).toEqual([]);
    expect(shapeOf('u*w')).toEqual([]);
    expect(shapeOf('A*v')).toEqual([3]);
    expect(shapeOf("u'*A")).toEqual([1, 2]);
    expect(shapeOf('u*A')).toEqual([2]);
    expect(shapeOf("u'*A*v")).toEqual([]);
    expect(shapeOf("(u'*A)'")).toEqual([2, 1]);
    expect(shapeOf('onehot(2, 3)')).toEqual([3]);
    // the one node: (v')' adds nothing to the graph
    expect(prepare("sum((v')')", vals).nodes.map((x) => x.op)).toEqual(['input', 'sum']);
  });

  it('elementwise: a vector with a column is that column; with a matrix it is a row (NumPy)', () => {
    const vals = { v: t([3], [1, 2, 3]), c: t([3, 1], [10, 20, 30]), M: t([2, 3], [0, 0, 0, 1, 1, 1]), r: t([1, 3], [5, 6, 7]) };
    const run = (f: string) => prepare(f, vals).nodes.at(-1)!.shape;
    expect(run('v + c')).toEqual([3, 1]);
    expect(run('c .* v')).toEqual([3, 1]);
    expect(run('v + M')).toEqual([2, 3]);
    expect(run('v + r')).toEqual([1, 3]);
    // an outer sum only when asked for with a row
    expect(run("c + v'")).toEqual([3, 3]);
    const sum = grad('sum(v + c)', vals, { check: false, forwardMode: false });
    expect(sum.value).toBe(66);
    expect(sum.gradient.v).toEqual([1, 1, 1]);
    expect(sum.gradient.c).toEqual([[1], [1], [1]]);
  });

  it('a vector beside a column of another length is a shape error, not an outer sum', () => {
    const vals = { v: t([3], [1, 2, 3]), c: t([2, 1], [10, 20]) };
    expect(() => prepare('v + c', vals)).toThrow(/vectors are columns here, and a column of 3 does not match one of 2/);
    expect(prepare("c + v'", vals).nodes.at(-1)!.shape).toEqual([2, 3]);
  });

  it('onehot(i, n) is a constant column with a 1 at entry i (1-based); i may be a given integer', () => {
    const r = grad('sum((p - onehot(y, 3)).^2)', { p: [0.2, 0.5, 0.3], y: 2 }, { check: false, forwardMode: false });
    expect(r.value).toBeCloseTo(0.04 + 0.25 + 0.09, 14);
    expect(r.gradient.p).toEqual([0.4, -1, 0.6].map((x) => expect.closeTo(x, 14)));
    expect(r.indexVariables).toEqual(['y']);
    const err = (f: string, vals: Record<string, number | number[]>) => {
      try {
        grad(f, vals);
      } catch (e) {
        return e as AgError;
      }
      throw new Error(`${f} did not throw`);
    };
    expect(err('sum(p - onehot(y, 3))', { p: [1, 2, 3], y: 4 }).message).toMatch(/the one-hot index y = 4 is out of range \(1 to 3/);
    expect(err('sum(p - onehot(0, 3))', { p: [1, 2, 3] }).message).toMatch(/one-hot index 0 is out of range/);
    expect(err('sum(p - onehot(1.5, 3))', { p: [1, 2, 3] }).message).toMatch(/one-hot index must be an integer, not 1.5/);
    expect(err('sum(p - onehot(1, 0))', { p: [1, 2, 3] }).message).toMatch(/at least 1/);
    expect(err('sum(p - onehot(p[1], 3))', { p: [1, 2, 3] }).code).toBe('index');
    expect(err('sum(p - onehot(1, 4))', { p: [1, 2, 3] }).message).toMatch(/\[3\] - \[4\]/);
    // the length is checked against the entry limit before anything is allocated
    expect(err('sum(p - onehot(1, 1e12))', { p: [1, 2, 3] }).code).toBe('limit');
  });
});

describe('softmax, logsoftmax, logsumexp along a dimension', () => {
  const rng = new Rng(11);
  const Z = t(
    [3, 4],
    Array.from({ length: 12 }, () => 3 * rng.normal()),
  );
  const z = t([3, 1], [-15 * 0.5 + 22 * -0.2, -15 * 0.1 + 22 * 0.3 + 0.2, -15 * -0.4 + 22 * 0.2 - 0.3]);
  const at = (f: string, vals: Record<string, Tensor>) => grad(f, vals, { check: false, forwardMode: false }).value;
  const softmax = (xs: number[]) => {
    const m = Math.max(...xs);
    const e = xs.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };

  it('dimension 1 runs down the columns, 2 along the rows; without one a matrix is taken row by row', () => {
    const vals = { Z };
    const rows = [0, 1, 2].map((i) => Array.from(Z.data.subarray(4 * i, 4 * i + 4)));
    const cols = [0, 1, 2, 3].map((j) => [0, 1, 2].map((i) => Z.data[4 * i + j]));
    const tape = (f: string) => prepare(f, vals);
    // values, by reading single entries through indexing
    for (let i = 1; i <= 3; i++) {
      for (let j = 1; j <= 4; j++) {
        const byRow = at(`softmax(Z, 2)[${i},${j}]`, vals);
        const byDefault = at(`softmax(Z)[${i},${j}]`, vals);
        const byCol = at(`softmax(Z, 1)[${i},${j}]`, vals);
        expect(byRow).toBeCloseTo(softmax(rows[i - 1])[j - 1], 14);
        expect(byDefault).toBe(byRow);
        expect(byCol).toBeCloseTo(softmax(cols[j - 1])[i - 1], 14);
      }
    }
    // the reduced dimension is kept, as sum's: a row of column results, a column of row results
    expect(tape('logsumexp(Z, 1)').nodes.at(-1)!.shape).toEqual([1, 4]);
    expect(tape('logsumexp(Z, 2)').nodes.at(-1)!.shape).toEqual([3, 1]);
    expect(tape('logsumexp(Z)').nodes.at(-1)!.shape).toEqual([3, 1]);
    const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
    expect(at('logsumexp(Z, 1)[1, 2]', vals)).toBeCloseTo(lse(cols[1]), 13);
    expect(at('logsumexp(Z, 2)[3, 1]', vals)).toBeCloseTo(lse(rows[2]), 13);
    // so Z - logsumexp(Z) is logsoftmax(Z), row by row, on a square batch too
    const sq = { Q: t([3, 3], [0.5, -1, 2, 1.5, 0.25, -0.75, 3, 1, -2]) };
    for (let i = 1; i <= 3; i++) {
      for (let j = 1; j <= 3; j++) expect(at(`(Q - logsumexp(Q))[${i},${j}]`, sq)).toBeCloseTo(at(`logsoftmax(Q)[${i},${j}]`, sq), 14);
    }
    // softmax(Z, 1) is softmax(Z', 2)', and its gradients agree too
    for (const fn of ['softmax', 'logsoftmax']) {
      const C = t(
        [3, 4],
        Array.from({ length: 12 }, () => rng.normal()),
      );
      const a = grad(`sum(C .* ${fn}(Z, 1))`, { Z, C }, { check: false, forwardMode: false, wrt: ['Z'] });
      const b = grad(`sum(C .* ${fn}(Z', 2)')`, { Z, C }, { check: false, forwardMode: false, wrt: ['Z'] });
      expectSame([a.value], [b.value], `${fn} value`);
      expectSame(flat(a.gradient.Z), flat(b.gradient.Z), `${fn} gradient`);
    }
  });

  it("the lecture's column logits: softmax(W*x+b, 1) gives p − e_y and (p − e_y)·xᵀ", () => {
    const vals = {
      W: [
        [0.5, -0.2],
        [0.1, 0.3],
        [-0.4, 0.2],
      ],
      x: [[-15], [22]],
      b: [[0], [0.2], [-0.3]],
      y: 2,
    };
    const r = grad('-log(softmax(W*x+b, 1)[y,1])', vals);
    const logits = [0, 1, 2].map((i) => vals.W[i][0] * -15 + vals.W[i][1] * 22 + vals.b[i][0]);
    const p = softmax(logits);
    const d = p.map((v, i) => v - (i === 1 ? 1 : 0));
    expect(r.value).toBeCloseTo(-Math.log(p[1]), 12);
    expectSame(flat(r.gradient.b), d, '∂/∂b');
    expectSame(
      flat(r.gradient.W),
      d.flatMap((v) => [v * -15, v * 22]),
      '∂/∂W',
    );
    expect(r.check!.passed).toBe(true);
    // the same written as a cross-entropy with logsumexp and a one-hot row
    const s = grad("logsumexp(W*x+b, 1) - onehot(y, 3)'*(W*x+b)", vals);
    expect(flat(s.value)[0]).toBeCloseTo(r.value, 12);
    expectSame(flat(s.gradient.W), flat(r.gradient.W), 'logsumexp form ∂/∂W');
  });

  it('a column without a dimension is an error that shows the fix; a row is one lane', () => {
    const err = (f: string, vals: Record<string, Tensor>) => {
      try {
        prepare(f, vals);
      } catch (e) {
        return e as AgError;
      }
      throw new Error(`${f} did not throw`);
    };
    for (const fn of ['softmax', 'logsoftmax', 'logsumexp']) {
      const col = err(`${fn}(z)`, { z });
      expect(col.message).toBe(`${fn}(z): z is a column [3,1]: without a dimension a matrix is taken row by row, and each row here has one entry`);
      expect(col.hint).toBe(`write ${fn}(z, 1): dimension 1 runs down the columns`);
      expect(col.span).toEqual({ start: 0, end: fn.length });
      // a one-row matrix needs no dimension: its only lane is the row
      const r = { r: t([1, 3], [1, 2, 3]) };
      expect(at(`sum(${fn}(r))`, r)).toBe(at(`sum(${fn}(r, 2))`, r));
      expect(err(`${fn}(r, 1)`, r).hint).toBe(`write ${fn}(r, 2): dimension 2 runs along the rows`);
      expect(err(`${fn}(z, 2)`, { z }).hint).toBe(`write ${fn}(z, 1): dimension 1 runs down the columns`);
      expect(err(`${fn}(v, 2)`, { v: t([3], [1, 2, 3]) }).message).toMatch(/v is a vector, a column \[3\]/);
      expect(err(`${fn}(z, 3)`, { z }).message).toBe('the dimension must be 1 or 2, not 3');
      if (fn !== 'logsumexp') expect(err(`${fn}(s)`, { s: t([], [1]) }).message).toMatch(/s is a scalar/);
    }
    // a scalar's logsumexp is the scalar
    expect(at('logsumexp(s)', { s: t([], [-2.5]) })).toBe(-2.5);
    // a vector is one lane, with or without its dimension 1
    const v = { v: t([3], [1, 2, 3]) };
    for (const k of [1, 2, 3]) expect(at(`softmax(v, 1)[${k}]`, v)).toBeCloseTo(softmax([1, 2, 3])[k - 1], 15);
    expect(at('logsumexp(v, 1)', v)).toBe(at('logsumexp(v)', v));
  });
});
