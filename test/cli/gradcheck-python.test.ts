import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, pythonWith, type CliResult } from '../helpers.js';

/**
 * gradcheck --python / --torch: Python functions checked through the adapter
 * (python/autograd_cli_adapter.py), run by the Python that has NumPy and torch (pythonWith).
 */
const TORCH_PY = pythonWith('numpy, torch');
const NUMPY_PY = pythonWith('numpy');

const dir = mkdtempSync(join(tmpdir(), 'ag-gradcheck-python-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// float32 verdicts by the defaults: steps, noise and tolerance sized from the precision (src/verify/dtype.ts)
const F32 = ['--dtype', 'float32'];
// the first answer includes the interpreter's start and torch's import: generous on a loaded machine
const SLACK = ['--request-timeout', '120'];
const SOFTMAX = ['--at', 'W=randn(5,3),X=randn(4,5),y=[0,2,1,2]', '--wrt', 'W'];
const QUADRATIC = ['--at', 'W=randn(3,2),x=randn(2)'];
const AFFINE = ['--at', 'x=randn(4,3),W=randn(3,2),b=randn(2)'];
const LINEAR = ['--at', 'x=randn(4,3),W=randn(2,3),b=randn(2)'];

function numpy(spec: string, args: string[], env?: Record<string, string>): CliResult {
  expect(NUMPY_PY, 'a python3 with NumPy (apt-get install python3-numpy)').toBeDefined();
  return cli(['gradcheck', '--python', `fixtures/python/${spec}`, ...args, '--interpreter', NUMPY_PY!, ...SLACK], { env });
}

function torch(spec: string, args: string[], env?: Record<string, string>): CliResult {
  expect(TORCH_PY, 'a python3 with NumPy and torch (apt-get install python3-numpy python3-torch)').toBeDefined();
  return cli(['gradcheck', '--torch', `fixtures/python/${spec}`, ...args, '--interpreter', TORCH_PY!, ...SLACK], { env });
}

/** An error: exit 2, the one line given (and at most a hint), nothing on stdout, no Python traceback. */
function refused(r: CliResult, line: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines.length === 1 || (lines.length === 2 && /^ {2}hint: /.test(lines[1])), r.stderr).toBe(true);
  expect(r.stderr).toMatch(line);
  expect(r.stderr).not.toMatch(/Traceback|File "/);
}

/** Every number in a nested list is exactly a float32. */
const allFloat32 = (v: unknown): boolean => (Array.isArray(v) ? v.every(allFloat32) : typeof v === 'number' && Math.fround(v) === v);

/** A --json report of a passed float32 check: declared float32, at least 90% of its entries judged. */
function passedIn32(r: CliResult) {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.precision).toMatchObject({ dtype: 'float32', source: 'declared' });
  const c = j.check ?? j.jacobian;
  expect(c.judged / c.total).toBeGreaterThanOrEqual(0.9);
  return j;
}

describe('gradcheck --python: a NumPy function returning (value, gradients)', () => {
  it("a CS231n softmax loss passes; with the regulariser's factor 2 missing it fails naming ∂f/∂W entries", () => {
    const ok = numpy('softmax.py#softmax_loss', SOFTMAX);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^fixtures\/python\/softmax\.py#softmax_loss: its gradient against finite differences\n/);
    expect(ok.stdout).toMatch(/\n {2}W +15 +\S+ +✓\n/);
    expect(ok.stdout).toMatch(/✓ check passed: your gradient = finite differences/);
    const bad = numpy('softmax.py#softmax_loss_bug', SOFTMAX);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ ∂f\/∂W\[\d,\d\]: your gradient gives -?[\d.]+, finite differences give -?[\d.]+/);
    expect(bad.stdout).toMatch(/✗ gradient check failed for W/);
  });

  it('gradients as a dict by name or as a tuple in the order of the parameters (not of --at)', () => {
    expect(numpy('returns.py#quadratic_dict', QUADRATIC).code).toBe(0);
    // quadratic_tuple(x, W) returns (dx, dW) while --at gives W first
    const tuple = numpy('returns.py#quadratic_tuple', [...QUADRATIC, '--json']);
    expect(tuple.code, tuple.stderr).toBe(0);
    const dict = JSON.parse(numpy('returns.py#quadratic_dict', [...QUADRATIC, '--json']).stdout);
    expect(JSON.parse(tuple.stdout).gradient).toEqual(dict.gradient);
    // a loss of one entry as an array of shape (1,) is still a scalar loss with its gradients
    expect(numpy('returns.py#quadratic_keepdims', QUADRATIC).code).toBe(0);
    const sign = numpy('returns.py#quadratic_sign', QUADRATIC);
    expect(sign.code).toBe(1);
    expect(sign.stdout).toMatch(/✗ ∂f\/∂x\[\d\]: your gradient gives/);
    expect(sign.stdout).not.toMatch(/✗ ∂f\/∂W/);
  });

  it('a tensor-valued function returns (value, backward): checked through vector–Jacobian products', () => {
    const ok = numpy('returns.py#affine', AFFINE);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/every Jacobian entry \(your vjp of each output\) against finite differences/);
    const bad = numpy('returns.py#affine_bug', AFFINE);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ gradient check failed for b\b/);
    refused(
      numpy('returns.py#affine_no_backward', AFFINE),
      /^error: --python fixtures\/python\/returns\.py#affine_no_backward: a vjp at the point: affine_no_backward's value has shape \(4, 2\): a tensor-valued function returns \(value, backward\)/,
    );
  });

  it('--dtype float32: the inputs are converted, and every value and gradient comes back as the float32 it is', () => {
    const j32 = passedIn32(numpy('softmax.py#softmax_loss', [...SOFTMAX, ...F32, '--json']));
    expect(allFloat32(j32.value)).toBe(true);
    expect(allFloat32(j32.gradient.W)).toBe(true);
    const j64 = JSON.parse(numpy('softmax.py#softmax_loss', [...SOFTMAX, '--json']).stdout);
    expect(allFloat32(j64.gradient.W)).toBe(false);
    expect(j32.value).toBeCloseTo(j64.value, 5);
    const bad = numpy('softmax.py#softmax_loss_bug', [...SOFTMAX, ...F32]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ ∂f\/∂W\[/);
  });

  it('what FN prints goes to stderr and does not break the protocol', () => {
    const r = numpy('returns.py#noisy', QUADRATIC);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/debugging/);
  });
});

