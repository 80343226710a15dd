import { runAsync } from '../verify/evaluator.js';
import type { CheckOptions } from '../verify/fd.js';
import { PROGRAM_FD_MAX } from '../verify/tolerance.js';
import { checkFunction, outputRows } from '../verify/function.js';
import { readInputs } from '../subjects/code/js-function.js';
import { MODULE_RUNNER } from '../subjects/code/module-runner.js';
import { Pipe, pipeFunction, splitCommand } from '../subjects/code/pipe.js';
import { pythonArgv, type PythonTarget } from '../subjects/code/python-runner.js';
import type { EngineChoice } from '../core/engine/select.js';
import { AgError } from '../core/errors.js';
import { addReference, functionResult, type FunctionGradcheckResult } from './gradcheck.js';
import { limitsFrom, type Limits } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';

export interface ProgramCheckOptions extends CheckOptions {
  /** the program's name in messages */
  label?: string;
  wrt?: string[];
  /** a formula for the same function: its autodiff is the truth */
  reference?: string;
  /** seconds one answer may take */
  requestTimeout?: number;
  limits?: Limits | Partial<Limits>;
  engine?: EngineChoice;
  /** the precision the code computes in (--python / --torch convert the inputs to it) */
  dtype?: 'float64' | 'float32' | 'float16' | 'bfloat16';
}

export type ProgramTarget = { exec: string } | { module: { file: string; name: string } } | { python: PythonTarget };

/**
 * Check a program's gradient (`--exec "python3 layer.py"`) or a JS module's
 * (`{module: {file, name}}`, run in a child Node process speaking the same protocol) or a
 * Python function's (`{python: {file, fn, mode}}`, run by the adapter of src/subjects/code/python-runner.ts):
 * the check of src/verify/function.ts over the pipe of src/subjects/code/pipe.ts. The program
 * runs until the check is over, or until the first protocol error, time-out or exit,
 * and is killed (its process group) either way.
 */
export async function checkProgram(target: ProgramTarget, values: Record<string, Tensor>, o: ProgramCheckOptions = {}): Promise<FunctionGradcheckResult> {
  const limits = limitsFrom(o.limits);
  const inputs: Record<string, { shape: number[]; data: Float64Array }> = Object.create(null);
  for (const [k, t] of Object.entries(values)) inputs[k] = { shape: [...t.shape], data: t.data };
  const pv = readInputs(inputs, o.wrt);
  const n = pv.names.reduce((s, k) => s + pv.flats[k].data.length, 0);
  const label =
    o.label ??
    ('exec' in target ? target.exec : 'module' in target ? `${target.module.file}#${target.module.name}` : `${target.python.file}#${target.python.fn}`);
  const flag = 'exec' in target ? '--exec' : 'module' in target ? '--module' : target.python.mode === 'torch' ? '--torch' : '--python';
  let argv: string[] | null;
  let command: string;
  if ('exec' in target) {
    command = target.exec;
    argv = splitCommand(command);
    if (argv && !argv.length) throw new AgError('usage', '--exec: the command is empty');
  } else if ('module' in target) {
    command = '';
    argv = [process.execPath, '--input-type=module', '-e', MODULE_RUNNER, target.module.file, target.module.name];
  } else {
    command = '';
    argv = pythonArgv(
      { ...target.python, dtype: target.python.dtype ?? o.dtype },
      pv.wrt.map((s) => s.name),
    );
  }
  const pipe = new Pipe(argv, command, {
    label: `${flag} ${label}`,
    adapter: 'python' in target,
    requestTimeout: o.requestTimeout ?? 10,
    maxLine: (1 << 20) + 64 * n,
    deadline: limits.timeout,
    maxMemory: limits.maxMemory,
  });
  try {
    const { fn, evaluator, value } = await pipeFunction(pipe, pv);
    const pre = o.reference !== undefined ? addReference(evaluator, o.reference, pv, fn, value.shape, o, limits) : [];
    const rows = outputRows('f', value.shape);
    // a screen above PROGRAM_FD_MAX entries: a few hundred evaluations when the code is right, every entry differenced when it is not
    const fdMax = o.fdMax ?? PROGRAM_FD_MAX;
    const r = await runAsync(checkFunction(fn, rows, { ...o, fdMax, escalate: true, reference: o.reference !== undefined }), evaluator);
    return functionResult(r, {
      name: label,
      pv,
      f: fn,
      valueShape: value.shape,
      rows,
      side: value.data.length === 1 && value.shape.length === 0 ? 'gradient' : 'vjp',
      pre,
      fdMax,
      escalate: true,
    });
  } finally {
    await pipe.close();
  }
}
