import { describe, expect, it } from 'vitest';
import type { AgError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { grad, prepare } from '../../src/subjects/formula/grad.js';
import { spawnSync } from 'node:child_process';
import { pythonWith } from '../helpers.js';

/**
 * Reductions along a dimension keep it (issue 25 item 1) for max, min and norm too:
 * max(A, [], d) and min(A, [], d) as MATLAB writes them (ties of a row or column split
 * evenly, torch.amax's convention; forward mode the mean of the tied tangents), and
 * norm(A, p, d), MATLAB's vecnorm (torch.linalg.vector_norm(dim, keepdim=True)), with
 * gradient 0 on a row whose norm is 0. The values below are worked by hand.
 */
const ENGINES = ['js', 'native'] as const;
const rng = new Rng(25);
const randn = (...shape: number[]): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
const shapeOf = (f: string, values: Record<string, Tensor | number[][] | number[]>) => {
  const tape = prepare(f, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, 'data' in v ? v : toTensor(v)])));
  return tape.nodes[tape.output].shape;
};
const toTensor = (v: number[][] | number[]): Tensor =>
  Array.isArray(v[0])
    ? { shape: [v.length, (v[0] as number[]).length], data: Float64Array.from((v as number[][]).flat()) }
    : { shape: [v.length], data: Float64Array.from(v as number[]) };
const refusal = (f: string, values: Record<string, number[][] | number[] | number>): AgError => {
  try {
    grad(f, values, { check: false });
  } catch (e) {
    return e as AgError;
  }
  throw new Error(`${f} was not refused`);
};

describe('max(A, [], d) and min(A, [], d): along a dimension, keeping it', () => {
  const A = [
    [1, 5, 3],
    [4, 2, 6],
  ];
  it('shapes: along the rows a column [m,1], down the columns a row [1,n]; of a vector, dimension 1 is all of it', () => {
    expect(shapeOf('max(A, [], 2)', { A })).toEqual([2, 1]);
    expect(shapeOf('min(A, [], 1)', { A })).toEqual([1, 3]);
    expect(shapeOf('max(v, [], 1)', { v: [1, 7, 2] })).toEqual([]);
    // the kept dimension broadcasts as that dimension: each row minus its own max, never a row read across
    const B = [
      [1, 5, 3],
      [4, 2, 6],
      [0, 9, 8],
    ];
    const r = grad('sum(sum(A - max(A, [], 2)))', { A: B }, { check: false });
    expect(r.value).toBe(1 - 5 + 3 - 5 + 5 - 5 + (4 - 6 + 2 - 6) + (0 - 9 + 8 - 9));
  });

  for (const engine of ENGINES) {
    it(`values and gradients, no ties (${engine})`, () => {
      const r = grad('sum(max(A, [], 2)) + 10*sum(min(A, [], 1))', { A }, { engine });
      expect(r.value).toBe(5 + 6 + 10 * (1 + 2 + 3));
      expect(r.gradient.A).toEqual([
        [10, 1, 10],
        [0, 10, 1],
      ]);
      expect(r.forward).toEqual(r.gradient);
      expect(r.check!.passed).toBe(true);
    });

    it(`ties split evenly within each row or column, in reverse and forward mode (${engine})`, () => {
      const T = [
        [1, 5, 5],
        [2, 2, 2],
      ];
      const rows = grad('sum(max(T, [], 2))', { T }, { engine });
      expect(rows.gradient.T).toEqual([
        [0, 0.5, 0.5],
        [1 / 3, 1 / 3, 1 / 3],
      ]);
      expect(rows.forward).toEqual(rows.gradient);
      const cols = grad('sum(min(T, [], 1))', { T }, { engine });
      expect(cols.gradient.T).toEqual([
        [1, 0, 0],
        [0, 1, 1],
      ]);
      // a weighted sum: each column's share is its own weight, split among its ties
      const w = grad(
        'max(T, [], 1)*c',
        {
          T: [
            [3, 1],
            [3, 0],
          ],
          c: [2, 7],
        },
        { engine },
      );
      expect(w.gradient.T).toEqual([
        [1, 7],
        [1, 0],
      ]);
      expect(w.forward).toEqual(w.gradient);
    });
  }

  it('native and TypeScript engines agree at random points, with the check passing', () => {
    for (let t = 0; t < 5; t++) {
      const values = { A: randn(4, 3), x: randn(3) };
      const f = 'sum(max(A, [], 2) .* (A*x)) + sum(min(A, [], 1) .^ 2)';
      const js = grad(f, values, { engine: 'js' });
      const nat = grad(f, values, { engine: 'native' });
      expect(nat.value).toBe(js.value);
      expect(JSON.stringify(nat.gradient)).toBe(JSON.stringify(js.gradient));
      expect(js.check!.passed).toBe(true);
      expect(nat.check!.passed).toBe(true);
    }
  });

  it('a vector along dimension 2, a dimension other than 1 or 2, a scalar: one clear error each', () => {
    const v = refusal('max(v, [], 2)', { v: [1, 2, 3] });
    expect(v.code).toBe('shape');
    expect(v.message).toMatch(/v is a vector, a column \[3\]: along dimension 2 each entry is alone/);
    expect(v.hint).toBe('write max(v) or max(v, [], 1)');
    expect(refusal('min(A, [], 3)', { A: [[1, 2]] }).message).toMatch(/the dimension must be 1 or 2, not 3/);
    expect(refusal('max(x, [], 1)', { x: 2 }).message).toMatch(/x is a scalar; only a vector or a matrix has a dimension to reduce along/);
    expect(refusal('sum(x, 2)', { x: 2 }).message).toMatch(/x is a scalar/);
  });

  it('max(A, 2) stays the elementwise max of A and 2, and says how to write the dimension form', () => {
    const r = grad('sum(max(A, 2))', { A: [[1, 5, 3]] });
    expect(r.value).toBe(2 + 5 + 3);
    expect(r.warnings).toContainEqual({
      code: 'notation',
      message: 'max(A, 2) is the elementwise max of A and 2; for the maximum along dimension 2 write max(A, [], 2)',
    });
    expect(grad('sum(min(A, 1))', { A: [[1, 5]] }).warnings.map((w) => w.message)).toContain(
      'min(A, 1) is the elementwise min of A and 1; for the minimum along dimension 1 write min(A, [], 1)',
    );
    // scalars, and numbers other than a dimension, read one way only: no note
    expect(grad('max(x, 2)', { x: 1 }).warnings.filter((w) => w.code === 'notation')).toEqual([]);
    expect(grad('sum(max(A, 0))', { A: [[1, -5]] }).warnings.filter((w) => w.code === 'notation')).toEqual([]);
  });
});

