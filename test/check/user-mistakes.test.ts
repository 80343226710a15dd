import { describe, expect, it } from 'vitest';
import { gradcheck, type FunctionGradcheckResult } from '../../src/api/gradcheck.js';
import { nameMistake } from '../../src/verify/mistakes.js';
import { renderFunctionCheck } from '../../src/report/gradcheck.js';
import { Rng } from '../../src/core/random.js';

// A user's own code: a loss with a hand-written gradient, and the same gradient with one
// planted bug. The check must name the bug's pattern, and name nothing where there is none.

type M = number[][];
const rng = new Rng(11);
const randn = (r: number, c: number): M => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
const map = (A: M, f: (v: number, i: number, j: number) => number): M => A.map((row, i) => row.map((v, j) => f(v, i, j)));
const T = (A: M): M => A[0].map((_, j) => A.map((row) => row[j]));

/** L(W, x) = Σ_i log(1 + exp((W x)_i)) + sin(x·x): a smooth loss whose gradient has no structure by accident. */
function loss({ W, x }: { W: M; x: number[] }): number {
  const z = W.map((row) => row.reduce((s, w, j) => s + w * x[j], 0));
  return z.reduce((s, v) => s + Math.log1p(Math.exp(v)), 0) + Math.sin(x.reduce((s, v) => s + v * v, 0));
}
function lossGrad({ W, x }: { W: M; x: number[] }): { W: M; x: number[] } {
  const z = W.map((row) => row.reduce((s, w, j) => s + w * x[j], 0));
  const s = z.map((v) => 1 / (1 + Math.exp(-v)));
  const c = 2 * Math.cos(x.reduce((a, v) => a + v * v, 0));
  return { W: s.map((si) => x.map((xj) => si * xj)), x: x.map((xj, j) => W.reduce((a, row, i) => a + row[j] * s[i], 0) + c * xj) };
}

const W3 = randn(3, 3);
const W34 = randn(3, 4);
const x3 = randn(1, 3)[0];
const x4 = randn(1, 4)[0];

/** Check the loss at (W, x) with the gradient changed by `plant`. */
function planted(plant: (g: { W: M; x: number[] }) => { W: M; x: number[] }, W = W3, x = x3, opts = {}): FunctionGradcheckResult {
  return gradcheck(loss, { W, x }, { grad: (v) => plant(lossGrad(v)), ...opts });
}

function only(r: FunctionGradcheckResult) {
  expect(r.passed).toBe(false);
  expect(r.mistakes).toHaveLength(1);
  return r.mistakes[0];
}

