import { describe, expect, it } from 'vitest';
import { inputSlots } from '../../src/core/engine/js.js';
import { loadNative } from '../../src/core/engine/native.js';
import { NATIVE_WORK, selectEngine, tapeWork } from '../../src/core/engine/select.js';
import { OPS } from '../../src/core/ops/index.js';
import type { Attrs } from '../../src/core/ops/types.js';
import type { Shape } from '../../src/core/tensor.js';
import { Rng } from '../../src/core/random.js';
import { prepare } from '../../src/subjects/formula/grad.js';
import { expectClose, jsEngine, nativeEngine, NORMWISE, oneOpTape, opsUnderTest, randomCase, randomValues, type OpCase } from '../native/harness.js';

/**
 * The native C++ engine against the TypeScript reference, op by op: for every op of the
 * table, random shapes (broadcasting in every position, axes, norm kinds, gathers with
 * repeats), random points (and points on kinks and ties), the same forward values,
 * adjoints, per-edge contributions, tangents, finite-difference values and branch codes.
 *
 * Tolerance: relative 1e-12 per entry. Two documented exceptions are compared norm-wise
 * (1e-12 of the largest entry): matmul, because above the BLAS threshold dgemm sums in
 * its own order, and prod, whose vjp forms the product of the others as prefix·suffix
 * (O(n)) where the reference multiplies them in order (O(n²)). Small products below the
 * BLAS threshold run the reference's loop order and agree bit for bit. Branch codes are
 * compared exactly.
 */
const REL = 1e-12;
const TRIALS = 16;

describe('native engine: loading and coverage', () => {
  it('loads (CI sets AUTOGRAD_REQUIRE_NATIVE=1; elsewhere the build must have succeeded too)', () => {
    const s = loadNative();
    expect(s.reason).toBe('');
    expect(s.engine?.name).toBe('native');
    expect(s.info?.blas).toMatch(/\S/);
  });

  it("the addon's op list covers the whole TS op table", () => {
    const native = nativeEngine();
    const missing = [...OPS.keys()].filter((name) => !native.ops.has(name));
    expect(missing).toEqual([]);
  });

  it('--engine auto picks native for a tape it covers that has enough work, the TypeScript engine for a tiny one', () => {
    const big = prepare('sum(softmax(W*x))', { W: { shape: [40, 40], data: new Float64Array(1600) }, x: { shape: [40], data: new Float64Array(40) } });
    expect(tapeWork(big)).toBeGreaterThanOrEqual(NATIVE_WORK);
    expect(selectEngine('auto', big).name).toBe('native');
    expect(selectEngine('js', big).name).toBe('js');
    const tiny = prepare('sum(softmax(W*x))', { W: { shape: [2, 3], data: new Float64Array(6) }, x: { shape: [3], data: new Float64Array(3) } });
    expect(tapeWork(tiny)).toBeLessThan(NATIVE_WORK);
    expect(selectEngine('auto', tiny).name).toBe('js');
    expect(selectEngine('native', tiny).name).toBe('native');
  });
});

function compare(c: OpCase, rng: Rng, label: string): void {
  const native = nativeEngine();
  const values = randomValues(rng, c);
  const { tape, arena } = oneOpTape(c, values);
  const what = `${label} ${c.op.name}(${c.shapes.map((s) => `[${s.join(',')}]`).join(', ')})${JSON.stringify(c.attrs, (_k, v) => (v instanceof Int32Array ? [...v] : v === Infinity ? 'Inf' : v))}`;
  const normwise = NORMWISE.has(c.op.name);
  const out = tape.nodes[tape.output];

  // forward
  const aJs = arena.slice();
  const aNat = arena.slice();
  jsEngine.forward(tape, aJs);
  native.forward(tape, aNat);
  expectClose(aNat, aJs, REL, `${what} forward`, normwise);

  if (tape.inputs.length === 0) return;
  // reverse from a random seed (some entries 0: a zero upstream gradient contributes nothing)
  const seed = Float64Array.from({ length: out.size }, () => (rng.next() < 0.15 ? 0 : rng.normal()));
  const rJs = jsEngine.reverse(tape, aJs, { seed, edges: true });
  const rNat = native.reverse(tape, aJs, { seed, edges: true });
  expectClose(rNat.adjoint, rJs.adjoint, REL, `${what} adjoint`, normwise);
  expect(rNat.edges!.map((e) => [e.to, e.input, e.from])).toEqual(rJs.edges!.map((e) => [e.to, e.input, e.from]));
  rJs.edges!.forEach((e, k) => expectClose(rNat.edges![k].contribution, e.contribution, REL, `${what} edge ${k}`, normwise));
  const plain = native.reverse(tape, aJs, { seed });
  expectClose(plain.adjoint, rNat.adjoint, 0, `${what} adjoint without edges`);

  // forward mode: random tangents, some inputs without one
  const dots = tape.inputs.map((inp) => (rng.next() < 0.25 ? null : Float64Array.from({ length: tape.nodes[inp.node].size }, () => rng.normal())));
  expectClose(native.jvp(tape, aJs, dots), jsEngine.jvp(tape, aJs, dots), REL, `${what} jvp`, normwise);

  // finite-difference points: coordinates and a direction, values and branch codes
  const n = inputSlots(tape).length;
  const count = Math.min(12, 2 * n) + 2;
  const coord = Int32Array.from({ length: count }, (_, p) => (p >= count - 2 ? -1 : rng.int(n)));
  const delta = Float64Array.from({ length: count }, () => (rng.next() - 0.5) * 1e-3);
  const direction = Float64Array.from({ length: n }, () => rng.normal());
  const eJs = jsEngine.evaluate(tape, arena, coord, delta, direction);
  const eNat = native.evaluate(tape, arena, coord, delta, direction);
  expectClose(eNat.values, eJs.values, REL, `${what} evaluate`, normwise);
  expect([...eNat.branches], `${what} branch codes`).toEqual([...eJs.branches]);
}