describe('norm(A, p, d): the 1-, 2- and ∞-norm of each row or column, keeping the dimension', () => {
  const A = [
    [3, -4],
    [0, 0],
  ];
  for (const engine of ENGINES) {
    it(`values, and a zero row gets gradient 0 (${engine})`, () => {
      const r = grad('sum(norm(A, 2, 2))', { A }, { engine });
      expect(r.value).toBe(5);
      expect(r.gradient.A).toEqual([
        [0.6, -0.8],
        [0, 0],
      ]);
      expect(grad('sum(norm(A, 1, 1))', { A }, { engine }).value).toBe(7);
      expect(grad('norm(A, 1, 1)*c', { A, c: [1, 10] }, { engine }).gradient.A).toEqual([
        [1, -10],
        [0, 0],
      ]);
    });

    it(`the ∞-norm splits a tie of |entries| within the lane, with their signs (${engine})`, () => {
      const r = grad(
        'sum(norm(B, Infinity, 2))',
        {
          B: [
            [3, -3],
            [1, 2],
          ],
        },
        { engine },
      );
      expect(r.value).toBe(3 + 2);
      expect(r.gradient.B).toEqual([
        [0.5, -0.5],
        [0, 1],
      ]);
      expect(r.forward).toEqual(r.gradient);
    });
  }

  it('shapes, and what is refused: "fro" along a dimension, a vector along dimension 2, an order other than 1, 2, Infinity', () => {
    expect(shapeOf('norm(A, 2, 2)', { A })).toEqual([2, 1]);
    expect(shapeOf('norm(A, Infinity, 1)', { A })).toEqual([1, 2]);
    expect(shapeOf('norm(v, 1, 1)', { v: [1, 2] })).toEqual([]);
    expect(refusal('sum(norm(A, "fro", 1))', { A }).message).toMatch(/"fro" is the norm of a whole matrix; along a dimension write 2/);
    expect(refusal('norm(v, 2, 2)', { v: [1, 2] }).hint).toBe('write norm(v, 2) or norm(v, 2, 1)');
    expect(refusal('sum(norm(A, 3, 2))', { A }).message).toMatch(/norm order 3 is not supported/);
  });

  it('native and TypeScript engines agree at random points; finite differences agree', () => {
    for (const p of ['1', '2', 'Infinity']) {
      for (const d of [1, 2]) {
        const values = { A: randn(3, 4) };
        const f = `sum(norm(A, ${p}, ${d}) .^ 2)`;
        const js = grad(f, values, { engine: 'js' });
        const nat = grad(f, values, { engine: 'native' });
        expect(nat.value, f).toBe(js.value);
        // the same numbers; a 0 may carry either sign (the engines run the rule as different graphs)
        expect(JSON.stringify(nat.gradient), f).toBe(JSON.stringify(js.gradient));
        expect(js.check!.passed, f).toBe(true);
      }
    }
  });
});

