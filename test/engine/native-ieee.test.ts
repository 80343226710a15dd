import { describe, expect, it } from 'vitest';
import { grad } from '../../src/subjects/formula/grad.js';
import { dotExact } from '../../src/core/ops/linalg.js';
import { OPS } from '../../src/core/ops/index.js';
import { Rng } from '../../src/core/random.js';
import type { Shape, Tensor } from '../../src/core/tensor.js';
import { expectClose, jsEngine, nativeEngine, oneOpTape } from '../native/harness.js';

/**
 * IEEE special values in matrix products, below and above the BLAS threshold (m·n·k =
 * 16384): both engines follow IEEE in forward values (0·Inf = NaN, no zero entry skipped)
 * and an entry whose sum overflows is ±Inf with the sign of the exact sum, whatever order
 * the kernel (the reference loop, the blocked FMA kernel, BLAS) summed in.
 */
const SIZES = [2, 32]; // 2³ is below the threshold, 32³ above it

function matmulRun(A: Tensor, B: Tensor) {
  const tape = oneOpTape({ op: OPS.get('matmul')!, shapes: [A.shape, B.shape], attrs: {}, active: [true, true], domains: [], onKinks: false }, [A, B]).tape;
  const out = tape.nodes[tape.output];
  const results = [jsEngine, nativeEngine()].map((engine) => {
    const { arena } = oneOpTape({ op: OPS.get('matmul')!, shapes: [A.shape, B.shape], attrs: {}, active: [true, true], domains: [], onKinks: false }, [A, B]);
    engine.forward(tape, arena);
    const value = arena.slice(out.offset, out.offset + out.size);
    const seed = new Float64Array(out.size).fill(1);
    const adjoint = engine.reverse(tape, arena, { seed }).adjoint;
    const dots = [new Float64Array(A.data.length).fill(1), new Float64Array(B.data.length).fill(1)];
    const tangent = engine.jvp(tape, arena, dots);
    return { value, adjoint, tangent };
  });
  const [js, native] = results;
  expectClose(native.value, js.value, 1e-12, 'forward', true);
  expectClose(native.adjoint, js.adjoint, 1e-12, 'adjoint', true);
  expectClose(native.tangent, js.tangent, 1e-12, 'jvp', true);
  return js;
}

const matrix = (shape: Shape, f: (i: number, j: number) => number): Tensor => {
  const [m, n] = shape;
  return { shape, data: Float64Array.from({ length: m * n }, (_, k) => f(Math.floor(k / n), k % n)) };
};

describe('matmul and IEEE special values: native = js at every size', () => {
  for (const n of SIZES) {
    it(`0·Inf is NaN in the forward value (${n}×${n}, ${n ** 3 < 16384 ? 'below' : 'above'} the BLAS threshold)`, () => {
      // r has a zero column; E has an Inf where that zero meets it
      const r = matrix([n, n], (_i, j) => (j === 0 ? 0 : 1 + j));
      const E = matrix([n, n], (i, j) => (i === 0 && j === 0 ? Infinity : 1));
      const js = matmulRun(r, E);
      for (let i = 0; i < n; i++) {
        expect(js.value[i * n]).toBeNaN();
        for (let j = 1; j < n; j++) expect(Number.isFinite(js.value[i * n + j])).toBe(true);
      }
    });

    it(`an overflowing sum is ±Inf with the sign of the exact sum (finite where it cancels), never NaN (${n}×${n})`, () => {
      const rng = new Rng(7 + n);
      const A = matrix([n, n], () => 1e150 * rng.normal());
      const B = matrix([n, n], () => 1e160 * rng.normal());
      const js = matmulRun(A, B);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let scaled = 0;
          for (let p = 0; p < n; p++) scaled += (A.data[i * n + p] / 1e150) * (B.data[p * n + j] / 1e160);
          // the exact sum is scaled·1e310: ±Inf where that overflows, finite (and close) where it cancels
          const exact = scaled * 1e160 * 1e150;
          if (Number.isFinite(exact)) expect(Math.abs(js.value[i * n + j] - exact)).toBeLessThan(1e-9 * Math.abs(exact));
          else expect(js.value[i * n + j]).toBe(exact);
        }
      }
    });

    it(`huge products that cancel come out finite (${n}×${n})`, () => {
      // row i of A is (h, h, …), column j of B is (h, −h, h, −h, …): the exact sum is 0 (n even)
      const h = 1e200;
      const A = matrix([n, n], () => h);
      const B = matrix([n, n], (p) => (p % 2 === 0 ? h : -h));
      const js = matmulRun(A, B);
      for (const v of js.value) expect(v).toBe(0);
    });
  }

  it('dotExact: Inf against a finite overflow keeps the Inf; +Inf with −Inf is NaN; 0·Inf is NaN', () => {
    const f = (a: number[], b: number[]) => dotExact(a.length, Float64Array.from(a), 0, 1, Float64Array.from(b), 0, 1);
    expect(f([Infinity, 1e300], [1, -1e300])).toBe(Infinity);
    expect(f([Infinity, -Infinity], [1, 1])).toBeNaN();
    expect(f([0, 1], [Infinity, 2])).toBeNaN();
    expect(f([1e300, 1e300, -1e300], [1e300, 1e300, 1e300])).toBe(Infinity);
    expect(f([1.7e308, 1.7e308], [1, -1])).toBe(0);
    expect(f([1.5e308, 1], [2, 1])).toBe(Infinity);
  });
});

describe('the formulas of issue 13 item 5, through grad, in both engines', () => {
  const engines = ['js', 'native'] as const;

  it('sum(r*exp(A)) with A = [[710,1],[1,1]], r = [[0,1]]: the value is NaN (0·Inf), in both', () => {
    for (const engine of engines) {
      const r = grad(
        'sum(r*exp(A))',
        {
          A: [
            [710, 1],
            [1, 1],
          ],
          r: [[0, 1]],
        },
        { engine, check: false },
      );
      expect(r.value, engine).toBeNaN();
    }
  });

  it('the same at a size above the BLAS threshold', () => {
    const n = 32;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === 0 && j === 0 ? 710 : 1)));
    const r = Array.from({ length: n }, () => Array.from({ length: n }, (_, j) => (j === 0 ? 0 : 1)));
    for (const engine of engines) expect(grad('sum(r*exp(A))', { A, r }, { engine, check: false }).value, engine).toBeNaN();
  });

  it('sum((A*B).^2) with A = 1e150·randn(40,40), B = 1e10·randn(40,40): the same ±Inf gradient in both', () => {
    const rng = new Rng(3);
    const A = Array.from({ length: 40 }, () => Array.from({ length: 40 }, () => 1e150 * rng.normal()));
    const B = Array.from({ length: 40 }, () => Array.from({ length: 40 }, () => 1e10 * rng.normal()));
    const [js, native] = engines.map((engine) => grad('sum((A*B).^2)', { A, B }, { engine, check: false, forwardMode: false }));
    const gB = (r: typeof js) => (r.gradient.B as number[][]).flat();
    expect(gB(js).every((v) => v === Infinity || v === -Infinity)).toBe(true);
    expect(gB(native)).toEqual(gB(js));
    expectClose((native.gradient.A as number[][]).flat(), (js.gradient.A as number[][]).flat(), 1e-12, 'dA', true);
  });
});
