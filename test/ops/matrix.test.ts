import { describe, expect, it } from 'vitest';
import { jsEngine } from '../../src/core/engine/js.js';
import { loadNative } from '../../src/core/engine/native.js';
import type { Engine } from '../../src/core/engine/types.js';
import { TapeWriter } from '../../src/core/graph/append.js';
import { appendGradient, appendTangent } from '../../src/core/graph/gradient.js';
import { makeArena, view, type Tape } from '../../src/core/graph/tape.js';
import { luDet, luFactor, luSolve } from '../../src/core/ops/matrix.js';
import type { GraphNode } from '../../src/core/ops/types.js';
import type { Tensor } from '../../src/core/tensor.js';
import { prepare } from '../../src/subjects/formula/grad.js';
import { randomTensors } from '../derive/random.js';

/**
 * det, logdet, inv, adj and solve: their values against matrices whose answers are known, and
 * their one statement of each derivative (graph rules) run as gradient and tangent tapes
 * against central finite differences at random well-conditioned points, reverse against
 * forward, and through a second derivative.
 */
const { randn, spd } = randomTensors(2026);
/** a random matrix made well conditioned: A + n·I */
const wellConditioned = (n: number): Tensor => {
  const a = randn(n, n);
  for (let i = 0; i < n; i++) a.data[i * n + i] += n;
  return a;
};

function value(formula: string, values: Record<string, Tensor>, engine: Engine = jsEngine): Float64Array {
  const tape = prepare(formula, values);
  const arena = makeArena(tape, values);
  engine.forward(tape, arena);
  return view(arena, tape.nodes[tape.output]).slice();
}

/** The gradient of a scalar formula as a gradient tape, and the tangent along `dirs` as a tangent tape. */
function derivatives(
  formula: string,
  values: Record<string, Tensor>,
  dirs: Record<string, Tensor>,
  engine: Engine = jsEngine,
): { grad: Record<string, Float64Array>; tangent: number } {
  const tape = prepare(formula, values);
  const w = new TapeWriter(tape);
  const inputs = tape.inputs.map((i) => i.node);
  const grads = appendGradient(w, tape.output, inputs);
  const from = new Map<GraphNode, GraphNode>();
  tape.inputs.forEach((inp) => from.set(inp.node, w.constant(dirs[inp.name])));
  const tan = appendTangent(w, tape.output, from);
  const keep = [...grads, tan].filter((x): x is number => x !== null);
  const { tape: t, ids } = w.finish(tape.output, keep);
  const arena = makeArena(t, values);
  engine.forward(t, arena);
  const read = (id: number | null, size: number) => (id === null ? new Float64Array(size) : view(arena, (t as Tape).nodes[ids[id]]).slice());
  const grad = Object.fromEntries(tape.inputs.map((inp, k) => [inp.name, read(grads[k], tape.nodes[inp.node].size)]));
  return { grad, tangent: read(tan, 1)[0] };
}

/** Central differences of a scalar formula, entry by entry. */
function fd(formula: string, values: Record<string, Tensor>, name: string): Float64Array {
  const x = values[name];
  const out = new Float64Array(x.data.length);
  for (let k = 0; k < x.data.length; k++) {
    const h = 1e-6 * Math.max(1, Math.abs(x.data[k]));
    const at = (d: number) => {
      const data = x.data.slice();
      data[k] += d;
      return value(formula, { ...values, [name]: { shape: x.shape, data } })[0];
    };
    out[k] = (at(h) - at(-h)) / (2 * h);
  }
  return out;
}

function expectClose(got: Float64Array, want: Float64Array, rel: number, what: string): void {
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  got.forEach((g, k) => expect(Math.abs(g - want[k]), `${what}[${k}]: ${g} vs ${want[k]}`).toBeLessThanOrEqual(rel * scale));
}

