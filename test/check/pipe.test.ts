import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkProgram } from '../../src/api/gradcheck-exec.js';
import { parseAnswer, splitCommand } from '../../src/subjects/code/pipe.js';
import { toTensors } from '../../src/subjects/formula/grad.js';
import { ROOT } from '../helpers.js';

const layer = join(ROOT, 'fixtures', 'code', 'layer.py');
const misbehave = join(ROOT, 'fixtures', 'code', 'misbehave.py');
const values = toTensors({
  W: [
    [0.5, -1.2, 0.3, 0.2],
    [0.8, 0.1, -0.7, -0.5],
    [-0.4, 0.9, 1.1, 0.6],
  ],
  x: [0.7, -0.3, 1.4, -0.9],
  b: [0.1, -0.2, 0.05],
});
const square = toTensors({
  W: [
    [0.5, -1.2, 0.3],
    [0.8, 0.1, -0.7],
    [-0.4, 0.9, 1.1],
  ],
  x: [0.7, -0.3, 1.4],
  b: [0.1, -0.2, 0.05],
});

describe('a program over a pipe (the --exec protocol)', () => {
  it('splits a command into words without a shell; shell syntax needs one', () => {
    expect(splitCommand(`python3 "my layer.py" --bug 'sign' a\\ b`)).toEqual(['python3', 'my layer.py', '--bug', 'sign', 'a b']);
    expect(splitCommand('python3 layer.py | tee log')).toBeNull();
    expect(splitCommand('echo $HOME')).toBeNull();
    expect(() => splitCommand('python3 "layer.py')).toThrow(/never closed/);
  });

  it('reads the NaN and Infinity Python writes, and leaves them inside strings alone', () => {
    expect(parseAnswer('{"id": 1, "value": NaN, "gradient": {"x": [Infinity, -Infinity]}, "s": "NaN"}')).toEqual({
      id: 1,
      value: NaN,
      gradient: { x: [Infinity, -Infinity] },
      s: 'NaN',
    });
  });

  it('a correct Python layer passes: scalar loss (gradient) and vector output (vjp), one request per line or batched', async () => {
    for (const args of ['loss', 'dense', 'loss --batch', 'dense --batch']) {
      const r = await checkProgram({ exec: `python3 ${layer} ${args}` }, values);
      expect(r.passed, `${args}: ${r.failures.map((f) => f.message).join('; ')}`).toBe(true);
    }
  });

  it('each planted bug is caught and named by entry', async () => {
    const bug = async (kind: string, b: string, v = values) => checkProgram({ exec: `python3 ${layer} ${kind} --bug ${b}` }, v);
    const sign = await bug('loss', 'sign');
    expect(sign.failures.map((f) => f.entry)).toEqual(['∂f/∂x[1]']);
    const factor = await bug('loss', 'factor');
    expect(factor.passed).toBe(false);
    expect(Object.entries(factor.check!.variables).map(([k, v]) => `${k}:${v.passed}`)).toEqual(['W:false', 'x:false', 'b:false']);
    const t = await bug('loss', 'transpose', square);
    expect(t.failures.length).toBeGreaterThan(0);
    expect(t.failures.every((f) => /^∂f\/∂W\[(\d),(\d)\]$/.test(f.entry))).toBe(true);
    const bias = await bug('dense', 'bias');
    expect(bias.passed).toBe(false);
    expect(bias.failures[0].entry).toMatch(/^∂f\[\d\]\/∂(W|x|b)\[/);
  });

  it('above 256 entries a program is screened: random directions and a sample when right, every entry named when wrong', async () => {
    // W 10×30, x 30, b 10: 340 entries, more than PROGRAM_FD_MAX
    const big = toTensors({
      W: Array.from({ length: 10 }, (_, i) => Array.from({ length: 30 }, (_, j) => Math.sin(1 + i * 30 + j))),
      x: Array.from({ length: 30 }, (_, j) => Math.cos(j) / 2),
      b: Array.from({ length: 10 }, (_, i) => Math.sin(7 * i) / 3),
    });
    const n = 340;
    const right = await checkProgram({ exec: `python3 ${layer} loss` }, big);
    expect(right.passed).toBe(true);
    expect(right.check!.mode).toBe('directional');
    expect(right.screen).toBeUndefined();
    expect(right.evaluations).toBeLessThan(n);
    expect(right.warnings.join('\n')).toMatch(
      /340 input entries: checked 4 random directions and 64 sampled entries instead of all \(more than fdMax 256\): they agree/,
    );
    // a wrong entry the sample may miss: the directions see it, then every entry is differenced
    const sign = await checkProgram({ exec: `python3 ${layer} loss --bug sign` }, big);
    expect(sign.passed).toBe(false);
    expect(sign.check!.mode).toBe('full');
    expect(sign.failures.map((f) => f.entry)).toEqual(['∂f/∂x[1]']);
    expect(sign.screen!.found).toMatch(/random directions disagreed/);
    expect(sign.warnings.join('\n')).toMatch(
      /screened first along 4 random directions and 64 sampled entries \(\d+ evaluations\): \d of 4 random directions disagreed, so every entry was differenced/,
    );
    // a tensor output: the projection uᵀf is screened the same way
    const bias = await checkProgram({ exec: `python3 ${layer} dense --bug bias` }, big);
    expect(bias.mode).toBe('projection');
    expect(bias.passed).toBe(false);
    expect(bias.check!.mode).toBe('full');
    expect(bias.failures[0].entry).toMatch(/^∂\(uᵀf\)\/∂|^∂f/);
    // --fd-max above the size: every entry from the start, no screen
    const full = await checkProgram({ exec: `python3 ${layer} loss --bug sign` }, big, { fdMax: 400 });
    expect(full.screen).toBeUndefined();
    expect(full.evaluations).toBeGreaterThanOrEqual(4 * n + 1);
    expect(full.failures.map((f) => f.entry)).toEqual(['∂f/∂x[1]']);
    // the screen's cost on top of that very check
    expect(sign.evaluations).toBe(sign.screen!.evaluations + full.evaluations);
  });

  it('--module: a JS module in a child process, the same protocol', async () => {
    const file = join(ROOT, 'fixtures', 'code', 'layers.mjs');
    expect((await checkProgram({ module: { file, name: 'neuron' } }, values)).passed).toBe(true);
    const wrong = await checkProgram({ module: { file, name: 'reluWrongSide' } }, values, { wrt: ['W', 'x'] });
    expect(wrong.passed).toBe(false);
    await expect(checkProgram({ module: { file, name: 'nope' } }, values)).rejects.toThrow(
      /request 1 \(the value at the point\): the program exited with code 3 before answering; its stderr ended with:\n {4}.*has no function export called nope/,
    );
  });

  it('protocol misuse: each a clear error naming the request, within the time-out', async () => {
    const x = toTensors({ x: [1, 2] });
    // a time-out far above any start-up on a loaded machine, except where the time-out is what is tested
    const run = (how: string, o = {}) => checkProgram({ exec: `python3 ${misbehave} ${how}` }, x, { requestTimeout: 30, ...o });
    await expect(run('garbage')).rejects.toThrow(
      /^--exec python3 \S+ garbage: request \d+ \(.+\): line 2 of the program's output is not JSON: "Epoch 1\/10 loss=0\.25"/,
    );
    await expect(run('die')).rejects.toThrow(
      /request \d+ \(.+\): the program exited with code 1 before answering; its stderr ended with:\n {4}Traceback \(most recent call last\):\n {4}ZeroDivisionError: division by zero/,
    );
    await expect(run('wrong-id')).rejects.toThrow(/request 2 \(the gradient at the point\): the program answered id 102, but request 2 is waiting/);
    await expect(run('no-value')).rejects.toThrow(/request \d+ \(.+\): the answer has no "value"/);
    await expect(run('shape')).rejects.toThrow(/request \d+ \(.+\): "value" has shape \[2\] here, but \[\] at the point itself/);
    await expect(run('error-answer')).rejects.toThrow(/request \d+ \(.+\): the program answered with an error: "out of memory"/);
    await expect(run('long-line')).rejects.toThrow(/wrote a line longer than \d+ bytes/);
    const t0 = performance.now();
    await expect(run('silent', { requestTimeout: 1 })).rejects.toThrow(/request 1 \(the value at the point\): no answer within 1 s \(--request-timeout\)/);
    await expect(run('hang', { requestTimeout: 1 })).rejects.toThrow(/no answer within 1 s/);
    // two time-outs of 1 s, with slack for a loaded machine
    expect(performance.now() - t0).toBeLessThan(20_000);
    await expect(checkProgram({ exec: 'no-such-program-xyz' }, x)).rejects.toThrow(/cannot start it: there is no program called no-such-program-xyz/);
  });
});
