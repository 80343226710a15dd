import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { builderOf, type ArgsOf } from './options.js';
import { AgError } from '../core/errors.js';
import { assertNotInput } from '../core/io/write.js';
import { reportersText } from '../report/reporters.js';
import { emitReport, reporterOption } from './report.js';
import { formatError } from '../report/errors.js';
import { parseAt } from '../core/values.js';
import { splitCommand } from '../subjects/code/pipe.js';
import { readDtype } from '../verify/dtype.js';
import {
  colors,
  EXIT_FAIL,
  EXIT_OK,
  JSON_OPTION,
  inputFiles,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  positiveNumber,
  run,
  writeOut,
} from './common.js';

export const command = 'gradcheck';
export const describe =
  'check the gradient of your own code: a program over a pipe (--exec), a JS module (--module), a Python function (--python, --torch), against finite differences';

/** Seconds one answer may take by default. */
const REQUEST_TIMEOUT = 10;

export const positionals = {} as const;

export const options = {
  ...LIMIT_OPTIONS,
  exec: {
    type: 'string',
    requiresArg: true,
    describe: 'the program to check: it reads JSON requests on stdin and writes JSON answers on stdout, one per line (see docs/your-code.md)',
  },
  module: {
    type: 'string',
    requiresArg: true,
    describe: 'a JS module and the export to check: ./layer.mjs#loss (loss.grad / loss.vjp, or the exports lossGrad / lossVjp)',
  },
  python: {
    type: 'string',
    requiresArg: true,
    describe: 'a Python function over NumPy arrays: ./layer.py#loss, called loss(**inputs), returning (value, gradients)',
  },
  torch: {
    type: 'string',
    requiresArg: true,
    describe: 'a Python function over torch tensors: ./layer.py#loss or ./ops.py#MyFunction.apply; torch.autograd gives the gradients',
  },
  interpreter: { type: 'string', requiresArg: true, default: 'python3', describe: 'the Python that runs --python and --torch' },
  at: {
    type: 'string',
    array: true,
    requiresArg: true,
    default: [] as string[],
    describe: 'the point: name=value,... (constant expressions, [[1,2],[3,4]], randn(3,4)), name=@file.npy, or @values.json',
  },
  wrt: { type: 'string', array: true, describe: 'check only these inputs (comma-separated); the others are passed as given' },
  reference: {
    type: 'string',
    requiresArg: true,
    describe: "a formula for the same function in the inputs' names: its autodiff is the truth (exact to rounding); finite differences still run",
  },
  seed: { type: 'number', default: 42, describe: 'seed of randn/rand in --at and of the random directions and cotangents' },
  rtol: { type: 'number', describe: 'relative tolerance (default 1e-5)' },
  atol: { type: 'number', describe: 'absolute tolerance (default 1e-7)' },
  eps: { type: 'number', describe: 'a fixed relative finite-difference step (default: adaptive steps)' },
  method: { choices: ['central', 'richardson'] as const, describe: 'finite-difference method (default central)' },
  dtype: {
    type: 'string',
    requiresArg: true,
    describe:
      'the precision the code computes in: float64, float32, float16, bfloat16 (default: detected from the numbers it returns); --python and --torch convert the inputs to it',
  },
  'allow-unjudged': {
    type: 'boolean',
    default: false,
    describe: 'pass even when finite differences judged too little (an input with no judged entry, or under half of all entries)',
  },
  'fd-max': {
    type: 'number',
    describe:
      'difference every entry up to this many (Jacobian entries for a tensor output); above it, a screen of random directions and a sample, and every entry (up to 2000) only when the screen disagrees (default 256)',
  },
  directions: { type: 'number', describe: 'random directions above --fd-max (default 4)' },
  'request-timeout': { type: 'number', default: REQUEST_TIMEOUT, describe: 'seconds the program may take to answer one request' },
  engine: { choices: ['auto', 'js', 'native'] as const, default: 'auto' as const, describe: 'which engine runs the --reference formula' },
  reporter: reporterOption('function', `report format: ${reportersText('function')}`),
  output: { alias: 'o', type: 'string', requiresArg: true, describe: 'write the report to this file; the table still goes to the terminal' },
  json: { ...JSON_OPTION, describe: 'the same as --reporter json' },
} as const;

