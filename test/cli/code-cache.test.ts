import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The launcher's V8 code cache (bin/autograd-cli.js): after the cache is lost or
 * rejected, only a grad that succeeds writes it again, so a `--version` or a failed
 * command cannot leave a cache that holds little of grad's code. Runs a copy of bin/
 * and dist/ so the project's own cache is not touched.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-cache-'));
cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cache = join(dir, 'dist', 'cli.cjs.cache');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'autograd-cli.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', AUTOGRAD_CLI_CODE_CACHE: '', ...env },
  });

describe('the code cache', () => {
  it('is written again by a successful grad only, and then used', () => {
    const built = statSync(cache).size;
    rmSync(cache);
    expect(run(['--version']).status).toBe(0);
    expect(run(['grad', 'x^', '--at', 'x=1']).status).toBe(2);
    expect(run(['check', '--help']).status).toBe(0);
    expect(existsSync(cache)).toBe(false);
    expect(run(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi']).status).toBe(0);
    const written = statSync(cache);
    // it holds grad's code as the build's does (the same command: about the same size)
    expect(written.size).toBeGreaterThan(0.8 * built);
    // accepted from now on: the next runs, grad or not, leave it alone
    expect(run(['--version']).status).toBe(0);
    expect(run(['grad', 'x^2', '--at', 'x=1']).status).toBe(0);
    expect(statSync(cache).mtimeMs).toBe(written.mtimeMs);
  });

  it('AUTOGRAD_CLI_CODE_CACHE=off neither reads nor writes it; =write writes it from any run', () => {
    rmSync(cache, { force: true });
    expect(run(['grad', 'x^2', '--at', 'x=1'], { AUTOGRAD_CLI_CODE_CACHE: 'off' }).status).toBe(0);
    expect(existsSync(cache)).toBe(false);
    expect(run(['--version'], { AUTOGRAD_CLI_CODE_CACHE: 'write' }).status).toBe(0);
    expect(existsSync(cache)).toBe(true);
  });
});