describe('derive prints the dimension forms so they read back', () => {
  it.each([
    ['sum(max(S, [], 2).^2)', /max\(S, \[\], 2\)/],
    ['sum(min(S, [], 1) .* norm(S, 1, 1))', /min\(S, \[\], 1\)/],
    ['sum(norm(S, 2, 2))', /^S \.\/ norm\(S, 2, 2\)$/],
  ])('%s', (f, printed) => {
    const r = derive(f, { at: { S: randn(4, 3) } });
    expect(r.check.passed).toBe(true);
    expect(r.derivatives.S).toMatch(printed);
    // checked at other shapes too: nothing in it is sized for these
    expect(r.check.shapes).toBeGreaterThan(1);
  });

  it("a mean over a lane's maxima: the 1/N is marked as sized for these shapes, and only that note is given", () => {
    const r = derive('mean(max(S, [], 1))', { at: { S: randn(4, 3) } });
    expect(r.check.passed).toBe(true);
    expect(r.check.shapes).toBe(1);
    expect(r.notes).toContain("mean(max(S, [], 1)) divides by N = 3: the derivative's 1/N is written as a number, for these shapes only");
    expect(r.notes.join('\n')).not.toMatch(/constants sized/);
  });
});

describe('PyTorch agrees: torch.amax/amin(dim, keepdim=True) and torch.linalg.vector_norm(ord, dim, keepdim=True)', () => {
  const TORCH_PY = pythonWith('numpy, torch');
  // each case: f(A) = Σ R(A) ⊙ C with C random, so every lane's gradient has its own weight
  const forms = [
    ['max(A, [], 1)', 'torch.amax(A, dim=0, keepdim=True)'],
    ['max(A, [], 2)', 'torch.amax(A, dim=1, keepdim=True)'],
    ['min(A, [], 1)', 'torch.amin(A, dim=0, keepdim=True)'],
    ['min(A, [], 2)', 'torch.amin(A, dim=1, keepdim=True)'],
    ...['1', '2', 'Infinity'].flatMap((p) => [
      [`norm(A, ${p}, 1)`, `torch.linalg.vector_norm(A, ord=${p === 'Infinity' ? "float('inf')" : p}, dim=0, keepdim=True)`],
      [`norm(A, ${p}, 2)`, `torch.linalg.vector_norm(A, ord=${p === 'Infinity' ? "float('inf')" : p}, dim=1, keepdim=True)`],
    ]),
  ];
  // random points, ties within rows and columns (and of |entries| of either sign), a zero row and a zero column
  const points: number[][][] = [
    [
      [0.3, -1.2, 0.7, 2.1],
      [-0.4, 0.9, -1.5, 0.2],
      [1.1, 0.05, -0.6, -2.2],
    ],
    [
      [2, 2, -2, 1],
      [2, 1, 1, 1],
      [-2, 1, 3, 3],
    ],
    [
      [0, 0, 0, 0],
      [1, -2, 0, 2],
      [3, 4, 0, -4],
    ],
  ];
  it('values and gradients in both engines, ties and zero lanes included', () => {
    expect(TORCH_PY, 'a python3 with NumPy and torch (apt-get install python3-numpy python3-torch)').toBeDefined();
    const cases = forms.flatMap(([ours, torch]) => points.map((A) => ({ ours, torch, A, C: randn(...shapeOf(ours, { A })).data })));
    const script = `import json, sys, torch
torch.set_default_dtype(torch.float64)
out = []
for c in json.load(sys.stdin):
    A = torch.tensor(c['A'], dtype=torch.float64, requires_grad=True)
    R = eval(c['torch'])
    y = (R * torch.tensor(c['C'], dtype=torch.float64).reshape(R.shape)).sum()
    y.backward()
    out.append({'value': y.item(), 'grad': A.grad.reshape(-1).tolist()})
print(json.dumps(out))
`;
    const r = spawnSync(TORCH_PY!, ['-c', script], {
      input: JSON.stringify(cases.map((c) => ({ A: c.A, torch: c.torch, C: [...c.C] }))),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const refs: { value: number; grad: number[] }[] = JSON.parse(r.stdout);
    cases.forEach((c, i) => {
      const shape = shapeOf(c.ours, { A: c.A });
      const C: Tensor = { shape, data: c.C };
      for (const engine of ENGINES) {
        const got = grad(`sum(${c.ours} .* C)`, { A: toTensor(c.A), C }, { engine, check: false, wrt: ['A'] });
        const where = `${c.ours} at ${JSON.stringify(c.A)} (${engine})`;
        expect(Math.abs(got.value - refs[i].value), where).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(refs[i].value)));
        (got.gradient.A as number[][]).flat().forEach((g, k) => expect(Math.abs(g - refs[i].grad[k]), `${where}: entry ${k}`).toBeLessThanOrEqual(1e-13));
      }
    });
  });
});
