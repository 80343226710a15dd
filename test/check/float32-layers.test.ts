import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDtype, resolvePrecision, roundTo } from '../../src/verify/dtype.js';
import { checkProgram } from '../../src/api/gradcheck-exec.js';
import { gradcheck } from '../../src/index.js';
import { parseAt } from '../../src/core/values.js';
import { toHaveCorrectGradient } from '../../src/vitest.js';
import { cli, cliJson, ROOT } from '../helpers.js';

/**
 * The layers of fixtures/layers (plain python3 + numpy over the JSON-lines protocol), in
 * float64 and float32, right and with planted bugs: every verdict, the judged share of a
 * correct float32 layer, the noise program, a program exact in float16.
 */

const LAYERS = ['linear', 'softmax', 'mlp', 'layernorm', 'attention', 'conv1d', 'logsumexp', 'batchnorm', 'bce', 'rnn', 'mse'];
const DIR = join(ROOT, 'fixtures', 'layers');
/** The point each layer is checked at: its docstring's `at:` line. */
const atOf = (layer: string) => /at: (.*)"""/.exec(readFileSync(join(DIR, `${layer}.py`), 'utf8'))![1];

async function check(layer: string, args: string, o: Record<string, unknown> = {}) {
  const values = parseAt([atOf(layer)], { seed: 42 });
  return checkProgram({ exec: `python3 ${join(DIR, `${layer}.py`)} ${args}` }, values, { label: `${layer} ${args}`, seed: 42, ...o });
}

/** Bugs planted in the gradient of each layer's main input (protocol.py): each must fail. */
const BUGS32 = ['factor1.01', 'factor1.1', 'factor2', 'sign', 'transpose', 'drop'];
const BUGS64 = ['factor1.0001', 'sign', 'transpose', 'drop'];

describe('fixtures/layers: float32 and float64 verdicts', () => {
  for (const layer of LAYERS) {
    it(`${layer}: correct passes with ≥ 90% judged (float32 detected), every planted bug fails, in both precisions, a 1% error in any input`, async () => {
      const inputs = [...atOf(layer).matchAll(/(\w+)=/g)].map((m) => m[1]);
      const onEach = await Promise.all(inputs.map((name) => check(layer, `--dtype float32 --bug factor1.01 --on ${name}`)));
      onEach.forEach((r, k) => {
        expect(r.passed, `${layer}: 1% off in ${inputs[k]}`).toBe(false);
        expect(r.failures.filter((f) => f.kind === 'gradient').every((f) => f.entry.startsWith(`∂f/∂${inputs[k]}`))).toBe(true);
      });
      const runs = await Promise.all([
        check(layer, '--dtype float32'),
        check(layer, '--dtype float64'),
        ...BUGS32.map((b) => check(layer, `--dtype float32 --bug ${b}`)),
        ...BUGS64.map((b) => check(layer, `--dtype float64 --bug ${b}`)),
      ]);
      const [ok32, ok64, ...bad] = runs;
      expect(ok32.passed, ok32.failures.map((f) => f.message).join('\n')).toBe(true);
      expect(ok32.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
      expect(ok32.check!.judged / ok32.check!.total).toBeGreaterThanOrEqual(0.9);
      expect(ok64.passed, ok64.failures.map((f) => f.message).join('\n')).toBe(true);
      expect(ok64.precision).toMatchObject({ dtype: 'float64', source: 'default' });
      expect(ok64.check!.judged).toBe(ok64.check!.total);
      bad.forEach((r, k) => {
        const bug = k < BUGS32.length ? `float32 ${BUGS32[k]}` : `float64 ${BUGS64[k - BUGS32.length]}`;
        expect(r.passed, `${layer} ${bug}`).toBe(false);
        // a wrong entry named, not only "too little judged"
        expect(
          r.failures.some((f) => f.kind === 'gradient'),
          `${layer} ${bug}`,
        ).toBe(true);
      });
    }, 120_000);
  }
});

describe('precision through the CLI', () => {
  it('the report says which precision was assumed and how it was known; --dtype declares it; a bad --dtype is one line, exit 2', () => {
    const detected = cli(['gradcheck', '--exec', 'python3 fixtures/layers/linear.py --dtype float32', '--at', atOf('linear')]);
    expect(detected.code).toBe(0);
    expect(detected.stdout).toMatch(
      /warning: checked in float32 \(detected: every number returned is exactly a float32; --dtype to declare\): steps, noise and tolerance sized for it/,
    );
    expect(detected.stdout).toMatch(/✓ check passed: your gradient = finite differences/);
    const declared = cliJson(['gradcheck', '--exec', 'python3 fixtures/layers/linear.py --dtype float32', '--at', atOf('linear'), '--dtype', 'float32']);
    expect(declared.code).toBe(0);
    expect(declared.json.precision).toEqual({ dtype: 'float32', unit: 2 ** -23, source: 'declared' });
    expect(declared.json.check.rtol).toBe(2e-3);
    const junit = cli(['gradcheck', '--exec', 'python3 fixtures/layers/linear.py --dtype float32', '--at', atOf('linear'), '--reporter', 'junit']);
    expect(junit.stdout).toMatch(/checked in float32 \(detected/);
    const bad = cli(['gradcheck', '--exec', 'python3 fixtures/layers/linear.py', '--at', atOf('linear'), '--dtype', 'float23']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--dtype: "float23" is not a precision: give one of float64, float32, float16, bfloat16/);
  });

  it('CS231n softmax in float32 with the regulariser gradient dropped or off by 0.1·W fails (exit 1); batchnorm with a dropped term fails under --method richardson', () => {
    const softmax = cli(['gradcheck', '--exec', 'python3 fixtures/layers/softmax.py --dtype float32 --bug drop', '--at', atOf('softmax')]);
    expect(softmax.code).toBe(1);
    expect(softmax.stdout).toMatch(/✗ ∂f\/∂W\[\d,\d\]: your gradient gives/);
    // the issue's case: the regulariser's factor 2 forgotten, the gradient off by 0.1·W
    const halfreg = cliJson(['gradcheck', '--exec', 'python3 fixtures/layers/softmax.py --dtype float32 --bug halfreg', '--at', atOf('softmax')]);
    expect(halfreg.code).toBe(1);
    expect(halfreg.json.failures.every((f: { kind: string; entry: string }) => f.kind === 'gradient' && f.entry.startsWith('∂f/∂W'))).toBe(true);
    const bn = cli([
      'gradcheck',
      '--exec',
      'python3 fixtures/layers/batchnorm.py --dtype float32 --bug drop',
      '--at',
      atOf('batchnorm'),
      '--method',
      'richardson',
    ]);
    expect(bn.code).toBe(1);
    expect(bn.stdout).toMatch(/✗ gradient check failed for x/);
    expect(cli(['gradcheck', '--exec', 'python3 fixtures/layers/batchnorm.py --dtype float32', '--at', atOf('batchnorm'), '--method', 'richardson']).code).toBe(
      0,
    );
  });

  it('a program whose values are noise fails in every precision: nothing judged, and it says what would make it judgeable', () => {
    for (const dtype of ['float64', 'float32']) {
      const r = cli(['gradcheck', '--exec', `python3 fixtures/layers/noise.py --dtype ${dtype}`, '--at', atOf('noise')]);
      expect(r.code, dtype).toBe(1);
      expect(r.stdout).toMatch(/✗ finite differences judged none of the 6 entries: nothing judged is not a pass — /);
      expect(r.stdout).toMatch(/a step above (6\.1e-6|0\.0049) \(--eps\) or a smoother point; --allow-unjudged accepts it/);
      expect(r.stdout).toMatch(/✗ gradient check failed: too little judged to pass/);
    }
    const json = cliJson(['gradcheck', '--exec', 'python3 fixtures/layers/noise.py', '--at', atOf('noise')]);
    expect(json.json.passed).toBe(false);
    expect(json.json.failures).toEqual([expect.objectContaining({ kind: 'unjudged' })]);
    expect(json.json.check.judged).toBe(0);
    expect(json.json.check.noise).toBeGreaterThan(0.1);
    // accepted only when asked for
    expect(cli(['gradcheck', '--exec', 'python3 fixtures/layers/noise.py', '--at', atOf('noise'), '--allow-unjudged']).code).toBe(0);
  });

  it('a program exact in float16 is judged as float16: a layer it resolves passes, one it cannot resolve fails with the reason (--allow-unjudged accepts it)', async () => {
    const lin = await check('linear', '--dtype float16');
    expect(lin.precision).toMatchObject({ dtype: 'float16', source: 'detected' });
    expect(lin.check!.rtol).toBe(1e-2);
    expect(lin.passed).toBe(true);
    expect(lin.check!.judged / lin.check!.total).toBeGreaterThanOrEqual(0.9);
    expect((await check('linear', '--dtype float16 --bug sign')).passed).toBe(false);
    // layernorm in float16: the sum of its 18 terms rounds more than the tolerance of its gradient allows
    const ln = await check('layernorm', '--dtype float16');
    expect(ln.passed).toBe(false);
    expect(ln.failures).toEqual([
      expect.objectContaining({ kind: 'unjudged', message: expect.stringMatching(/judged none of the 30 entries: .*float16 \(detected/) }),
    ]);
    expect((await check('layernorm', '--dtype float16', { allowUnjudged: true })).passed).toBe(true);
  }, 60_000);
});

describe('precision in the library and the matcher', () => {
  // a float32 function in JS: Math.fround after every operation
  const f32 = Math.fround;
  const loss = ({ w }: { w: number[] }) => w.reduce((s, v, i) => f32(s + f32(f32(Math.sin(v)) * f32(i + 1))), 0);
  const grad =
    (k = 1) =>
    ({ w }: { w: number[] }) => ({ w: w.map((v, i) => f32(k * f32(Math.cos(v)) * (i + 1))) });
  const w = [0.3, -1.2, 0.7, 2.1, -0.4, 1.5];

  it('gradcheck(fn, inputs, { dtype }) checks float32 code; detected without it; a 1% error fails', () => {
    const declared = gradcheck(loss, { w }, { grad: grad(), dtype: 'float32' });
    expect(declared.passed).toBe(true);
    expect(declared.precision).toMatchObject({ dtype: 'float32', source: 'declared' });
    const detected = gradcheck(loss, { w }, { grad: grad() });
    expect(detected.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
    expect(detected.passed).toBe(true);
    expect(detected.check!.judged).toBe(6);
    // the same code judged as if it were float64 cannot resolve it: never a pass
    const as64 = gradcheck(loss, { w }, { grad: grad(), dtype: 'float64' });
    expect(as64.passed).toBe(false);
    const off = gradcheck(loss, { w }, { grad: grad(1.01) });
    expect(off.passed).toBe(false);
    expect(off.failures[0].kind).toBe('gradient');
    expect(() => gradcheck(loss, { w }, { grad: grad(), dtype: 'float8' as never })).toThrow(/\{ dtype \}: "float8" is not a precision/);
  });

  it('a tensor-valued float32 function: every Jacobian entry, or a projection when larger; a 1% error fails either way', () => {
    const fn = ({ w }: { w: number[] }) => w.map((v, i) => f32(f32(Math.tanh(v)) * (i + 1)));
    const vjp =
      (k: number) =>
      ({ w }: { w: number[] }, u: number[]) => ({ w: w.map((v, i) => f32(k * u[i] * (i + 1) * f32(1 - f32(Math.tanh(v)) ** 2))) });
    const big = Array.from({ length: 60 }, (_, i) => Math.sin(i));
    for (const [at, mode] of [
      [w, 'jacobian'],
      [big, 'projection'],
    ] as const) {
      const ok = gradcheck(fn as never, { w: at }, { vjp: vjp(1) as never });
      expect(ok.mode).toBe(mode);
      expect(ok.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
      expect(ok.passed).toBe(true);
      const c = (ok.check ?? ok.jacobian)!;
      expect(c.judged / c.total).toBeGreaterThanOrEqual(0.9);
      const off = gradcheck(fn as never, { w: at }, { vjp: vjp(1.01) as never });
      expect(off.passed).toBe(false);
      expect(off.failures[0].kind).toBe('gradient');
    }
  });

  it('a formula that judged nothing fails; a kink beside judged entries does not; allowUnjudged accepts it', () => {
    const none = gradcheck('abs(x)', { x: 0 });
    expect(none.passed).toBe(false);
    expect(none.failures).toEqual([
      expect.objectContaining({ kind: 'unjudged', message: expect.stringMatching(/could not judge the only entry: nothing judged is not a pass/) }),
    ]);
    expect(gradcheck('abs(x)', { x: 0 }, { allowUnjudged: true }).passed).toBe(true);
    const cliNone = cli(['grad', 'abs(x)', '--at', 'x=0']);
    expect(cliNone.code).toBe(1);
    expect(cliNone.stdout).toMatch(/✗ check failed: finite differences could not judge the only entry/);
    const accepted = cli(['grad', 'abs(x)', '--at', 'x=0', '--allow-unjudged']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout.replace(/\s+/g, ' ')).toMatch(
      /~ not judged: finite differences cannot judge any entry here \(1 entry at a kink; .*\); accepted only because unjudged entries were allowed/,
    );
    const some = gradcheck('abs(x) + y^2', { x: 0, y: 1 });
    expect(some.passed).toBe(true);
    expect(some.warnings.join('\n')).toMatch(/kink/);
  });

  it('the matcher takes dtype and allowUnjudged; nothing judged fails it', () => {
    expect(toHaveCorrectGradient(loss, { at: { w }, grad: grad() as never, dtype: 'float32' }).pass).toBe(true);
    expect(toHaveCorrectGradient(loss, { at: { w }, grad: grad(1.01) as never }).pass).toBe(false);
    const abs = ({ x }: { x: number }) => Math.abs(x);
    const r = toHaveCorrectGradient(abs, { at: { x: 0 }, grad: () => ({ x: 0.3 }) });
    expect(r.pass).toBe(false);
    expect(r.message()).toMatch(/nothing judged is not a pass/);
    expect(toHaveCorrectGradient(abs, { at: { x: 0 }, grad: () => ({ x: 0.3 }), allowUnjudged: true }).pass).toBe(true);
  });
});

describe('dtype.ts', () => {
  it('rounds to each format, ties to even, beyond its range to infinity', () => {
    expect(roundTo(1 / 3, 'float16')).toBe(0.333251953125);
    expect(roundTo(1 / 3, 'bfloat16')).toBe(0.333984375);
    expect(roundTo(1 / 3, 'float32')).toBe(Math.fround(1 / 3));
    expect(roundTo(1 + 2 ** -11, 'float16')).toBe(1); // a tie: to even
    expect(roundTo(1 + 3 * 2 ** -11, 'float16')).toBe(1 + 2 ** -9);
    expect(roundTo(65520, 'float16')).toBe(Infinity);
    expect(roundTo(2 ** -24, 'float16')).toBe(2 ** -24); // the smallest subnormal
    expect(roundTo(0.1, 'float64')).toBe(0.1);
  });

  it('detects the narrowest format holding every value; integers alone say nothing', () => {
    expect(detectDtype([Float64Array.of(0.5, 0.25, 1.5)])).toBe('float16');
    expect(detectDtype([Float64Array.of(Math.fround(0.1), 0.5)])).toBe('float32');
    expect(detectDtype([Float64Array.of(0.1)])).toBe('float64');
    expect(detectDtype([Float64Array.of(0, 1, 2)])).toBe('float64');
    expect(detectDtype([Float64Array.of(roundTo(0.1, 'bfloat16'), 3000.5)])).toBe('float32');
    expect(resolvePrecision('float32', [Float64Array.of(0.1)])).toMatchObject({ dtype: 'float32', source: 'declared' });
    // exact values from an exact point say nothing of the code's precision
    expect(detectDtype([Float64Array.of(0.25, 1)], Float64Array.of(0.5))).toBe('float64');
    expect(detectDtype([Float64Array.of(0.25, 1)], Float64Array.of(0.1))).toBe('float16');
    const sq = gradcheck(({ x }: { x: number }) => x * x, { x: 0.5 }, { grad: ({ x }: { x: number }) => ({ x: 2 * x }) });
    expect(sq.precision).toMatchObject({ dtype: 'float64', source: 'default' });
  });
});
