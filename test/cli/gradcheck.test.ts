import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers.js';

const AT = ['--at', 'W=randn(3,4),x=randn(4),b=randn(3)', '--seed', '1'];
const layer = (args: string) => ['gradcheck', '--exec', `python3 fixtures/code/layer.py ${args}`, ...AT];
const dir = mkdtempSync(join(tmpdir(), 'ag-gradcheck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('autograd-cli gradcheck --exec / --module', () => {
  it('a correct program passes (exit 0) with a table of its inputs', () => {
    const r = cli(layer('loss'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^--exec python3 fixtures\/code\/layer\.py loss|^python3 fixtures\/code\/layer\.py loss: its gradient against finite differences/);
    expect(r.stdout).toMatch(/\n {2}W +12 +\S+ +✓\n {2}x +4 +\S+ +✓\n {2}b +3 +\S+ +✓\n/);
    expect(r.stdout).toMatch(/✓ check passed: your gradient = finite differences \(max rel err \S+; central, \d+ evaluations\)/);
  });

  it('a wrong backward pass exits 1 naming the entry; the same through --module', () => {
    const r = cli(layer('loss --bug sign'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ ∂f\/∂x\[1\]: your gradient gives -?[\d.]+, finite differences give -?[\d.]+ \(abs err/);
    const m = cli(['gradcheck', '--module', 'fixtures/code/layers.mjs#quadraticNoTwo', '--at', 'W=randn(3,3),x=randn(3)']);
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(/✗ ∂f\/∂x\[\d\]: your gradient gives/);
    expect(cli(['gradcheck', '--module', 'fixtures/code/layers.mjs#dense', '--at', 'W=randn(3,4),x=randn(4),b=randn(3)']).code).toBe(0);
  });

  it('--fd-max below the size: a screen first, and every entry named when it disagrees', () => {
    // W 8×10, x 10, b 8: 98 entries, more than --fd-max 50 and the sample of 64
    const at = ['--at', 'W=randn(8,10),x=randn(10),b=randn(8)', '--fd-max', '50'];
    const ok = cli(['gradcheck', '--exec', 'python3 fixtures/code/layer.py loss', ...at]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /warning: 98 input entries: checked 4 random directions and 64 sampled entries instead of all \(more than fdMax 50\): they agree/,
    );
    expect(ok.stdout).toMatch(/✓ check passed: .*directional/);
    const bad = cli(['gradcheck', '--exec', 'python3 fixtures/code/layer.py loss --bug sign', ...at, '--reporter', 'json']);
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.stdout);
    expect(json.check.mode).toBe('full');
    expect(json.screen).toMatchObject({ directions: 4, sampled: 64 });
    expect(json.failures.map((f: { entry: string }) => f.entry)).toEqual(['∂f/∂x[1]']);
  });

  it('an input called __proto__ is sent to the program like any other', () => {
    const at = ['--at', '__proto__=1,W=randn(2,2),x=randn(2),b=randn(2)'];
    const asked = cli(['gradcheck', '--module', 'fixtures/code/layers.mjs#neuron', ...at]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(/"gradient" returned no gradient for __proto__\n\s+hint: give one entry per input: __proto__, W, x, b/);
    const json = JSON.parse(cli(['gradcheck', '--module', 'fixtures/code/layers.mjs#neuron', ...at, '--wrt', 'W,x,b', '--json']).stdout);
    expect(json.passed).toBe(true);
    expect(Object.keys(json.point)).toEqual(['__proto__', 'W', 'x', 'b']);
  });

  it('reporters: json, junit, tap, github; -o writes the file and keeps the table', () => {
    const j = cli([...layer('dense --bug bias'), '--reporter', 'json']);
    expect(j.code).toBe(1);
    const json = JSON.parse(j.stdout);
    expect(json.passed).toBe(false);
    expect(json.mode).toBe('jacobian');
    expect(json.failures[0].entry).toMatch(/^∂f\[\d\]\/∂/);
    expect(cli([...layer('loss --bug factor'), '--reporter', 'junit']).stdout).toMatch(/<failure message="∂f\/∂\w+(\[[\d,]+\])?: your gradient gives/);
    expect(cli([...layer('loss --bug factor'), '--reporter', 'tap']).stdout).toMatch(
      /^TAP version 13\n1\.\.1\nnot ok 1 - gradcheck python3 fixtures\/code\/layer\.py loss --bug factor/,
    );
    expect(cli([...layer('loss --bug factor'), '--reporter', 'github']).stdout).toMatch(
      /^::error title=autograd-cli check%3A gradcheck python3 fixtures\/code\/layer\.py loss --bug factor::∂f\/∂/,
    );
    const out = join(dir, 'report.xml');
    const o = cli([...layer('loss'), '--reporter', 'junit', '-o', out]);
    expect(o.code).toBe(0);
    expect(o.stdout).toMatch(/✓ check passed/);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml/);
  });

  it("names the mistake's pattern: in the verdict line, the json, and the junit, tap and github messages; nothing for right code", () => {
    const mod = (fn: string, ...more: string[]) =>
      cli([
        'gradcheck',
        '--module',
        `fixtures/code/mistakes.mjs#${fn}`,
        '--at',
        'W=randn(4,4),X=randn(5,4),T=randn(5,4)',
        '--wrt',
        'W',
        '--seed',
        '1',
        ...more,
      ]);
    const right = mod('softmaxLoss', '--json');
    expect(right.code).toBe(0);
    expect(JSON.parse(right.stdout).mistakes).toEqual([]);
    const reg = mod('softmaxLossReg');
    expect(reg.code).toBe(1);
    expect(reg.stdout).toMatch(
      /\n✗ gradient check failed for W \(.*\): your ∂f\/∂W differs by -0\.1·W everywhere: a regulariser term 0\.1·‖W‖² missing its factor 2, or a term 0\.05·‖W‖² whose gradient was left out\?\n$/,
    );
    const sum = JSON.parse(mod('softmaxMean', '--json').stdout);
    expect(sum.mistakes).toEqual([
      {
        input: 'W',
        code: 'factor',
        words: 'your ∂f/∂W is off by a constant factor: it is 5 × the true value (5 = the first dimension of X: a sum where the function has a mean?)',
      },
    ]);
    const words = 'your ∂f/∂W is the transpose of the true value';
    expect(mod('softmaxTransposed', '--reporter', 'junit').stdout).toMatch(
      new RegExp(`<failure message="∂f/∂W\\[\\d,\\d\\]: your gradient gives [^"]* — ${words}"`),
    );
    expect(mod('softmaxTransposed', '--reporter', 'tap').stdout).toMatch(
      new RegExp(`\\n {2}"message": "∂f/∂W\\[\\d,\\d\\]: your gradient gives .* — ${words}"\\n`),
    );
    expect(mod('softmaxTransposed', '--reporter', 'github').stdout).toMatch(
      new RegExp(`^::error title=[^:]*::∂f/∂W\\[\\d,\\d\\]: your gradient gives .* — ${words}$`, 'm'),
    );
  });

  it('--reference: the formula is the truth', () => {
    expect(cli([...layer('loss'), '--reference', 'sum((W*x + b).^2)']).code).toBe(0);
    const r = cli([...layer('loss --bug factor'), '--reference', 'sum((W*x + b).^2)']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/the reference formula's autodiff gives/);
  });

  it('cannot run: exit 2 with one clear line, no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['gradcheck', '--at', 'x=1'], /^error: name the code to check/],
      [
        ['gradcheck', '--exec', 'python3 fixtures/code/misbehave.py garbage', '--at', 'x=[1,2]'],
        /^error: --exec python3 fixtures\/code\/misbehave\.py garbage: request 2 \(the gradient at the point\): line 2 of the program's output is not JSON/,
      ],
      [
        ['gradcheck', '--exec', 'python3 fixtures/code/misbehave.py silent', '--at', 'x=[1,2]', '--request-timeout', '1'],
        /^error: --exec .*: request 1 \(the value at the point\): no answer within 1 s \(--request-timeout\)/,
      ],
      [
        ['gradcheck', '--exec', 'python3 fixtures/code/misbehave.py die', '--at', 'x=[1,2]'],
        /the program exited with code 1 before answering; its stderr ended with:\n {4}Traceback/,
      ],
      [
        layer('loss --bug transpose'),
        /^error: --exec .*: request 2 \(the gradient at the point\): "gradient"\.W has shape \[4,3\], but W has shape \[3,4\]: the transpose of its shape \(a transposed weight gradient\?\)\n\s+hint: a gradient has its input's shape: ∂f\/∂W is \[3,4\]/,
      ],
      [['gradcheck', '--module', 'fixtures/code/layers.mjs#nope', '--at', 'x=1'], /has no function export called nope \(it exports /],
      [['gradcheck', '--module', 'fixtures/code/none.mjs', '--at', 'x=1'], /^error: --module fixtures\/code\/none\.mjs: there is no file/],
      [
        ['gradcheck', '--exec', 'python3 fixtures/code/layer.py', '--at', 'W=randn(3,4),x=randn(4),b=randn(3)', '-o', 'fixtures/code/layer.py'],
        /^error: .*layer\.py/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.(c?js|ts):\d+/);
    }
    expect(existsSync('fixtures/code/layer.py') && readFileSync('fixtures/code/layer.py', 'utf8')).toMatch(/^#!\/usr\/bin\/env python3/);
  });
});
