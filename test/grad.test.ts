import { describe, expect, it } from 'vitest';
import { grad, parseFormula } from '../src/subjects/formula/grad.js';
import { limitsFrom } from '../src/core/limits.js';
import { parseAt } from '../src/core/values.js';
import { Rng } from '../src/core/random.js';

/** The tensor exercises of the lectures, against gradients derived by hand in plain loops. */
type M = number[][];
const rand = (rng: Rng, m: number, n: number): M => Array.from({ length: m }, () => Array.from({ length: n }, () => rng.normal()));
const vec = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.normal());
const mv = (W: M, x: number[]) => W.map((r) => r.reduce((s, v, j) => s + v * x[j], 0));
const mm = (A: M, B: M) => A.map((r) => B[0].map((_, j) => r.reduce((s, v, k) => s + v * B[k][j], 0)));
const T = (A: M) => A[0].map((_, j) => A.map((r) => r[j]));
const outer = (a: number[], b: number[]) => a.map((u) => b.map((v) => u * v));

function expectClose(got: unknown, want: unknown, tol = 1e-12, path = '') {
  if (typeof want === 'number') {
    expect(typeof got, path).toBe('number');
    expect(Math.abs((got as number) - want), `${path}: ${got} vs ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
    return;
  }
  expect(Array.isArray(got), path).toBe(true);
  expect((got as unknown[]).length, path).toBe((want as unknown[]).length);
  (want as unknown[]).forEach((w, i) => expectClose((got as unknown[])[i], w, tol, `${path}[${i + 1}]`));
}

describe('tensor lectures', () => {
  const rng = new Rng(2024);

  it('||Wx||²: ∂/∂W = 2·q·xᵀ and ∂/∂x = 2·Wᵀq with q = Wx', () => {
    const W = rand(rng, 3, 4);
    const x = vec(rng, 4);
    const r = grad('sum((W*x).^2)', { W, x });
    const q = mv(W, x);
    expectClose(
      r.gradient.W,
      outer(
        q.map((v) => 2 * v),
        x,
      ),
    );
    expectClose(
      r.gradient.x,
      mv(
        T(W),
        q.map((v) => 2 * v),
      ),
    );
    expectClose(r.forward!.W, r.gradient.W);
    expect(r.check!.passed).toBe(true);
    expect(r.check!.mode).toBe('full');
  });

  it('softmax cross-entropy -log(softmax(W*x + b)[y]): ∂/∂b = p − e_y, ∂/∂W = (p − e_y)xᵀ', () => {
    const W = rand(rng, 5, 3);
    const x = vec(rng, 3);
    const b = vec(rng, 5);
    const y = 4;
    const r = grad('-log(softmax(W*x + b)[y])', { W, x, b, y });
    const s = mv(W, x).map((v, i) => v + b[i]);
    const m = Math.max(...s);
    const z = s.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const p = s.map((v) => Math.exp(v - m) / z);
    const d = p.map((v, i) => v - (i === y - 1 ? 1 : 0));
    expectClose(r.value, -Math.log(p[y - 1]));
    expectClose(r.gradient.b, d);
    expectClose(r.gradient.W, outer(d, x));
    expect(r.variables).not.toContain('y');
    expect(r.indexVariables).toEqual(['y']);
    expect(r.check!.passed).toBe(true);
  });

  it('multiclass SVM hinge loss s = W*x; sum(max(0, s - s[y] + 1)) - 1', () => {
    const W = rand(rng, 4, 3);
    const x = vec(rng, 3);
    const y = 2;
    const r = grad('s = W*x; sum(max(0, s - s[y] + 1)) - 1', { W, x, y });
    const s = mv(W, x);
    const ds: number[] = s.map((v, j) => (j !== y - 1 && v - s[y - 1] + 1 > 0 ? 1 : 0));
    ds[y - 1] = -ds.reduce((a, v) => a + v, 0);
    const loss = s.reduce((a, v, j) => a + (j === y - 1 ? 0 : Math.max(0, v - s[y - 1] + 1)), 0);
    expectClose(r.value, loss);
    expectClose(r.gradient.W, outer(ds, x));
    expectClose(r.gradient.x, mv(T(W), ds));
  });

  it('binary logistic loss with sigmoid(dot(w, x) + b): ∂/∂w = (σ − y)x, ∂/∂b = σ − y', () => {
    const w = vec(rng, 4);
    const x = vec(rng, 4);
    const b = 0.3;
    const y = 1;
    const r = grad('p = sigmoid(dot(w, x) + b); -(y*log(p) + (1 - y)*log(1 - p))', { w, x, b, y }, { wrt: ['w', 'b'] });
    const sg = 1 / (1 + Math.exp(-(w.reduce((a, v, i) => a + v * x[i], 0) + b)));
    expectClose(
      r.gradient.w,
      x.map((v) => (sg - y) * v),
      1e-10,
    );
    expectClose(r.gradient.b, sg - y, 1e-10);
    expect(Object.keys(r.gradient)).toEqual(['w', 'b']);
  });

  it('two-layer ReLU net at N=64, D_in=1000, H=100, D_out=10 from randn (directional check)', () => {
    const values = parseAt(['X=randn(64,1000), W1=randn(1000,100)*0.03, W2=randn(100,10)*0.1, Y=randn(64,10)'], { seed: 1 });
    const r = grad('sum((max(X*W1, 0)*W2 - Y).^2)', values, { wrt: ['W1', 'W2'], edges: false });
    const X = toM(values.X);
    const W1 = toM(values.W1);
    const W2 = toM(values.W2);
    const Y = toM(values.Y);
    const h = mm(X, W1).map((row) => row.map((v) => Math.max(v, 0)));
    const pred = mm(h, W2);
    const g = pred.map((row, i) => row.map((v, j) => 2 * (v - Y[i][j])));
    const gW2 = mm(T(h), g);
    const gh = mm(g, T(W2)).map((row, i) => row.map((v, j) => (h[i][j] > 0 ? v : 0)));
    const gW1 = mm(T(X), gh);
    expectClose(r.gradient.W2, gW2, 1e-10);
    expectClose(r.gradient.W1, gW1, 1e-10);
    expect(r.check!.mode).toBe('directional');
    expect(r.check!.directions!.length).toBe(4);
    expect(r.check!.entries.length).toBe(64);
    expect(r.check!.passed).toBe(true);
    expect(r.forward).toBeNull();
    expect(r.warnings.map((w) => w.code)).toContain('directional');
  });
});

function toM(t: { shape: readonly number[]; data: Float64Array }): M {
  const [m, n] = t.shape;
  return Array.from({ length: m }, (_, i) => Array.from(t.data.subarray(i * n, i * n + n)));
}

describe('checks that must fail, and say where', () => {
  it('names the worst entries, 1-based, when a gradient is wrong', async () => {
    // a rule broken on purpose: the check, not the engine, is under test here
    const { checkGradient } = await import('../src/verify/fd.js');
    const { prepare } = await import('../src/subjects/formula/grad.js');
    const { jsEngine } = await import('../src/core/engine/js.js');
    const { makeArena } = await import('../src/core/graph/tape.js');
    const values = parseAt(['W=[[1,2,3],[4,5,6]]'], { seed: 1 });
    const tape = prepare('sum(W.^2)', values);
    const arena = makeArena(tape, values);
    jsEngine.forward(tape, arena);
    const ad = Float64Array.from([2, 4, 6, 8, 10, 12]);
    ad[5] = 11; // W[2,3]
    ad[1] = 4.5; // W[1,2]
    const c = checkGradient(jsEngine, tape, arena, ad);
    expect(c.passed).toBe(false);
    expect(c.failures.map((f) => f.entry)).toEqual(['W[2,3]', 'W[1,2]']);
    expect(c.failures[0].fd).toBeCloseTo(12, 6);
    expect(c.failures[0].ad).toBe(11);
  });
});

describe('a formula parsed once', () => {
  it('is parsed again only for another formula or other limits, and the limits still hold', () => {
    const limits = limitsFrom({});
    const p = parseFormula('x*y + 1', limits);
    expect(parseFormula('x*y + 1', limits)).toBe(p);
    const other = parseFormula('x*y + 2', limits);
    expect(other).not.toBe(p);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(p));
    expect(parseFormula('x*y + 1', limitsFrom({ maxLength: 100 }))).not.toBe(p);
    parseFormula('x*y + 1', limits);
    expect(() => parseFormula('x*y + 1', limitsFrom({ maxLength: 3 }))).toThrow(/--max-length/);
    // grad at one point, then another, of the formula parsed last
    expect(grad('x*y + 1', { x: 2, y: 3 }, { limits }).value).toBe(7);
    expect(grad('x*y + 1', { x: 4, y: 5 }, { limits }).value).toBe(21);
    expect(grad('x*y + 1', { x: 4, y: 5 }, { limits }).gradient).toEqual({ x: 5, y: 4 });
  });
});
