import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, pythonWith } from '../helpers.js';

/**
 * The layers as Python functions, not protocol programs: fixtures/layers/*.py#layer under
 * --python (NumPy, LAYER_BUG plants the mistake in `layer` itself), and
 * fixtures/python/torch_layers.py's custom autograd.Functions under --torch, in float32
 * and float64, right and with planted bugs: every verdict and exit code, the precision,
 * the judged share, and the mistake named. Each run starts an interpreter (torch's
 * import is most of it): two at a time.
 */
const TORCH_PY = pythonWith('numpy, torch');
const NUMPY_PY = pythonWith('numpy');

const LAYERS = join(ROOT, 'fixtures', 'layers');
const atOf = (layer: string) => /at: (.*)"""/.exec(readFileSync(join(LAYERS, `${layer}.py`), 'utf8'))![1];

const dir = mkdtempSync(join(tmpdir(), 'ag-python-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  // the --json report
  json: any;
  stderr: string;
}

/** The CLI with --json, asynchronously (so two runs share the machine's cores). */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--json', '--request-timeout', '120'],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 180_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code, json, stderr });
      },
    );
  });
}

/** Jobs run two at a time, their results in order. */
async function twoAtATime<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await jobs[k]();
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

interface Case {
  dtype: 'float32' | 'float64';
  bug?: string;
}

/** A correct layer: exit 0 in its declared precision, ≥ 90% judged in float32, all in float64. */
function passes(r: Run, what: string, dtype: string): void {
  expect(r.code, `${what}: ${r.stderr}${JSON.stringify(r.json?.failures)}`).toBe(0);
  expect(r.json.passed).toBe(true);
  expect(r.json.precision).toMatchObject({ dtype, source: 'declared' });
  const c = r.json.check;
  if (dtype === 'float32') expect(c.judged / c.total, what).toBeGreaterThanOrEqual(0.9);
  else expect(c.judged, what).toBe(c.total);
  expect(r.json.mistakes, what).toEqual([]);
}

/**
 * A planted bug: exit 1, a wrong entry named (not only "too little judged"); a factor, sign
 * or transpose planted in `main` fails there only and is named as such (a transpose where
 * every entry was judged: a permutation moves entries to places not compared). A dropped
 * term may reach other inputs (attention's softmax Jacobian feeds Q and K).
 */
function fails(r: Run, what: string, bug: string, main: string | undefined): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(1);
  expect(r.json.passed).toBe(false);
  expect(
    r.json.failures.some((f: { kind: string }) => f.kind === 'gradient'),
    what,
  ).toBe(true);
  if (main && bug !== 'drop')
    expect(
      r.json.failures.every((f: { entry: string }) => f.entry.startsWith(`∂f/∂${main}`)),
      what,
    ).toBe(true);
  const named = (r.json.mistakes as { input: string; code: string }[]).filter((m) => !main || m.input === main).map((m) => m.code);
  if (bug.startsWith('factor')) expect(named, what).toContain('factor');
  if (bug === 'sign') expect(named, what).toContain('negated');
  const allJudged = r.json.check.variables[main ?? '']?.unjudged === 0;
  if (bug === 'transpose' && main && allJudged)
    expect(
      named.some((c) => c === 'transposed' || c === 'permuted'),
      what,
    ).toBe(true);
}

// right, and each planted bug, in both precisions
const BUGS = ['factor1.01', 'sign', 'transpose', 'drop'];
const CASES: Case[] = (['float32', 'float64'] as const).flatMap((dtype) => [{ dtype }, ...BUGS.map((bug) => ({ dtype, bug }))]);

describe('gradcheck --python on fixtures/layers/*.py#layer (the same layers as the --exec programs)', () => {
  // the layer's main input, where protocol.py plants its mistakes
  const MAIN: Record<string, string> = { linear: 'W', softmax: 'W', layernorm: 'x', attention: 'Q' };
  const python = (layer: string, c: Case) => () =>
    run(
      ['gradcheck', '--python', `fixtures/layers/${layer}.py#layer`, '--at', atOf(layer), '--dtype', c.dtype, '--interpreter', NUMPY_PY!],
      c.bug ? { LAYER_BUG: c.bug } : {},
    );

  for (const layer of Object.keys(MAIN)) {
    it(`${layer}: right passes in float32 (≥ 90% judged) and float64; factor 1.01, sign, transpose, dropped term fail on ${MAIN[layer]}, named`, async () => {
      expect(NUMPY_PY, 'a python3 with NumPy (apt-get install python3-numpy)').toBeDefined();
      const runs = await twoAtATime(CASES.map((c) => python(layer, c)));
      runs.forEach((r, k) => {
        const { dtype, bug } = CASES[k];
        const what = `${layer} ${dtype} ${bug ?? 'right'}`;
        if (bug) fails(r, what, bug, MAIN[layer]);
        else passes(r, what, dtype);
      });
    }, 120_000);
  }

  it('the other layers, right, in float32: each passes with ≥ 90% judged', async () => {
    expect(NUMPY_PY, 'a python3 with NumPy').toBeDefined();
    const others = ['mlp', 'conv1d', 'logsumexp', 'batchnorm', 'bce', 'rnn', 'mse'];
    const runs = await twoAtATime(others.map((layer) => python(layer, { dtype: 'float32' })));
    runs.forEach((r, k) => passes(r, `${others[k]} float32`, 'float32'));
  }, 120_000);

  it("CS231n softmax in float32 with the regulariser's factor 2 forgotten: fails and names 0.1·W, as in float64", async () => {
    const [r32, r64] = await twoAtATime((['float32', 'float64'] as const).map((dtype) => python('softmax', { dtype, bug: 'halfreg' })));
    for (const r of [r32, r64]) {
      expect(r.code).toBe(1);
      expect(r.json.mistakes).toEqual([
        {
          input: 'W',
          code: 'proportional',
          words: 'your ∂f/∂W differs by -0.1·W everywhere: a regulariser term 0.1·‖W‖² missing its factor 2, or a term 0.05·‖W‖² whose gradient was left out?',
        },
      ]);
    }
  }, 60_000);

  it('float32 detected through the adapter: a function computing in float32 inside, no --dtype', async () => {
    expect(NUMPY_PY, 'a python3 with NumPy').toBeDefined();
    const file = join(dir, 'inside32.py');
    writeFileSync(
      file,
      'import numpy as np\n\ndef f(w):\n    w = w.astype(np.float32)\n    return np.sum(np.sin(w) * np.float32(3)), {"w": np.cos(w) * np.float32(3)}\n\ndef f_bug(w):\n    v, g = f(w)\n    return v, {"w": g["w"] * np.float32(1.01)}\n',
    );
    const [ok, bad] = await twoAtATime(
      ['f', 'f_bug'].map((fn) => () => run(['gradcheck', '--python', `${file}#${fn}`, '--at', 'w=randn(8)', '--interpreter', NUMPY_PY!])),
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
    expect(ok.json.check.judged / ok.json.check.total).toBeGreaterThanOrEqual(0.9);
    expect(bad.code).toBe(1);
    expect(bad.json.precision).toMatchObject({ dtype: 'float32', source: 'detected' });
    expect(bad.json.mistakes).toEqual([expect.objectContaining({ input: 'w', code: 'factor' })]);
  }, 60_000);
});

describe('gradcheck --torch on custom autograd.Functions (fixtures/python/torch_layers.py)', () => {
  // the Function's main gradient carries the bug; softmax's is the logits', which reaches both W and b
  const LOSSES: Record<string, { at: string; main?: string }> = {
    linear_loss: { at: 'W=randn(4,5),x=randn(5),b=randn(4)', main: 'W' },
    layernorm_loss: { at: 'x=randn(3,6),gamma=randn(6),beta=randn(6)', main: 'x' },
    softmax_loss: { at: 'W=randn(5,4),b=randn(4)' },
  };
  for (const [loss, { at, main }] of Object.entries(LOSSES)) {
    it(`${loss}: right passes in float32 (≥ 90% judged) and float64; factor 1.01, sign, transpose, dropped term in its backward fail`, async () => {
      expect(TORCH_PY, 'a python3 with NumPy and torch (apt-get install python3-numpy python3-torch)').toBeDefined();
      const runs = await twoAtATime(
        CASES.map(
          (c) => () =>
            run(
              ['gradcheck', '--torch', `fixtures/python/torch_layers.py#${loss}`, '--at', at, '--dtype', c.dtype, '--interpreter', TORCH_PY!],
              c.bug ? { LAYER_BUG: c.bug } : {},
            ),
        ),
      );
      runs.forEach((r, k) => {
        const { dtype, bug } = CASES[k];
        const what = `${loss} ${dtype} ${bug ?? 'right'}`;
        if (bug) fails(r, what, bug, main);
        else passes(r, what, dtype);
      });
    }, 120_000);
  }
});