describe("naming the mistake in a user's gradient", () => {
  it('a correct gradient: passes, nothing named', () => {
    const r = planted((g) => g);
    expect(r.passed).toBe(true);
    expect(r.mistakes).toEqual([]);
  });

  it('the whole gradient off by a constant factor: 2, ½, any constant (its value said)', () => {
    expect(only(planted((g) => ({ ...g, W: map(g.W, (v) => 2 * v) })))).toEqual({
      input: 'W',
      code: 'factor',
      words: 'your ∂f/∂W is off by a constant factor: it is 2 × the true value',
    });
    expect(only(planted((g) => ({ ...g, x: g.x.map((v) => v / 2) }))).words).toBe('your ∂f/∂x is off by a constant factor: it is ½ × the true value');
    const m = only(planted((g) => ({ ...g, W: map(g.W, (v) => 0.73 * v) })));
    expect(m.code).toBe('factor');
    expect(m.words).toBe('your ∂f/∂W is off by a constant factor: it is 0.73 × the true value');
    // a factor close to 1 keeps the digits that make it one
    expect(only(planted((g) => ({ ...g, W: map(g.W, (v) => 1.001 * v) }))).words).toBe('your ∂f/∂W is off by a constant factor: it is 1.001 × the true value');
  });

  it('a factor 1/N where N is a size (the batch): a mean taken as a sum, and back', () => {
    // mean squared error over a batch of N = 5 rows of X
    const X = randn(5, 3);
    const y = randn(1, 5)[0];
    const mse = ({ w }: { w: number[] }) => X.reduce((s, row, n) => s + (row.reduce((a, v, j) => a + v * w[j], 0) - y[n]) ** 2, 0) / X.length;
    const mseGrad = ({ w }: { w: number[] }, N: number) => ({
      w: w.map((_, j) => X.reduce((s, row, n) => s + 2 * (row.reduce((a, v, k) => a + v * w[k], 0) - y[n]) * row[j], 0) / N),
    });
    const w = randn(1, 3)[0];
    const sum = gradcheck(mse, { w }, { grad: (v) => mseGrad(v, 1), wrt: ['w'] });
    // no input has 5 of anything: the constant is said, not explained
    expect(only(sum).words).toBe('your ∂f/∂w is off by a constant factor: it is 5 × the true value');
    // the batch is a fixed input: its size is one the factor may come from
    const withX = gradcheck(({ w, X: _ }: { w: number[]; X: M }) => mse({ w }), { w, X }, { grad: (v) => mseGrad(v, 1), wrt: ['w'] });
    expect(only(withX).words).toBe(
      'your ∂f/∂w is off by a constant factor: it is 5 × the true value (5 = the first dimension of X: a sum where the function has a mean?)',
    );
    const twice = gradcheck(({ w, X: _ }: { w: number[]; X: M }) => mse({ w }), { w, X }, { grad: (v) => mseGrad(v, 25), wrt: ['w'] });
    expect(only(twice).words).toMatch(/it is 1\/5 × the true value \(5 = the first dimension of X: a mean where the function has a sum\?\)$/);
  });

  it('a sign, the transpose', () => {
    expect(only(planted((g) => ({ ...g, x: g.x.map((v) => -v) })))).toEqual({
      input: 'x',
      code: 'negated',
      words: 'your ∂f/∂x has the wrong sign: it is the true value negated',
    });
    expect(only(planted((g) => ({ ...g, W: T(g.W) }))).code).toBe('transposed');
  });

  it('entries permuted: two rows swapped, columns reordered, a reshape in the wrong order', () => {
    const rows = only(planted((g) => ({ ...g, W: [g.W[2], g.W[1], g.W[0]] }), W34, x4));
    expect(rows).toEqual({ input: 'W', code: 'permuted', words: 'your ∂f/∂W has the right entries in the wrong places: rows 1 and 3 swapped' });
    const cols = only(planted((g) => ({ ...g, W: g.W.map((r) => [r[1], r[2], r[3], r[0]]) }), W34, x4));
    expect(cols.words).toMatch(/columns shifted by 1 \(your column i is the true column i\+1, wrapping round\)$/);
    const order = only(planted((g) => ({ ...g, W: g.W.map((r) => [r[1], r[3], r[0], r[2]]) }), W34, x4));
    expect(order.words).toMatch(/columns in the order 2, 4, 1, 3 of the true value's$/);
    // ∂f/∂W computed column-major and read back row-major
    const colMajor = (A: M) => T(A).flat();
    const reshaped = only(planted((g) => ({ ...g, W: [0, 1, 2].map((i) => colMajor(g.W).slice(4 * i, 4 * i + 4)) }), W34, x4));
    expect(reshaped.words).toMatch(/laid out column-major and read row-major \(a reshape in the wrong order\?\)$/);
    // and back: ∂f/∂W row-major, read as column-major
    const back = only(planted((g) => ({ ...g, W: [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => g.W.flat()[j * 3 + i])) }), W34, x4));
    expect(back.words).toMatch(/laid out row-major and read column-major \(a reshape in the wrong order\?\)$/);
    const cycle = only(planted((g) => ({ ...g, W: [g.W[1], g.W[2], g.W[0]] }), W34, x4));
    expect(cycle.words).toMatch(/rows in the order 2, 3, 1 of the true value's$/);
    const vec = only(planted((g) => ({ ...g, x: [g.x[1], g.x[0], g.x[2]] })));
    expect(vec.words).toMatch(/entries 1 and 2 swapped$/);
  });

  it("one input's gradient missing (zero), two inputs' gradients swapped", () => {
    expect(only(planted((g) => ({ ...g, x: [0, 0, 0] })))).toEqual({
      input: 'x',
      code: 'missing',
      words: "your ∂f/∂x is zero: this input's gradient is missing (never computed, or never added in)",
    });
    const f = ({ a, b }: { a: number[]; b: number[] }) => a.reduce((s, ai, k) => s + ai * ai * Math.exp(b[k]), 0);
    const fg = ({ a, b }: { a: number[]; b: number[] }) => ({ a: a.map((ai, k) => 2 * ai * Math.exp(b[k])), b: a.map((ai, k) => ai * ai * Math.exp(b[k])) });
    const r = gradcheck(f, { a: [0.5, -1, 2], b: [0.1, 0.3, -0.2] }, { grad: (v) => ({ a: fg(v).b, b: fg(v).a }) });
    expect(r.mistakes.map((m) => m.code)).toEqual(['swapped', 'swapped']);
    expect(r.mistakes[0].words).toBe("your ∂f/∂a and ∂f/∂b are swapped: each is the other's true value");
  });

  it('the difference proportional to an input: a regulariser missing its factor 2, a term in another input', () => {
    // L + 0.1·‖W‖², its gradient written with 0.1·W
    const reg = (v: { W: M; x: number[] }) => loss(v) + 0.1 * v.W.flat().reduce((s, w) => s + w * w, 0);
    const r = gradcheck(reg, { W: W34, x: x4 }, { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g, i, j) => g + 0.1 * v.W[i][j]) }) });
    expect(only(r)).toEqual({
      input: 'W',
      code: 'proportional',
      words: 'your ∂f/∂W differs by -0.1·W everywhere: a regulariser term 0.1·‖W‖² missing its factor 2, or a term 0.05·‖W‖² whose gradient was left out?',
    });
    // yours − truth = 0.5·V, V another input of the same size
    const V = randn(3, 4);
    const withV = gradcheck(
      ({ W, x }: { W: M; x: number[]; V: M }) => loss({ W, x }),
      { W: W34, x: x4, V },
      { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g, i, j) => g + 0.5 * V[i][j]) }), wrt: ['W', 'x'] },
    );
    expect(only(withV).words).toBe('your ∂f/∂W differs by 0.5·V everywhere');
  });

  it('a single wrong entry: which one', () => {
    const m = only(planted((g) => ({ ...g, W: map(g.W, (v, i, j) => (i === 1 && j === 2 ? v + 0.3 : v)) }), W34, x4));
    expect(m.code).toBe('entry');
    expect(m.words).toMatch(/^one entry of your ∂f\/∂W is wrong: W\[2,3\] \(-?[\d.]+, not -?[\d.]+\); every other entry agrees$/);
    const flipped = only(planted((g) => ({ ...g, x: g.x.map((v, j) => (j === 3 ? -v : v)) }), W34, x4));
    expect(flipped.words).toBe('one entry of your ∂f/∂x is wrong: x[4], with the wrong sign; every other entry agrees');
  });

  it('a random wrong gradient: it fails, and no pattern is named', () => {
    const noise = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const r = planted((g) => ({ W: map(g.W, () => noise.normal()), x: g.x.map(() => noise.normal()) }), trial % 2 ? W34 : W3, trial % 2 ? x4 : x3);
      expect(r.passed).toBe(false);
      expect(r.mistakes).toEqual([]);
    }
    // the same from a sample of entries (a directional check)
    const big = randn(12, 12);
    const sampled = planted((g) => ({ W: map(g.W, () => noise.normal()), x: g.x.map(() => noise.normal()) }), big, randn(1, 12)[0], {
      fdMax: 50,
      sample: 30,
      directions: 2,
    });
    expect(sampled.check?.mode).toBe('directional');
    expect(sampled.passed).toBe(false);
    expect(sampled.mistakes).toEqual([]);
    // a gradient right but for noise of 1% on every entry: wrong, but no pattern
    const r = planted((g) => ({ ...g, W: map(g.W, (v) => v * (1 + 0.01 * noise.normal())) }), W34, x4);
    expect(r.passed).toBe(false);
    expect(r.mistakes).toEqual([]);
  });

  it('robust to finite-difference noise: named from the judged entries by their own error, and only where the differences bear it out', () => {
    // the loss with rounding-like noise of size amp: the differences' error grows with it
    const noisy = (amp: number) => (v: { W: M; x: number[] }) =>
      loss(v) + amp * Math.sin(1e7 * (v.W.flat().reduce((s, w, k) => s + w * (k + 1), 0) + v.x.reduce((s, w, k) => s + w * (k + 3), 0)));
    const tol = { rtol: 1e-3, atol: 1e-4 };
    const neg = gradcheck(noisy(1e-10), { W: W34, x: x4 }, { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g) => -g) }), ...tol });
    expect(neg.check!.entries.filter((e) => e.variable === 'W' && e.status === 'fail').length).toBeGreaterThan(2);
    expect(Math.max(...neg.check!.entries.filter((e) => e.status === 'fail').map((e) => e.fdError))).toBeGreaterThan(1e-5);
    expect(neg.mistakes).toEqual([{ input: 'W', code: 'negated', words: 'your ∂f/∂W has the wrong sign: it is the true value negated' }]);
    const two = gradcheck(noisy(1e-10), { W: W34, x: x4 }, { grad: (v) => ({ ...lossGrad(v), x: lossGrad(v).x.map((g) => 2 * g) }), ...tol });
    expect(two.mistakes.map((m) => m.words)).toEqual(['your ∂f/∂x is off by a constant factor: it is 2 × the true value']);
    // a hundred times the noise: the differences too rough to judge are set aside (noisy, precision-aware steps), and the
    // pattern is named from the entries judged only, each of which bears it out within its own error
    const rough = gradcheck(noisy(1e-8), { W: W34, x: x4 }, { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g) => -g) }), ...tol });
    expect(rough.passed).toBe(false);
    expect(rough.check!.entries.filter((e) => e.variable === 'W' && e.status === 'noisy').length).toBeGreaterThan(0);
    const judgedW = rough.check!.entries.filter((e) => e.variable === 'W' && e.status === 'fail');
    expect(judgedW.length).toBeGreaterThan(2);
    for (const e of judgedW) expect(Math.abs(e.ad + e.fd)).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(e.ad) + 3 * e.fdError);
    expect(rough.mistakes.map((m) => m.code)).toEqual(['negated']);
    // rougher noise: fewer entries are judged (the noise is measured, so those that are stay accurate);
    // whatever is named from them is the true pattern, never another one the noise happens to fit
    for (const amp of [1e-8, 1e-6, 1e-5]) {
      const rough = gradcheck(noisy(amp), { W: W34, x: x4 }, { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g) => -g) }), ...tol });
      expect(rough.passed).toBe(false);
      expect(rough.mistakes.filter((m) => m.code !== 'negated')).toEqual([]);
      const wrong = gradcheck(
        noisy(amp),
        { W: W34, x: x4 },
        { grad: (v) => ({ ...lossGrad(v), W: map(lossGrad(v).W, (g, i, j) => g + 0.05 * Math.sin(7 * i + 3 * j + 1)) }), ...tol },
      );
      expect(wrong.passed).toBe(false);
      expect(wrong.mistakes.filter((m) => m.code !== 'entry')).toEqual([]);
    }
  });

  it('a partial check (random directions and a sample of entries) names patterns from the entries differenced only', () => {
    const W = randn(12, 12);
    const x = randn(1, 12)[0];
    const opts = { fdMax: 50, sample: 30, directions: 2 };
    const r = planted((g) => ({ ...g, W: map(g.W, (v) => 2 * v) }), W, x, opts);
    expect(r.check?.mode).toBe('directional');
    expect(r.mistakes).toEqual([{ input: 'W', code: 'factor', words: 'your ∂f/∂W is off by a constant factor: it is 2 × the true value' }]);
    // a transpose moves entries to places not differenced: not named from a sample
    const t = planted((g) => ({ ...g, W: T(g.W) }), W, x, opts);
    expect(t.passed).toBe(false);
    expect(t.mistakes.filter((m) => m.code === 'transposed' || m.code === 'permuted')).toEqual([]);
  });

  it('a tensor function: the pattern of its vjp of a random cotangent u (Jᵀu)', () => {
    // tanh(W x): 3 outputs; above fdMax Jacobian entries the check is of uᵀf for a random u
    const layer = ({ W, x }: { W: M; x: number[] }) => W.map((row) => Math.tanh(row.reduce((s, w, j) => s + w * x[j], 0)));
    const vjp = ({ W, x }: { W: M; x: number[] }, u: unknown) => {
      const dz = layer({ W, x }).map((y, i) => (u as number[])[i] * (1 - y * y));
      return { W: dz.map((d) => x.map((xj) => 2 * d * xj)), x: x.map((_, j) => W.reduce((s, row, i) => s + row[j] * dz[i], 0)) };
    };
    const r = gradcheck(layer, { W: W34, x: x4 }, { vjp, fdMax: 20 });
    expect(r.mode).toBe('projection');
    expect(r.mistakes).toEqual([{ input: 'W', code: 'factor', words: 'your ∂(uᵀf)/∂W is off by a constant factor: it is 2 × the true value' }]);
    // a small Jacobian is checked entry by entry, keeping the worst; its pattern comes from a vjp of a random u, every entry differenced
    const full = gradcheck(layer, { W: W34, x: x4 }, { vjp });
    expect(full.mode).toBe('jacobian');
    expect(full.mistakes).toEqual([{ input: 'W', code: 'factor', words: 'your ∂(uᵀf)/∂W is off by a constant factor: it is 2 × the true value' }]);
    const right = gradcheck(layer, { W: W34, x: x4 }, { vjp: (v: { W: M; x: number[] }, u: unknown) => ({ ...vjp(v, u), W: map(vjp(v, u).W, (g) => g / 2) }) });
    expect(right.passed).toBe(true);
    expect(right.mistakes).toEqual([]);
  });

  it('the report says it: the verdict line, the error thrown', () => {
    const r = planted((g) => ({ ...g, W: T(g.W) }));
    const text = renderFunctionCheck(r);
    expect(text.split('\n').at(-1)).toMatch(/^✗ gradient check failed for W .*: your ∂f\/∂W is the transpose of the true value$/);
    expect(() => planted((g) => ({ ...g, W: T(g.W) }), W3, x3, { throwOnFail: true })).toThrow(/your ∂f\/∂W is the transpose of the true value/);
    // two inputs, two patterns: both on the verdict line
    const both = planted((g) => ({ W: T(g.W), x: g.x.map((v) => -v) }));
    expect(renderFunctionCheck(both).split('\n').at(-1)).toMatch(
      /\): your ∂f\/∂W is the transpose of the true value; your ∂f\/∂x has the wrong sign: it is the true value negated$/,
    );
  });

  it("keeps grade's and check's behaviour: nothing beyond the usual mistakes without a user's code", () => {
    const agrees = (y: { data: Float64Array }, t: { data: Float64Array }) =>
      y.data.every((v, k) => Math.abs(v - t.data[k]) <= 1e-7 + 1e-5 * Math.abs(t.data[k]));
    const truth = { shape: [3], data: Float64Array.of(1, 2, 3) };
    expect(nameMistake({ what: '∂f/∂x', yours: { shape: [3], data: new Float64Array(3) }, truth, agrees })).toBeNull();
    expect(nameMistake({ what: '∂f/∂x', yours: { shape: [3], data: Float64Array.of(0.7, 1.4, 2.1) }, truth, agrees })).toBeNull();
  });
});