describe('matrix functions: values', () => {
  it('det, logdet, inv and solve of matrices with known answers', () => {
    const A: Tensor = { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) };
    expect(value('det(A)', { A })[0]).toBeCloseTo(-2, 14);
    expect(Array.from(value('inv(A)', { A }))).toEqual([-2, 1, 1.5, -0.5].map((v) => expect.closeTo(v, 14)));
    const S: Tensor = { shape: [3, 3], data: Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2) };
    // det by cofactors: 4(6 − 1) − 1(2 − 0) = 18
    expect(value('det(S)', { S })[0]).toBeCloseTo(18, 12);
    expect(value('logdet(S)', { S })[0]).toBeCloseTo(Math.log(18), 14);
    const b: Tensor = { shape: [3], data: Float64Array.of(1, 2, 3) };
    const x = value('solve(S, b)', { S, b });
    // S·x = b
    for (let i = 0; i < 3; i++) expect(S.data[i * 3] * x[0] + S.data[i * 3 + 1] * x[1] + S.data[i * 3 + 2] * x[2]).toBeCloseTo(b.data[i], 13);
    // inv(S)*S = I
    const I = value('inv(S)*S', { S });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(I[i * 3 + j]).toBeCloseTo(i === j ? 1 : 0, 13);
  });

  it('a pivot moves the largest entry up: det of a permutation matrix is its sign', () => {
    const P: Tensor = { shape: [3, 3], data: Float64Array.of(0, 1, 0, 0, 0, 1, 1, 0, 0) };
    expect(value('det(P)', { P })[0]).toBe(1);
    const Q: Tensor = { shape: [3, 3], data: Float64Array.of(0, 1, 0, 1, 0, 0, 0, 0, 1) };
    expect(value('det(Q)', { Q })[0]).toBe(-1);
  });

  it('a singular matrix: det 0, logdet -Infinity, inv and solve NaN (never a number that looks right)', () => {
    const Z: Tensor = { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) };
    expect(value('det(Z)', { Z })[0]).toBe(0);
    expect(value('logdet(Z)', { Z })[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(Array.from(value('inv(Z)', { Z })).every(Number.isNaN)).toBe(true);
    expect(Array.from(value('solve(Z, [1, 1])', { Z })).every(Number.isNaN)).toBe(true);
    const f = luFactor(Z.data, 2);
    expect(f.singular).toBe(true);
    expect(luDet(f, 2)).toBe(0);
    const x = new Float64Array(2);
    luSolve(f, 2, Float64Array.of(1, 1), 1, x);
    expect(Number.isNaN(x[0])).toBe(true);
  });

  it('adj(A), the adjugate: det(A)·inv(A) where A is invertible, the cofactors where it is not', () => {
    const A: Tensor = { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) };
    expect(Array.from(value('adj(A)', { A }))).toEqual([4, -2, -3, 1].map((v) => expect.closeTo(v, 14)));
    // singular, rank 1: adj = [d, −b; −c, a]
    const Z: Tensor = { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) };
    expect(Array.from(value('adj(Z)', { Z }))).toEqual([4, -2, -2, 1]);
    // singular 3×3 (row 3 = row 1 + row 2): A·adj(A) = det(A)·I = 0, adj ≠ 0 (rank 2)
    const S: Tensor = { shape: [3, 3], data: Float64Array.of(1, 2, 3, 0, 1, 4, 1, 3, 7) };
    const adjS = value('adj(S)', { S });
    expect(Array.from(adjS).some((v) => v !== 0)).toBe(true);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(S.data[i * 3] * adjS[j] + S.data[i * 3 + 1] * adjS[3 + j] + S.data[i * 3 + 2] * adjS[6 + j]).toBeCloseTo(0, 12);
    // rank 1: every cofactor is 0
    expect(Array.from(value('adj(O)', { O: { shape: [3, 3], data: Float64Array.of(1, 2, 3, 2, 4, 6, 3, 6, 9) } })).every((v) => v === 0)).toBe(true);
    expect(Array.from(value('adj(x)', { x: { shape: [], data: Float64Array.of(0) } }))).toEqual([1]);
    const W = wellConditioned(4);
    const d = value('det(W)', { W })[0];
    expectClose(
      value('adj(W)', { W }),
      value('inv(W)', { W }).map((v) => v * d),
      1e-13,
      'det(W)·inv(W)',
    );
  });

  it('∂ det(A)/∂A where A is singular is adj(A)ᵀ, finite (as finite differences give), not NaN', () => {
    for (const Z of [
      { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) },
      { shape: [3, 3], data: Float64Array.of(1, 2, 3, 0, 1, 4, 1, 3, 7) },
    ] as Tensor[]) {
      const { grad, tangent } = derivatives('det(Z)', { Z }, { Z: { shape: Z.shape, data: Z.data.map(() => 1) } });
      expectClose(grad.Z, fd('det(Z)', { Z }, 'Z'), 1e-7, '∂ det(Z)/∂Z');
      expect(tangent).toBeCloseTo(
        grad.Z.reduce((s, v) => s + v, 0),
        12,
      );
    }
  });

  it('logdet of a matrix with a negative determinant is NaN, as log of a negative number', () => {
    expect(Number.isNaN(value('logdet(A)', { A: { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) } })[0])).toBe(true);
  });

  it('non-square matrices and mismatched right-hand sides are refused when the formula is built', () => {
    expect(() => prepare('det(A)', { A: randn(2, 3) })).toThrow(/det needs a square matrix, not \[2×3\]|det needs a square matrix/);
    expect(() => prepare('solve(A, b)', { A: randn(3, 3), b: randn(2) })).toThrow(/solve\(A, b\) needs b with 3 rows/);
  });
});

