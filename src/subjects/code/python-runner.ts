import { join } from 'node:path';
import { packageRoot } from '../../core/engine/native.js';

/**
 * `gradcheck --python FILE#FN` and `--torch FILE#FN` run the user's function through
 * python/autograd_cli_adapter.py, shipped in the package: started once, it imports
 * NumPy or torch and the file, calls FN(**inputs) and speaks the batched --exec
 * protocol (src/subjects/code/pipe.ts), so Python code gets the same time-outs, size caps and
 * kill as any program, and its user writes no protocol code. Under numpy, FN returns
 * (value, gradients); under torch, its value, and torch.autograd gives the gradients.
 */
export type PythonMode = 'numpy' | 'torch';

export interface PythonTarget {
  /** the file, as resolved from the working directory */
  file: string;
  /** a callable in it: `layer`, `MyFunction.apply`, `MyFunction` */
  fn: string;
  mode: PythonMode;
  /** the Python to run (default python3) */
  interpreter?: string;
  /** the precision the inputs are converted to (default float64) */
  dtype?: string;
}

/** The adapter's path in the installed package (or the checkout). */
export function pythonAdapter(): string {
  return join(packageRoot(), 'python', 'autograd_cli_adapter.py');
}

/** The command line that starts the adapter on FN; `wrt` are the inputs whose gradients are checked. */
export function pythonArgv(t: PythonTarget, wrt: string[]): string[] {
  return [t.interpreter ?? 'python3', pythonAdapter(), t.file, t.fn, '--mode', t.mode, '--dtype', t.dtype ?? 'float64', '--wrt', JSON.stringify(wrt)];
}
