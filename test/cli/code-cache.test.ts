import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { treeHash } from '../package/tree-hash.js';

/**
 * The launcher's code caches (bin/autograd-cli.js). The package is never written to: the
 * build's cache (dist/cli.cjs.cache) is only read, and where it does not fit, the user's
 * own copy in the user's cache folder is written, by a successful grad only, so a
 * `--version` or a failed command cannot leave a cache that holds little of grad's code.
 * Runs a copy of bin/ and dist/ so the project's own build is not touched.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-cache-'));
cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shipped = join(dir, 'dist', 'cli.cjs.cache');
const userCache = join(dir, 'xdg', 'autograd-cli');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'autograd-cli.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', AUTOGRAD_CLI_CODE_CACHE: '', XDG_CACHE_HOME: join(dir, 'xdg'), ...env },
  });
const own = () => (existsSync(userCache) ? readdirSync(userCache).filter((f) => /^cli-[0-9a-f]{40}-v[\d.]+\.cache$/.test(f)) : []);
const nodeCompileCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

describe('the code cache', () => {
  beforeEach(() => rmSync(join(dir, 'xdg'), { recursive: true, force: true }));

  it('without the build’s cache, the user’s copy is written by a successful grad only, and then used; the package is unchanged', () => {
    const built = statSync(shipped).size;
    rmSync(shipped);
    const before = treeHash(dir, ['xdg']);
    expect(run(['--version']).status).toBe(0);
    expect(run(['grad', 'x^', '--at', 'x=1']).status).toBe(2);
    expect(run(['check', '--help']).status).toBe(0);
    expect(own()).toEqual([]);
    expect(run(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi']).status).toBe(0);
    expect(own()).toEqual([expect.stringContaining(`-${process.version}.cache`)]);
    const written = statSync(join(userCache, own()[0]));
    // it holds grad's code as the build's does (the same command: about the same size)
    expect(written.size).toBeGreaterThan(0.8 * built);
    // accepted from now on: the next runs, grad or not, leave it alone
    expect(run(['--version']).status).toBe(0);
    expect(run(['grad', 'x^2', '--at', 'x=1']).status).toBe(0);
    expect(statSync(join(userCache, own()[0])).mtimeMs).toBe(written.mtimeMs);
    expect(treeHash(dir, ['xdg'])).toBe(before);
  });

  it('a damaged user copy is rejected, the run still right, and the copy rewritten', () => {
    rmSync(shipped, { force: true });
    expect(run(['grad', 'x^2', '--at', 'x=1']).status).toBe(0);
    const file = join(userCache, own()[0]);
    const size = statSync(file).size;
    // the right bundle id, then bytes V8 does not take
    const id = readdirSync(userCache)[0].slice(4, 44);
    writeFileSync(file, `${id}${'x'.repeat(1000)}`);
    const r = run(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).gradient.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(statSync(file).size).toBeGreaterThan(0.8 * size);
  });

  it('AUTOGRAD_CLI_CODE_CACHE=off neither reads nor writes a cache; =write writes the build’s from any run', () => {
    rmSync(shipped, { force: true });
    expect(run(['grad', 'x^2', '--at', 'x=1'], { AUTOGRAD_CLI_CODE_CACHE: 'off' }).status).toBe(0);
    expect(existsSync(join(dir, 'xdg'))).toBe(false);
    expect(run(['--version'], { AUTOGRAD_CLI_CODE_CACHE: 'write' }).status).toBe(0);
    expect(existsSync(shipped)).toBe(true);
    expect(existsSync(join(dir, 'xdg'))).toBe(false);
  });

  it('check and grade start from a cache of their own, made by a check (a grad’s holds none of check’s code)', () => {
    const checkCache = join(dir, 'dist', 'cli.cjs.check.cache');
    // the build ships both
    expect(statSync(checkCache).size).toBeGreaterThan(0);
    rmSync(shipped, { force: true });
    rmSync(checkCache);
    const cases = join(ROOT, 'fixtures', 'ci', 'passing', 'scalars.json');
    expect(run(['check', cases, '--jobs', '1'], { AUTOGRAD_CLI_CODE_CACHE: 'write' }).status).toBe(0);
    expect(existsSync(checkCache)).toBe(true);
    expect(existsSync(shipped)).toBe(false);
    expect(run(['grad', 'x^2', '--at', 'x=1'], { AUTOGRAD_CLI_CODE_CACHE: 'write' }).status).toBe(0);
    expect(existsSync(shipped)).toBe(true);
    // both accepted and left alone: check, grade and grad run right from them
    const before = treeHash(dir, ['xdg']);
    const r = run(['check', cases, '--jobs', '1', '--reporter', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).summary.failed).toBe(0);
    expect(treeHash(dir, ['xdg'])).toBe(before);
  });

  it(`Node's compile cache (Node ≥ 22, here ${process.version}) is kept in the user's cache folder; Node 20 makes none`, () => {
    const r = run(['derive', 'x^2*sin(x)', '--wrt', 'x']);
    expect(r.status, r.stderr).toBe(0);
    const folder = join(userCache, 'compile-cache');
    if (nodeCompileCache) expect(readdirSync(folder).length).toBeGreaterThan(0);
    else expect(existsSync(folder)).toBe(false);
  });
});