const examples = [
  ['$0 gradcheck --exec "python3 layer.py" --at "W=randn(3,4),x=randn(4),b=randn(3)"', "a Python layer's hand-written backward pass"],
  ['$0 gradcheck --module ./layers.mjs#loss --at "W=randn(3,4),x=randn(4)" --reporter github', 'a JS function with loss.grad, annotations for GitHub Actions'],
  ['$0 gradcheck --python softmax.py#softmax_loss --at "W=randn(5,3),X=randn(4,5),y=[0,2,1,2]" --wrt W', 'a NumPy loss returning (loss, dW)'],
  ['$0 gradcheck --torch ops.py#Sigmoid.apply --at "x=randn(8)" --dtype float32', "a custom torch.autograd.Function's backward, in float32"],
  ['$0 gradcheck --exec "./net" --at @point.json --reference "sum(tanh(W*x + b))"', "the formula's autodiff as the truth"],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

/** `./layer.mjs#loss` → the file and the export (`default` without #name). */
export function parseModule(spec: string): { file: string; name: string } {
  const hash = spec.lastIndexOf('#');
  const file = hash >= 0 ? spec.slice(0, hash) : spec;
  const name = hash >= 0 ? spec.slice(hash + 1) : 'default';
  if (!file) throw new AgError('usage', `--module should be FILE#export, not "${spec}"`);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new AgError('usage', `--module ${spec}: "${name}" is not an export name`);
  return { file: existingFile(file, `--module ${spec}`), name };
}

/** The file's full path; one line when it is not there, or not a file. */
function existingFile(file: string, where: string): string {
  const path = resolve(file);
  if (!existsSync(path)) throw new AgError('io', `${where}: there is no file ${file}`);
  if (!statSync(path).isFile()) throw new AgError('io', `${where}: ${file} is not a file`);
  return path;
}

/** `layer.py#loss` (`--python`) → the file, as found from the working directory, and the callable (`MyFunction.apply` too). */
export function parsePython(spec: string, flag: '--python' | '--torch'): { file: string; fn: string } {
  const hash = spec.lastIndexOf('#');
  if (hash <= 0) throw new AgError('usage', `${flag} should be FILE.py#FUNCTION, not "${spec}"`, { hint: `${flag} layer.py#loss` });
  const file = spec.slice(0, hash);
  const fn = spec.slice(hash + 1);
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(fn)) throw new AgError('usage', `${flag} ${spec}: "${fn}" is not a Python name`);
  existingFile(file, `${flag} ${spec}`);
  return { file, fn };
}

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const t0 = performance.now();
    const given = (['exec', 'module', 'python', 'torch'] as const).filter((k) => args[k] !== undefined);
    if (given.length !== 1)
      throw new AgError(
        'usage',
        given.length
          ? `give one of ${given.map((k) => `--${k}`).join(', ')}, not ${given.length === 2 ? 'both' : 'all'}`
          : 'name the code to check: --exec "python3 layer.py", --module ./layer.mjs#loss, --python layer.py#loss or --torch layer.py#loss',
        { hint: 'autograd-cli gradcheck --exec "python3 layer.py" --at "W=randn(3,4),x=randn(4)"' },
      );
    if (args.python && args.dtype === 'bfloat16') throw new AgError('usage', '--dtype bfloat16: NumPy has no bfloat16; check the code under --torch');
    const timeout = args.requestTimeout;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new AgError('usage', `--request-timeout must be a positive number of seconds, not ${timeout}`);
    const limits = limitsOf(args);
    if (!args.at.length) throw new AgError('usage', 'give the point with --at: the inputs the code takes, e.g. --at "W=randn(3,4),x=randn(4)"');
    // the report never goes over an input: the values' files, the module, or a file the program's command line names
    if (args.output) assertNotInput(args.output, [...inputFiles([], args.at), ...programFiles(args.exec, args.module ?? args.python ?? args.torch)]);
    const values = parseAt(args.at, { seed: args.seed, limits });
    const [{ checkProgram }, { becomeSubreaper }] = await Promise.all([import('../api/gradcheck-exec.js'), import('../subjects/code/reaper.js')]);
    // the CLI (not a library's host) adopts what a program leaves behind, to end it (on Linux with the addon; else its process group only)
    becomeSubreaper();
    const python = args.python ?? args.torch;
    const target = args.module
      ? { module: parseModule(args.module) }
      : python
        ? {
            python: {
              ...parsePython(python, args.python ? '--python' : '--torch'),
              mode: args.python ? ('numpy' as const) : ('torch' as const),
              interpreter: args.interpreter,
            },
          }
        : { exec: args.exec! };
    const label = args.module ?? python ?? args.exec!;
    const result = await checkProgram(target, values, {
      label,
      wrt: parseList(args.wrt),
      reference: args.reference,
      requestTimeout: timeout,
      limits,
      engine: args.engine,
      seed: args.seed,
      rtol: positiveNumber('rtol', args.rtol),
      atol: positiveNumber('atol', args.atol),
      eps: positiveNumber('eps', args.eps),
      method: args.method,
      fdMax: positiveNumber('fd-max', args.fdMax),
      directions: positiveNumber('directions', args.directions),
      dtype: readDtype(args.dtype),
      allowUnjudged: args.allowUnjudged,
    });
    await emitReport('function', { result, label, started: t0 }, args, {
      notWritten: (e) => writeOut(`${formatError(new AgError('io', `the report was not written: ${e.message}`), colors(args, 'stderr'))}\n`, 'stderr'),
    });
    return result.passed ? EXIT_OK : EXIT_FAIL;
  });
}

/** The files a program's command line names (its script, its data) and the module: never overwritten by -o. */
function programFiles(exec: string | undefined, module: string | undefined): string[] {
  const words = module ? [module.replace(/#[^#]*$/, '')] : exec ? (splitCommand(exec) ?? exec.split(/\s+/)) : [];
  return words.filter((w) => w && existsSync(w));
}