describe('matrix functions: each derivative from its one graph rule', () => {
  const cases: [string, () => Record<string, Tensor>][] = [
    ['det(A)', () => ({ A: wellConditioned(3) })],
    ['det(A)^2 + det(A)', () => ({ A: wellConditioned(4) })],
    ['logdet(S)', () => ({ S: spd(3) })],
    ['log(det(inv(X)))', () => ({ X: spd(3) })],
    ['sum(inv(A).^2)', () => ({ A: wellConditioned(3) })],
    ["u' * inv(A) * v", () => ({ A: wellConditioned(4), u: randn(4), v: randn(4) })],
    ['sum(solve(A, b).^2)', () => ({ A: wellConditioned(3), b: randn(3) })],
    ['sum(sin(solve(A, B)))', () => ({ A: wellConditioned(3), B: randn(3, 2) })],
    ['trace(inv(A) * B)', () => ({ A: wellConditioned(3), B: randn(3, 3) })],
    ['sum(adj(A) .* B)', () => ({ A: wellConditioned(3), B: randn(3, 3) })],
    ["u' * adj(A) * v + det(A)", () => ({ A: wellConditioned(4), u: randn(4), v: randn(4) })],
  ];
  for (const [formula, make] of cases) {
    it(`${formula}: reverse = finite differences, forward = reverse · direction, at random points`, () => {
      for (let trial = 0; trial < 3; trial++) {
        const values = make();
        const dirs = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, randn(...v.shape)]));
        const { grad, tangent } = derivatives(formula, values, dirs);
        let along = 0;
        for (const [name, v] of Object.entries(values)) {
          expectClose(grad[name], fd(formula, values, name), 1e-6, `∂(${formula})/∂${name}`);
          grad[name].forEach((g, k) => (along += g * dirs[name].data[k]));
          expect(v.data.length).toBe(grad[name].length);
        }
        expect(Math.abs(tangent - along)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(along)));
      }
    });
  }

  it("the Cookbook's identities: ∂ log det X/∂X = X⁻ᵀ, ∂ det X/∂X = det(X) X⁻ᵀ", () => {
    const X = wellConditioned(3);
    const invT = (() => {
      const i = value('inv(X)', { X });
      return Float64Array.from({ length: 9 }, (_, k) => i[(k % 3) * 3 + Math.floor(k / 3)]);
    })();
    const dirs = { X: randn(3, 3) };
    const S = spd(3);
    const sInv = value('inv(S)', { S });
    expectClose(derivatives('logdet(S)', { S }, { S: randn(3, 3) }).grad.S, sInv, 1e-12, 'inv(S) (symmetric)');
    const d = value('det(X)', { X })[0];
    expectClose(
      derivatives('det(X)', { X }, dirs).grad.X,
      invT.map((v) => v * d),
      1e-12,
      'det(X) X⁻ᵀ',
    );
  });
});

