import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'autograd-cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real, built CLI (as a user would), without colours. */
export function cli(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? ROOT,
    // a terminal's COLUMNS would change the human views' width (100 off a terminal)
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', COLUMNS: undefined as unknown as string, ...opts.env },
    input: opts.input,
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The Python that can import `modules` ("numpy, torch"): `python3` where it has them, else
 * Debian's /usr/bin/python3 (.ci/run installs python3-numpy and python3-torch); undefined
 * without one (the tests that need it fail and say so).
 */
export function pythonWith(modules: string): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', `import ${modules}, sys; print(sys.executable)`], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** Run the CLI with --json and parse stdout. */
export function cliJson(args: string[]): { code: number; json: any; stderr: string } {
  const r = cli([...args, '--json']);
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** A worked example of the lecture notes (fixtures/lectures/*.json). */
export interface Lecture {
  name: string;
  formula: string;
  at: string;
  wrt?: string;
}

/** The lecture examples, scalar ones first. */
export function lectures(): Lecture[] {
  return ['scalar', 'tensors'].flatMap((f) => JSON.parse(readFileSync(join(ROOT, 'fixtures', 'lectures', `${f}.json`), 'utf8')) as Lecture[]);
}