describe('naming the mistake in float32 code: each input by its own tolerance', () => {
  // float32 code (Math.fround after every operation) with two inputs on very different scales:
  // ∂L/∂a ≈ 100·cos(a), ∂L/∂b ≈ 0.01·k·sin(b), so b's atol (rtol × its RMS) is ~10⁴ times smaller than a's
  const f32 = Math.fround;
  const a = [0.3, -1.2, 0.7, 2.1, -0.4];
  const b = [0.9, -0.5, 1.3, -2.2, 0.6];
  const loss32 = ({ a, b }: { a: number[]; b: number[] }) =>
    a.reduce((s, v, k) => f32(s + f32(f32(100 * f32(Math.sin(v))) - f32(f32(0.01 * (k + 1)) * f32(Math.cos(b[k]))))), 0);
  const grad32 =
    (ka = 1, kb = 1) =>
    ({ a, b }: { a: number[]; b: number[] }) => ({
      a: a.map((v) => f32(ka * f32(100 * f32(Math.cos(v))))),
      b: b.map((v, k) => f32(kb * f32(f32(0.01 * (k + 1)) * f32(Math.sin(v))))),
    });

  it('a float32 gradient 2× in the small input names "factor 2" there; a correct one passes naming nothing', () => {
    const ok = gradcheck(loss32, { a, b }, { grad: grad32() });
    expect(ok.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
    expect(ok.passed).toBe(true);
    expect(ok.mistakes).toEqual([]);
    const c = ok.check!;
    // the result states each input's own atol; the one reported is the largest
    expect(c.variables.b.atol!).toBeLessThan(c.variables.a.atol! / 1000);
    expect(c.atol).toBe(c.variables.a.atol);
    const twice = gradcheck(loss32, { a, b }, { grad: grad32(1, 2) });
    expect(twice.failures.every((f) => f.entry.startsWith('∂f/∂b'))).toBe(true);
    expect(only(twice)).toEqual({ input: 'b', code: 'factor', words: 'your ∂f/∂b is off by a constant factor: it is 2 × the true value' });
    expect(only(gradcheck(loss32, { a, b }, { grad: grad32(2, 1) }))).toMatchObject({
      input: 'a',
      code: 'factor',
      words: expect.stringMatching(/it is 2 × the true value$/),
    });
    expect(only(gradcheck(loss32, { a, b }, { grad: grad32(1, -1) }))).toMatchObject({ input: 'b', code: 'negated' });
  });
});