describe('native = js, op by op, random shapes', () => {
  for (const op of opsUnderTest()) {
    it(op.name, () => {
      const rng = new Rng(1000 + ([...op.name].reduce((s, ch) => s * 31 + ch.charCodeAt(0), 7) % 100000));
      for (let t = 0; t < TRIALS; t++) compare(randomCase(rng, op), rng, `trial ${t}`);
    });
  }

  it('large shapes: BLAS-sized products, long elementwise runs and reductions', () => {
    const rng = new Rng(99);
    for (const name of ['matmul', 'add', 'multiply', 'relu', 'tanh', 'sum', 'prod', 'softmax', 'logsumexp', 'norm', 'maxAll', 'transpose']) {
      for (let t = 0; t < 3; t++) compare(randomCase(rng, OPS.get(name)!, true), rng, `large ${t}`);
    }
  });
});

describe('native = js: vectors as columns, and the softmax family along an axis', () => {
  // every new reading, named, so coverage does not hang on the random draws above
  const cases: [string, Shape[], Attrs][] = [
    ['matmul', [[4], [1, 3]], {}], // u*v': outer product [4,3]
    ['matmul', [[1, 4], [4]], {}], // u'*v: a scalar
    ['matmul', [[1], [1, 3]], {}], // [1]·[1,3]: both readings fit; mathjs's row reading, [3]
    ['matmul', [[4], [4, 2]], {}], // v*A: the vector read as a row, [2]
    ['transpose', [[4]], {}], // v': the row [1,4]
    ['transpose', [[1, 4]], {}],
    ['transpose', [[4, 1]], {}],
    ['add', [[4], [4, 1]], {}], // a vector and a column: that column
    ['multiply', [[4, 1], [4]], {}],
    ['select', [[4], [4, 1], []], {}],
    ['subtract', [[4], [3, 4]], {}], // a vector against a matrix: a row (NumPy)
    ...['softmax', 'logsoftmax', 'logsumexp'].flatMap((name): [string, Shape[], Attrs][] => [
      [name, [[5]], {}],
      [name, [[5, 1]], { axis: 0 }],
      [name, [[1, 5]], { axis: 1 }],
      [name, [[3, 4]], { axis: 0 }],
      [name, [[3, 4]], { axis: 1 }],
      [name, [[3, 4]], {}],
    ]),
  ];
  for (const [name, shapes, attrs] of cases) {
    it(`${name}(${shapes.map((sh) => `[${sh.join(',')}]`).join(', ')})${attrs.axis === undefined ? '' : ` axis ${attrs.axis}`}`, () => {
      const rng = new Rng(4242);
      const op = OPS.get(name)!;
      for (let t = 0; t < 4; t++) {
        const active = shapes.map((_, i) => !(name === 'select' && i === 0));
        compare({ op, shapes, attrs, active, domains: [], onKinks: false }, rng, `column ${t}`);
      }
    });
  }
});

describe('native engine: the finite-difference loop', () => {
  it('splits many points over threads and agrees with the reference', () => {
    const rng = new Rng(5);
    const native = nativeEngine();
    // 900 inputs, 3600 points: well above the threading threshold
    const tape = prepare('sum(tanh(W*W) .* relu(W)) + max(W)', { W: { shape: [30, 30], data: Float64Array.from({ length: 900 }, () => rng.normal()) } });
    const arena = new Float64Array(tape.arenaSize);
    arena.set(
      Float64Array.from({ length: 900 }, () => rng.normal()),
      tape.nodes[tape.inputs[0].node].offset,
    );
    for (const n of tape.nodes) if (n.op === 'const' && n.attrs.value) arena.set(n.attrs.value.data, n.offset);
    const count = 3600;
    const coord = Int32Array.from({ length: count }, (_, p) => p % 900);
    const delta = Float64Array.from({ length: count }, (_, p) => (p % 2 ? -1 : 1) * 1e-4 * (1 + (p % 7)));
    const eNat = native.evaluate(tape, arena, coord, delta);
    const eJs = jsEngine.evaluate(tape, arena, coord, delta);
    expectClose(eNat.values, eJs.values, 1e-12, 'values', true);
    expect([...eNat.branches].map((b) => b === eNat.branches[0])).toEqual([...eJs.branches].map((b) => b === eJs.branches[0]));
  });

  it('rejects bad buffers with an error, not a crash', () => {
    const native = nativeEngine();
    const tape = prepare('sum(x.^2)', { x: { shape: [3], data: Float64Array.of(1, 2, 3) } });
    expect(() => native.forward(tape, new Float64Array(1))).toThrow(/entries, not/);
    const arena = new Float64Array(tape.arenaSize);
    expect(() => native.evaluate(tape, arena, Int32Array.of(7), Float64Array.of(1))).toThrow(/not an input entry/);
    expect(() => native.evaluate(tape, arena, Int32Array.of(-1), Float64Array.of(1))).toThrow(/not an input entry/);
    expect(() => native.jvp(tape, arena, [])).toThrow(/one tangent/);
  });
});