describe('matrix functions: the native engine', () => {
  const native = loadNative().engine;
  it('gives the same numbers as the TypeScript engine (one LU, the same order), values and gradient tapes', () => {
    expect(native, 'the native engine must load here').toBeTruthy();
    for (const [formula, values] of [
      ['det(A)', { A: wellConditioned(5) }],
      ['logdet(S)', { S: spd(6) }],
      ['sum(inv(A))', { A: wellConditioned(7) }],
      ['sum(solve(A, B))', { A: wellConditioned(4), B: randn(4, 3) }],
      ['det(Z) + logdet(Z)', { Z: { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) } }],
      ['sum(inv(Z))', { Z: { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) } }],
      ['sum(adj(A) .* A)', { A: wellConditioned(5) }],
      ['det(Z) + sum(adj(Z))', { Z: { shape: [3, 3], data: Float64Array.of(1, 2, 3, 0, 1, 4, 1, 3, 7) } }],
    ] as [string, Record<string, Tensor>][]) {
      expect(Array.from(value(formula, values, native!)), formula).toEqual(Array.from(value(formula, values)));
      const dirs = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, randn(...v.shape)]));
      const js = derivatives(formula, values, dirs);
      const nat = derivatives(formula, values, dirs, native!);
      for (const name of Object.keys(values)) expect(Array.from(nat.grad[name]), `∂${formula}/∂${name}`).toEqual(Array.from(js.grad[name]));
    }
  });
});

describe('matrix functions: a singular matrix is named, not NaN soup', () => {
  it('the non-finite diagnosis says the matrix is singular or has a negative determinant', async () => {
    const { diagnoseForward } = await import('../../src/verify/nonfinite.js');
    const say = (formula: string, values: Record<string, Tensor>) => {
      const tape = prepare(formula, values);
      const arena = makeArena(tape, values);
      jsEngine.forward(tape, arena);
      return diagnoseForward(tape, arena).message;
    };
    const Z: Tensor = { shape: [2, 2], data: Float64Array.of(1, 2, 2, 4) };
    expect(say('sum(inv(Z))', { Z })).toMatch(/starts at inv \(inv\(Z\) at column 5\), where its matrix is singular/);
    expect(say('sum(solve(Z, [1, 2]))', { Z })).toMatch(/where its matrix is singular/);
    expect(say('logdet(Z)', { Z })).toMatch(/logdet .* where its matrix is singular \(det = 0\)/);
    expect(say('logdet(A)', { A: { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) } })).toMatch(/negative determinant/);
  });
});

describe('matrix functions: large matrices in the native engine (LAPACK where the BLAS has it)', () => {
  it('a 100×100 and a 200×200 matrix: native agrees with the TypeScript LU to rounding', () => {
    const native = loadNative().engine;
    expect(native, 'the native engine must load here').toBeTruthy();
    for (const n of [100, 200]) {
      const values = { A: wellConditioned(n), B: randn(n, 3) };
      for (const formula of ['logdet(A)', 'sum(inv(A))', 'sum(solve(A, B))', `det(A/${n})`]) {
        const js = value(formula, values);
        const nat = value(formula, values, native!);
        expectClose(nat, js, 1e-9, `${formula} at n = ${n}`);
      }
    }
  });
});
