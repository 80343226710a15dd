import { describe, expect, it } from 'vitest';
import { gradcheck, GradcheckError } from '../src/index.js';
// the planted bugs: a small library with right and wrong backward passes
import * as L from '../fixtures/code/layers.mjs';

const W3 = [
  [0.5, -1.2, 0.3],
  [0.8, 0.1, -0.7],
  [-0.4, 0.9, 1.1],
];
const x3 = [0.7, -0.3, 1.4];
const b3 = [0.1, -0.2, 0.05];
const W34 = [
  [0.5, -1.2, 0.3, 0.2],
  [0.8, 0.1, -0.7, -0.5],
  [-0.4, 0.9, 1.1, 0.6],
];
const x4 = [0.7, -0.3, 1.4, -0.9];

describe('gradcheck(fn, inputs, options): your own code', () => {
  it('correct backward passes pass: scalar (grad) and tensor (vjp, jvp) outputs, square and non-square weights', () => {
    for (const [fn, at] of [
      [L.quadratic, { W: W3, x: x3 }],
      [L.quadratic, { W: W34, x: x4 }],
      [L.neuron, { W: W34, x: x4, b: b3 }],
      [L.relu, { W: W34, x: x4 }],
      [L.dense, { W: W34, x: x4, b: b3 }],
    ] as const) {
      const r = gradcheck(fn as never, at, {});
      expect(r.passed, `${fn.name}: ${r.failures.map((f) => f.message).join('; ')}`).toBe(true);
      expect(r.failures).toEqual([]);
    }
    const d = gradcheck(L.dense, { W: W34, x: x4, b: b3 }, {});
    expect(d.mode).toBe('jacobian');
    expect(d.jvp?.passed).toBe(true);
    // every entry of the 3 × (12 + 4 + 3) Jacobian
    expect(d.jacobian?.variables.W.checked).toBe(36);
  });

  it('each planted bug is caught and named by entry', () => {
    const t = gradcheck(L.quadraticTransposed as never, { W: W3, x: x3 }, {});
    expect(t.passed).toBe(false);
    // the diagonal of a transposed gradient is right: only off-diagonal entries of W are named
    expect(t.failures.every((f) => /^∂f\/∂W\[(\d),(\d)\]$/.test(f.entry) && f.entry[5] !== f.entry[7])).toBe(true);
    expect(t.check!.variables.x.passed).toBe(true);

    const two = gradcheck(L.quadraticNoTwo as never, { W: W3, x: x3 }, {});
    expect(two.failures.map((f) => f.entry).sort()).toEqual(['∂f/∂x[1]', '∂f/∂x[2]', '∂f/∂x[3]']);
    const f0 = two.failures.find((f) => f.entry === '∂f/∂x[1]')!;
    expect(f0.truth! / f0.yours!).toBeCloseTo(2, 6);

    const sign = gradcheck(L.quadraticSign as never, { W: W3, x: x3 }, {});
    expect(sign.failures.map((f) => f.entry)).toEqual(['∂f/∂x[2]']);
    expect(sign.failures[0].message).toMatch(/^∂f\/∂x\[2\]: your gradient gives -?[\d.]+, finite differences give -?[\d.]+ \(abs err/);
    expect(sign.failures[0].yours).toBeCloseTo(-sign.failures[0].truth!, 6);

    const bias = gradcheck(L.neuronNoBias as never, { W: W34, x: x4, b: b3 }, {});
    expect(bias.passed).toBe(false);
    // every input's gradient is wrong (the failures list the worst five)
    expect(Object.values(bias.check!.variables).map((v) => v.passed)).toEqual([false, false, false]);

    const relu = gradcheck(L.reluWrongSide as never, { W: W34, x: x4 }, {});
    expect(relu.passed).toBe(false);
    expect(relu.failures.length).toBeGreaterThan(0);
  });

  it('tensor outputs: wrong vjps are named by Jacobian entry (∂f[i]/∂x[j]) and in the random-projection mode', () => {
    const t = gradcheck(L.denseTransposed, { W: W3, x: x3, b: b3 }, {});
    expect(t.passed).toBe(false);
    expect(t.failures.every((f) => /^∂dense\w*\[\d\]\/∂x\[\d\]$/.test(f.entry))).toBe(true);
    const nb = gradcheck(L.denseNoBias, { W: W34, x: x4, b: b3 }, { fdMax: 5 });
    expect(nb.mode).toBe('projection');
    expect(nb.passed).toBe(false);
    expect(nb.failures[0].entry).toMatch(/^∂\(uᵀf\)\/∂(W|x|b)\[/);
    expect(nb.cotangent).toHaveLength(3);
  });

  it('inputs in the form given: numbers, nested arrays and {shape, data: Float64Array}, and gradients given back the same way', () => {
    const seen: string[] = [];
    const f = ({ a, M }: { a: number; M: { shape: number[]; data: Float64Array } }) => {
      seen.push(`${typeof a}/${M.data instanceof Float64Array}/${M.shape.join('x')}`);
      let s = 0;
      for (const v of M.data) s += a * v * v;
      return s;
    };
    const grad = ({ a, M }: { a: number; M: { shape: number[]; data: Float64Array } }) => ({
      a: M.data.reduce((s, v) => s + v * v, 0),
      M: { shape: M.shape, data: M.data.map((v) => 2 * a * v) },
    });
    const r = gradcheck(f, { a: 1.5, M: { shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) } }, { grad });
    expect(r.passed).toBe(true);
    expect(new Set(seen)).toEqual(new Set(['number/true/2x2']));
    expect(r.gradient!.M).toEqual([
      [3, 6],
      [9, 12],
    ]);
  });

  it("reference: the formula's autodiff is the truth and catches what differences hide", () => {
    // a gradient off by 1e-6 relative: inside the differences' tolerance at rtol 1e-3, not the reference's
    const f = ({ x }: { x: number[] }) => x.reduce((s, v) => s + Math.sin(v), 0);
    const grad = ({ x }: { x: number[] }) => ({ x: x.map((v, i) => Math.cos(v) * (i === 1 ? 1 + 1e-4 : 1)) });
    const loose = gradcheck(f, { x: [0.3, 1.1, -2] }, { grad, rtol: 1e-3 });
    expect(loose.passed).toBe(true);
    const r = gradcheck(f, { x: [0.3, 1.1, -2] }, { grad, rtol: 1e-3, reference: 'sum(sin(x))' });
    expect(r.passed).toBe(false);
    expect(r.failures.map((e) => e.entry)).toEqual(['∂f/∂x[2]']);
    expect(r.failures[0].message).toMatch(/the reference formula's autodiff gives .*wrong in 1 of 3 entries of x/);
    expect(gradcheck(f, { x: [0.3, 1.1, -2] }, { grad: ({ x }) => ({ x: x.map(Math.cos) }), reference: 'sum(sin(x))' }).passed).toBe(true);
    // a reference for a different function is refused as such
    const other = gradcheck(f, { x: [0.3, 1.1, -2] }, { grad, reference: 'sum(cos(x))' });
    expect(other.failures[0].message).toMatch(/not the same function/);
  });

  it('names are data: an input called __proto__ reaches the function, its gradient is asked for and checked', () => {
    // read by a computed key: TypeScript types `.constructor` and `.__proto__` as Object's
    const at = (v: Record<string, number>, k: string) => v[k];
    const f = (v: Record<string, number>) => at(v, '__proto__') * at(v, 'constructor');
    const inputs = JSON.parse('{"__proto__": 2, "constructor": 3}') as Record<string, number>;
    const right = gradcheck(f, inputs, {
      grad: (v: Record<string, number>) => JSON.parse(`{"__proto__": ${at(v, 'constructor')}, "constructor": ${at(v, '__proto__')}}`),
    });
    expect(right.passed, right.failures.map((e) => e.message).join('; ')).toBe(true);
    expect(Object.keys(right.point)).toEqual(['__proto__', 'constructor']);
    const wrong = gradcheck(f, inputs, {
      grad: (v: Record<string, number>) => JSON.parse(`{"__proto__": ${at(v, '__proto__')}, "constructor": ${at(v, '__proto__')}}`),
    });
    expect(wrong.failures.map((e) => e.entry)).toEqual(['∂f/∂__proto__']);
    // a plain object's inherited __proto__ is no gradient
    expect(() => gradcheck(f, inputs, { grad: () => ({ constructor: 2 }) })).toThrow(/returned no gradient for __proto__/);
  });

  it('escalate: above fdMax a disagreeing screen is followed by every entry, naming the wrong one', () => {
    // f = Σ sin(x_j)·j/n with one entry of the gradient negated: 300 entries, fdMax 100
    const n = 300;
    const x = Array.from({ length: n }, (_, j) => Math.cos(3 * j));
    const f = ({ x }: { x: number[] }) => x.reduce((s, v, j) => s + (Math.sin(v) * (j + 1)) / n, 0);
    const grad = ({ x }: { x: number[] }) => ({ x: x.map((v, j) => ((j === 200 ? -1 : 1) * (Math.cos(v) * (j + 1))) / n) });
    const screenOnly = gradcheck(f, { x }, { grad, fdMax: 100 });
    expect(screenOnly.passed).toBe(false);
    expect(screenOnly.check!.mode).toBe('directional');
    expect(screenOnly.screen).toBeUndefined();
    const named = gradcheck(f, { x }, { grad, fdMax: 100, escalate: true });
    expect(named.passed).toBe(false);
    expect(named.check!.mode).toBe('full');
    expect(named.failures.map((e) => e.entry)).toEqual(['∂f/∂x[201]']);
    expect(named.screen!.evaluations).toBe(screenOnly.evaluations);
    expect(named.warnings.join('\n')).toMatch(/so every entry was differenced/);
    // right code: the screen settles it in far fewer evaluations than every entry
    const good = gradcheck(f, { x }, { grad: ({ x }: { x: number[] }) => ({ x: x.map((v, j) => (Math.cos(v) * (j + 1)) / n) }), fdMax: 100, escalate: true });
    expect(good.passed).toBe(true);
    expect(good.screen).toBeUndefined();
    expect(good.evaluations).toBeLessThan(2 * n);
    expect(good.warnings.join('\n')).toMatch(
      /300 input entries: checked 4 random directions and 64 sampled entries instead of all \(more than fdMax 100\): they agree/,
    );
  });

  it('a kink or a non-smooth black box is "cannot judge here", never a wrong entry; nothing judged is not a pass (allowUnjudged accepts it)', () => {
    const abs = ({ x }: { x: number }) => Math.abs(x);
    const r = gradcheck(abs, { x: 0 }, { grad: () => ({ x: 0.3 }) });
    expect(r.check!.entries[0].status).toMatch(/kink|noisy/);
    expect(r.warnings.join('\n')).toMatch(/cannot judge/);
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([
      expect.objectContaining({
        kind: 'unjudged',
        message: expect.stringMatching(/could not judge the only entry: nothing judged is not a pass — .*--allow-unjudged accepts it/),
      }),
    ]);
    const allowed = gradcheck(abs, { x: 0 }, { grad: () => ({ x: 0.3 }), allowUnjudged: true });
    expect(allowed.passed).toBe(true);
    expect(allowed.warnings.join('\n')).toMatch(/accepted \(allowUnjudged\)/);
    // a NaN gradient fails whatever
    const nan = gradcheck(({ x }: { x: number }) => x * x, { x: 1 }, { grad: () => ({ x: NaN }) });
    expect(nan.passed).toBe(false);
    expect(nan.failures[0]).toMatchObject({ kind: 'nonfinite', entry: '∂f/∂x' });
  });

  it('throwOnFail: GradcheckError naming the entries; bad use is a clear AgError', () => {
    let thrown: unknown;
    try {
      gradcheck(L.quadraticSign as never, { W: W3, x: x3 }, { throwOnFail: true });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GradcheckError);
    expect((thrown as Error).message).toMatch(/^gradcheck failed for quadraticSign:\n {2}∂f\/∂x\[2\]: your gradient gives/);
    const sq = ({ x }: { x: number }) => x * x;
    expect(() => gradcheck(sq, { x: 1 }, {})).toThrow(/needs the derivative under test/);
    expect(() => gradcheck(sq, { x: 1 }, { grad: () => ({ y: 1 }) })).toThrow(/grad\(values\) returned no gradient for x/);
    expect(() => gradcheck(sq, { x: 1 }, { grad: () => ({ x: [1, 2] }) })).toThrow(/has shape \[2\], but x has shape \[\]/);
    expect(() => gradcheck(sq, { x: 'a' as never }, { grad: () => ({ x: 1 }) })).toThrow(/x must be a number/);
    expect(() =>
      gradcheck(
        () => {
          throw new Error('boom');
        },
        { x: 1 },
        { grad: () => ({ x: 1 }) },
      ),
    ).toThrow(/f\(values\) threw: boom/);
    expect(() => gradcheck(42 as never, { x: 1 })).toThrow(/a formula \(a string\) or a function/);
    // the formula call shape still works
    expect(gradcheck('x^2', { x: 3 }).passed).toBe(true);
  });
});