describe('gradcheck --torch: gradients from torch.autograd (custom autograd.Function backward passes)', () => {
  it('a hand-written sigmoid backward: Sigmoid.apply (or the class) passes, the buggy one fails per Jacobian entry', () => {
    const ok = torch('torch_functions.py#Sigmoid.apply', ['--at', 'x=randn(6)']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\n {2}x +36 +\S+ +✓\n/);
    expect(torch('torch_functions.py#Sigmoid', ['--at', 'x=randn(6)']).code).toBe(0);
    const bad = torch('torch_functions.py#SigmoidBug.apply', ['--at', 'x=randn(6)']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ ∂f\[(\d)\]\/∂x\[\1\]: your vjp gives/);
  });

  it('a linear Function inside a scalar loss: right passes, the transposed weight gradient fails on W only', () => {
    const ok = torch('torch_functions.py#linear_loss', LINEAR);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\n {2}x +12 +\S+ +✓\n {2}W +6 +\S+ +✓\n {2}b +2 +\S+ +✓\n/);
    const bad = JSON.parse(torch('torch_functions.py#linear_loss_bug', [...LINEAR, '--json']).stdout);
    expect(bad.passed).toBe(false);
    expect(bad.failures.length).toBeGreaterThan(0);
    for (const f of bad.failures) expect(f.entry).toMatch(/^∂f\/∂W\[/);
  });

  it('--dtype float32: tensors in float32, values and gradients sent exactly; a buggy Function still fails', () => {
    const j = passedIn32(torch('torch_functions.py#linear_loss', [...LINEAR, ...F32, '--json']));
    expect(allFloat32(j.value)).toBe(true);
    for (const k of ['x', 'W', 'b']) expect(allFloat32(j.gradient[k]), k).toBe(true);
    const bad = JSON.parse(torch('torch_functions.py#linear_loss_bug', [...LINEAR, ...F32, '--json']).stdout);
    expect(bad.passed).toBe(false);
    for (const f of bad.failures) expect(f.entry).toMatch(/^∂f\/∂W\[/);
    passedIn32(torch('torch_functions.py#Sigmoid.apply', ['--at', 'x=randn(6)', ...F32, '--json']));
    const sig = torch('torch_functions.py#SigmoidBug.apply', ['--at', 'x=randn(6)', ...F32]);
    expect(sig.code).toBe(1);
    expect(sig.stdout).toMatch(/✗ ∂f\[(\d)\]\/∂x\[\1\]: your vjp gives/);
  });

  it('a value that left torch, or a (value, gradients) pair, is named', () => {
    refused(
      torch('torch_functions.py#detached', ['--at', 'x=randn(3)']),
      /^error: --torch fixtures\/python\/torch_functions\.py#detached: the gradient at the point: detached's value does not depend on x through torch: it has no grad_fn/,
    );
    refused(
      torch('torch_functions.py#value_and_gradient', ['--at', 'x=randn(3)']),
      /value_and_gradient returned a tuple of 2: under --torch it returns its value as one tensor/,
    );
  });
});

describe('gradcheck --python / --torch: one line, exit 2, when it cannot run', () => {
  it('no file, no such function (the ones there named), not a Python name', () => {
    refused(numpy('nothere.py#f', QUADRATIC), /^error: --python fixtures\/python\/nothere\.py#f: there is no file fixtures\/python\/nothere\.py$/m);
    refused(
      numpy('softmax.py#softmax', SOFTMAX),
      /^error: --python fixtures\/python\/softmax\.py#softmax: softmax\.py has no function called softmax \(it defines softmax_loss, softmax_loss_bug\)$/m,
    );
    refused(torch('torch_functions.py#Sigmoid.aply', ['--at', 'x=randn(3)']), /: Sigmoid has no function called aply$/m);
    refused(numpy('softmax.py', SOFTMAX), /--python should be FILE\.py#FUNCTION/);
    refused(numpy('softmax.py#soft-max', SOFTMAX), /"soft-max" is not a Python name/);
  });

  it('FN raises: its exception type and message, and where', () => {
    refused(numpy('returns.py#raises', QUADRATIC), /^error: --python fixtures\/python\/returns\.py#raises: raises raised LinAlgError: Singular matrix$/m);
  });

  it('FN returns the wrong thing: the input and both shapes, the count, the missing name', () => {
    refused(numpy('returns.py#transposed', QUADRATIC), /transposed's gradient for W has shape \(2, 3\), but W has shape \(3, 2\): the transpose/);
    refused(
      numpy('returns.py#too_few', QUADRATIC),
      /too_few returned 1 gradient, but it takes 2 inputs \(W, x\): give one per input in that order, or a dict by name/,
    );
    refused(numpy('returns.py#missing', QUADRATIC), /missing's gradients have no entry for x \(they have W\)/);
    refused(numpy('returns.py#value_only', QUADRATIC), /value_only must return \(value, gradients\), not a float64/);
  });

  it('python3 missing, NumPy missing, torch missing', () => {
    const noPython = cli(['gradcheck', '--python', 'fixtures/python/softmax.py#softmax_loss', ...SOFTMAX, ...SLACK], { env: { PATH: dir } });
    refused(noPython, /^error: --python fixtures\/python\/softmax\.py#softmax_loss: cannot start it: there is no program called python3$/m);
    // a sitecustomize first on PYTHONPATH makes the import fail, as on a machine without the package
    const blocker = (name: string) => {
      const d = join(dir, `no-${name}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(
        join(d, 'sitecustomize.py'),
        `import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n        if name == "${name}" or name.startswith("${name}."):\n            raise ModuleNotFoundError(f"No module named '{name}'", name=name)\nsys.meta_path.insert(0, Block())\n`,
      );
      return { PYTHONPATH: d };
    };
    refused(
      numpy('softmax.py#softmax_loss', SOFTMAX, blocker('numpy')),
      /^error: --python fixtures\/python\/softmax\.py#softmax_loss: numpy cannot be imported by \S+ \(not installed\): install it for this Python \(pip install numpy\), or give --interpreter a Python that has it$/m,
    );
    refused(
      torch('torch_functions.py#Sigmoid.apply', ['--at', 'x=randn(3)'], blocker('torch')),
      /^error: --torch fixtures\/python\/torch_functions\.py#Sigmoid\.apply: torch cannot be imported by \S+ \(not installed\): install it for this Python \(pip install torch\)/m,
    );
  });

  it('--dtype bfloat16 under NumPy, and two targets at once, are usage errors', () => {
    refused(numpy('softmax.py#softmax_loss', [...SOFTMAX, '--dtype', 'bfloat16']), /--dtype bfloat16: NumPy has no bfloat16; check the code under --torch/);
    refused(
      cli(['gradcheck', '--python', 'fixtures/python/softmax.py#softmax_loss', '--torch', 'fixtures/python/softmax.py#softmax_loss', ...SOFTMAX]),
      /give one of --python, --torch, not both/,
    );
  });
});

describe("a slow start (the interpreter, torch, the file's imports)", () => {
  it("under --python, --request-timeout counts from the adapter's hello; --timeout bounds the start", () => {
    const slow = join(dir, 'slow_import.py');
    writeFileSync(slow, 'import time\ntime.sleep(4)  # heavy imports\n\ndef f(x):\n    return (x * x).sum(), 2 * x\n');
    expect(NUMPY_PY, 'a python3 with NumPy').toBeDefined();
    const run = (extra: string[]) =>
      cli(['gradcheck', '--python', `${slow}#f`, '--at', 'x=randn(3)', '--interpreter', NUMPY_PY!, '--request-timeout', '3', ...extra]);
    const r = run([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stopped = run(['--timeout', '2']);
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toMatch(/took longer than 2 s \(--timeout\)/);
  });
});
