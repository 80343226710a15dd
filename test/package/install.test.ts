import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { missingX86_64V3, PREBUILD_V3_NAME } from '../../src/core/engine/native.js';
import { ROOT } from '../helpers.js';
import { PREBUILD, packTarball } from './pack.js';

/** The linux-x64 prebuild for x86-64-v3 CPUs, beside the baseline one; what the loader takes on this CPU. */
const PREBUILD_V3 = join(dirname(PREBUILD), PREBUILD_V3_NAME);
const PREBUILDS = process.platform === 'linux' && process.arch === 'x64' ? [PREBUILD, PREBUILD_V3] : [PREBUILD];
const loadedPrebuild = (pkg: string) =>
  join(
    pkg,
    'prebuilds',
    `${process.platform}-${process.arch}`,
    PREBUILDS.length > 1 && missingX86_64V3()?.length === 0 ? PREBUILD_V3_NAME : 'autograd_native.napi.node',
  );
import { treeHash } from './tree-hash.js';

/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into a
 * fresh project whose PATH holds node and npm and, in place of every compiler and build
 * tool, a shim that records its call and fails. The install must take the prebuilt engine
 * (no compiler runs), the CLI must run the lecture example on it, with and without a
 * BLAS, and the type declarations must compile in a strict consumer without @types/node.
 * A second install with --ignore-scripts stands for npm's script policies.
 *
 * When prebuilds/ is missing, it is built first (the prepack step), never skipped.
 */
const TOOLS = ['cmake', 'ninja', 'make', 'gmake', 'c++', 'g++', 'gcc', 'cc', 'clang', 'clang++', 'python3', 'python'];

let work: string;
let shims: string;
let tarball: string;
let packed: string[];
let installed: { project: string; pkg: string; output: string; seconds: number };
let installedHash: string;
let env: Record<string, string>;

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
const newest = (versions: number[][]) => versions.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b), [0]);

function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? env, encoding: 'utf8', timeout: 240_000 });
}

/** npm install of the tarball into a new project; the output and how long it took. */
function install(name: string, extra: string[] = [], installEnv: Record<string, string> = env): typeof installed {
  const project = join(work, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  const t0 = performance.now();
  const r = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', ...extra, tarball], {
    cwd: project,
    env: installEnv,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`npm install failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { project, pkg: join(project, 'node_modules', 'autograd-cli'), output: r.stdout + r.stderr, seconds };
}

/** The installed CLI (through npm's bin link), as a user runs it. */
function cli(project: string, args: string[], extraEnv: Record<string, string> = {}, baseEnv: Record<string, string> = env) {
  return run(join(project, 'node_modules', '.bin', 'autograd-cli'), args, { cwd: project, env: { ...baseEnv, NO_COLOR: '1', ...extraEnv } });
}

// products of 48×48 matrices are above the engine's BLAS threshold, so they go through gemm
// (and enough work that --engine auto looks for the native engine)
const matmul = ['grad', 'sum((A*B).^2)', '--at', 'A=randn(48,48),B=randn(48,48)', '--seed', '3', '--json'];

function doctor(project: string, extraEnv: Record<string, string> = {}) {
  const r = cli(project, ['doctor', '--json'], extraEnv);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * A PATH folder with `node` (the given binary), npm and sh, and, in place of every
 * compiler and build tool, a shim that records its call in compiler-calls.log and fails.
 */
function makeShims(name: string, node: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  symlinkSync(node, join(dir, 'node'));
  for (const tool of ['npm', 'sh']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(dir, tool));
  for (const tool of TOOLS) {
    writeFileSync(
      join(dir, tool),
      `#!/bin/sh\necho "${tool} $*" >> "${join(work, 'compiler-calls.log')}"\necho "${tool}: not on this machine (test shim)" >&2\nexit 127\n`,
    );
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'autograd-package-'));
  shims = makeShims('bin', process.execPath);
  const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  env = {
    PATH: shims,
    HOME: join(work, 'home'),
    XDG_CACHE_HOME: join(work, 'cache'),
    // the user's npm cache, so the dependencies come from it (--prefer-offline)
    npm_config_cache: cache,
    npm_config_update_notifier: 'false',
    TMPDIR: tmpdir(),
  };
  mkdirSync(env.HOME);

  ({ tarball, files: packed } = packTarball(work));
  installed = install('consumer');
  installedHash = treeHash(installed.pkg);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships what runs and what rebuilds the engine, nothing else', () => {
    const allowed =
      /^(bin\/|dist\/|native\/src\/|native\/CMakeLists\.txt$|native\/cpu-levels\.json$|native\/package\.json$|binding\.gyp$|scripts\/build-native\.mjs$|prebuilds\/|python\/autograd_cli_adapter\.py$|README\.md$|THIRD_PARTY_NOTICES$|docs\/[a-z-]+\.md$|schema\/[a-z-]+\.schema\.json$|LICENSE$|package\.json$)/;
    expect(packed.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of [
      'LICENSE',
      'THIRD_PARTY_NOTICES',
      'README.md',
      'docs/checking.md',
      'docs/your-code.md',
      'schema/case-file.schema.json',
      'schema/answer-key.schema.json',
      'binding.gyp',
      'native/CMakeLists.txt',
      'native/cpu-levels.json',
      'native/src/gemm.cc',
      'dist/index.js',
      'dist/types/index.d.ts',
      'dist/vitest.js',
      'dist/index.cjs',
      'dist/vitest.cjs',
      'dist/types/vitest.d.ts',
      'bin/autograd-cli.js',
      'scripts/build-native.mjs',
      'python/autograd_cli_adapter.py',
    ])
      expect(packed, f).toContain(f);
    expect(packed).toContain(`prebuilds/${process.platform}-${process.arch}/autograd_native.napi.node`);
    if (PREBUILDS.length > 1) expect(packed).toContain(`prebuilds/linux-x64/${PREBUILD_V3_NAME}`);
  });

  it.each(PREBUILDS)(
    'the prebuild %s needs no BLAS or C++ runtime, nothing of glibc newer than 2.17 (README: "glibc 2.17 or later"), nor of libgcc_s newer than GCC 4.8',
    (file) => {
      const elf = spawnSync('readelf', ['-d', '--dyn-syms', '-W', file], { encoding: 'utf8' });
      expect(elf.status, elf.stderr).toBe(0);
      const needed = [...elf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      expect(needed.filter((lib) => !/^(libc|libm|libgcc_s|libdl|libpthread|ld-linux[^.]*)\.so/.test(lib))).toEqual([]);
      const versions = (tag: string) => [...elf.stdout.matchAll(new RegExp(`@${tag}_([0-9.]+)`, 'g'))].map((m) => m[1].split('.').map(Number));
      expect(compareVersions(newest(versions('GLIBC')), [2, 17])).toBeLessThanOrEqual(0);
      // RHEL 7's libgcc_s is GCC 4.8's; the C++ runtime is linked in
      expect(compareVersions(newest(versions('GCC')), [4, 8])).toBeLessThanOrEqual(0);
      expect(versions('GLIBCXX')).toEqual([]);
      expect(versions('CXXABI')).toEqual([]);
    },
  );
});

describe('npm install of the tarball, without a compiler', () => {
  it('runs no compiler and takes the prebuilt engine', () => {
    expect(existsSync(join(work, 'compiler-calls.log')) ? readFileSync(join(work, 'compiler-calls.log'), 'utf8') : '').toBe('');
    expect(installed.output).toMatch(/build-native: using the prebuilt engine prebuilds\/\S+ \(self-test passed/);
    expect(existsSync(join(installed.pkg, 'build'))).toBe(false);
    console.log(`npm install of the tarball: ${installed.seconds.toFixed(1)} s`);
  });

  it('doctor --json reports the prebuilt native engine', () => {
    const d = doctor(installed.project);
    expect(d.engine).toBe('native');
    expect(d.source).toMatch(/^prebuild/);
    expect(d.addon).toBe(loadedPrebuild(installed.pkg));
    expect(d.napiAddon).toBe(8);
    expect(d.ops.missing).toEqual([]);
  });

  it('runs the lecture example: ∂f/∂x = -2π', () => {
    // --engine native: auto would run so small a tape on the TypeScript engine without loading the addon
    const r = cli(installed.project, ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--json', '--engine', 'native']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.gradient.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(j.engine).toBe('native');
    expect(j.check.passed).toBe(true);
    expect(r.stderr).toBe('');
  });

  it('without a BLAS (AUTOGRAD_BLAS=none) runs the built-in kernel, with the same gradient', () => {
    const d = doctor(installed.project, { AUTOGRAD_BLAS: 'none' });
    expect(d.engine).toBe('native');
    expect(d.blas).toBe('built-in kernel');
    expect(d.blasFrom).toBe('AUTOGRAD_BLAS=none');
    const kernel = cli(installed.project, matmul, { AUTOGRAD_BLAS: 'none' });
    expect(kernel.status, kernel.stderr).toBe(0);
    const k = JSON.parse(kernel.stdout);
    expect(k.engine).toBe('native');
    expect(k.check.passed).toBe(true);
    // against the TypeScript engine: the same numbers up to summation order
    const js = JSON.parse(cli(installed.project, [...matmul, '--engine', 'js']).stdout);
    const a = (k.gradient.A as number[][]).flat();
    const b = (js.gradient.A as number[][]).flat();
    const scale = Math.max(...b.map(Math.abs));
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-12 * scale);
  });

  it('when the BLAS library cannot be loaded, falls back to the built-in kernel and says why', () => {
    const missing = join(work, 'no-such-dir', 'libopenblas.so.0');
    const d = doctor(installed.project, { AUTOGRAD_BLAS: missing });
    expect(d.engine).toBe('native');
    expect(d.blas).toBe('built-in kernel');
    expect(d.blasFrom).toContain(`AUTOGRAD_BLAS=${missing}: `);
    const r = cli(installed.project, matmul, { AUTOGRAD_BLAS: missing });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).check.passed).toBe(true);
  });

  it('its type declarations compile in a strict consumer without @types/node, chalk or yargs', () => {
    const { project } = installed;
    expect(existsSync(join(project, 'node_modules', '@types'))).toBe(false);
    // the CLI's own libraries are bundled into dist/, so not installed (yargs may come with cmake-js, without types)
    for (const dep of ['chalk', 'mathjs', 'cli-table3']) expect(existsSync(join(project, 'node_modules', dep)), dep).toBe(false);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true },
        include: ['main.ts'],
      }),
    );
    writeFileSync(
      join(project, 'main.ts'),
      [
        "import { grad, gradcheck, compile, jacobian, derive, renderGraph, renderAscii, graphResult, AgError, type GradResult, type GraphColors } from 'autograd-cli';",
        "const r: GradResult = grad('(x+y)*sin(x)', { x: Math.PI, y: Math.PI });",
        'const colors: GraphColors | undefined = undefined;',
        "import { toHaveCorrectGradient, type GradientMatchers } from 'autograd-cli/vitest';",
        'const matcher: GradientMatchers<void> | undefined = undefined;',
        'const own = gradcheck((v: { x: number[] }) => v.x[0] * v.x[1], { x: [1, 2] }, { grad: (v) => ({ x: [v.x[1], v.x[0]] }) });',
        'export const used = [r.gradient.x, gradcheck, compile, jacobian, derive, renderGraph, renderAscii, graphResult, AgError, colors, toHaveCorrectGradient, matcher, own.passed];',
        '',
      ].join('\n'),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

/**
 * `autograd-cli completion bash|zsh >> …` in the shells themselves, the script asking the
 * installed command back (its bin folder on PATH, as after `npm install -g`). zsh runs the
 * script under compinit, with zsh's `_describe` replaced by a print of what it is given.
 */
describe('shell completion from the installed package', () => {
  const shellEnv = (shell: string) => ({ ...env, PATH: `${join(installed.project, 'node_modules', '.bin')}:${env.PATH}:/usr/bin:/bin`, SHELL: shell });
  const script = (shell: string) => {
    const r = cli(installed.project, ['completion', shell]);
    expect(r.status, r.stderr).toBe(0);
    const file = join(work, `completion.${shell}`);
    writeFileSync(file, r.stdout);
    return file;
  };

  it('bash: commands, options and their choices', () => {
    const file = script('bash');
    const complete = (...words: string[]) => {
      const run = `source '${file}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _autograd-cli_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const b = spawnSync('bash', ['--norc', '-c', run], { encoding: 'utf8', env: shellEnv('/bin/bash') });
      expect(b.status, b.stderr).toBe(0);
      return b.stdout.split('\n').filter(Boolean);
    };
    expect(complete('autograd-cli', 'gra')).toEqual(['grad', 'graph', 'gradcheck', 'grade']);
    expect(complete('autograd-cli', 'grad', '--engine', '')).toEqual(['auto', 'js', 'native']);
  });

  it('zsh: the script registers with compdef and hands zsh the commands with their descriptions, and the choices of an option', () => {
    const zsh = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
    expect(zsh.status, 'zsh for the completion test: apt-get install zsh (.ci/run does)').toBe(0);
    const file = script('zsh');
    const complete = (...words: string[]) => {
      const run = [
        `autoload -U compinit; compinit -u -d '${join(work, 'zcompdump')}'`,
        `source '${file}'`,
        'print -r -- "registered: $_comps[autograd-cli]"',
        // the script calls `_describe 'values' reply`
        '_describe() { print -rl -- "$reply[@]"; }',
        `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=\${#words}; BUFFER="\${words[*]}"; CURSOR=\${#BUFFER}`,
        '_autograd-cli_yargs_completions',
      ].join('\n');
      const z = spawnSync('zsh', ['-f', '-c', run], { encoding: 'utf8', env: shellEnv('/usr/bin/zsh') });
      expect(z.status, z.stderr).toBe(0);
      return z.stdout.split('\n').filter(Boolean);
    };
    const commands = complete('autograd-cli', '');
    expect(commands[0]).toBe('registered: _autograd-cli_yargs_completions');
    // every command, each with its description (the part after the colon, which zsh shows beside it)
    expect(commands.slice(1).map((l) => l.split(':')[0])).toEqual([
      'grad',
      'graph',
      'derive',
      'jacobian',
      'hessian',
      'check',
      'gradcheck',
      'grade',
      'doctor',
      'completion',
    ]);
    for (const l of commands.slice(1)) expect(l).toMatch(/^[a-z]+:\S/);
    expect(commands.find((l) => l.startsWith('grad:'))).toMatch(/^grad:value and gradient by reverse and forward mode/);
    expect(commands.find((l) => l.startsWith('completion:'))).toMatch(/^completion:print a completion script/);
    expect(complete('autograd-cli', 'check', '--reporter', '').slice(1)).toEqual(['table', 'json', 'junit', 'tap', 'github']);
  });
});

describe('autograd-cli/vitest from the installed package', () => {
  it('the matcher loads without vitest installed and judges a function (the library loaded once, beside it)', () => {
    const code = [
      "import { toHaveCorrectGradient } from 'autograd-cli/vitest';",
      'const good = toHaveCorrectGradient(({ x }) => x * x, { at: { x: 3 }, grad: ({ x }) => ({ x: 2 * x }) });',
      'const bad = toHaveCorrectGradient(function square({ x }) { return x * x; }, { at: { x: 3 }, grad: ({ x }) => ({ x: x }) });',
      'console.log(JSON.stringify({ good: good.pass, bad: bad.pass, message: bad.message() }));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: installed.project, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.good).toBe(true);
    expect(j.bad).toBe(false);
    expect(j.message).toMatch(/∂f\/∂x: your gradient gives 3, finite differences give 6/);
    expect(readFileSync(join(installed.pkg, 'dist', 'vitest.cjs'), 'utf8')).toMatch(/require\(["']\.\/index\.cjs["']\)/);
  });
});

/** A CommonJS project inside the consumer: its own package.json, the installed package found above it. */
function commonjsProject(project: string): string {
  const dir = join(project, 'cjs');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cjs-consumer', version: '1.0.0', private: true }));
    writeFileSync(
      join(dir, 'gradient.test.js'),
      [
        "const { grad, AgError } = require('autograd-cli');",
        "const { toHaveCorrectGradient } = require('autograd-cli/vitest');",
        'expect.extend({ toHaveCorrectGradient });',
        "test('the lecture example', () => {",
        "  expect(grad('(x+y)*sin(x)', { x: Math.PI, y: Math.PI }).gradient.x).toBeCloseTo(-2 * Math.PI, 12);",
        "  expect(() => grad('x^', { x: 1 })).toThrow(AgError);",
        '});',
        "test('a right gradient passes', () => {",
        '  expect(({ x }) => x * x).toHaveCorrectGradient({ at: { x: 3 }, grad: ({ x }) => ({ x: 2 * x }) });',
        '});',
        "test('a wrong gradient fails with the report', () => {",
        '  const square = ({ x }) => x * x;',
        '  expect(square).not.toHaveCorrectGradient({ at: { x: 3 }, grad: ({ x }) => ({ x }) });',
        '  expect(() => expect(square).toHaveCorrectGradient({ at: { x: 3 }, grad: ({ x }) => ({ x }) })).toThrow(/your gradient gives 3, finite differences give 6/);',
        '});',
        '',
      ].join('\n'),
    );
  }
  return dir;
}

/** jest 30 (the project's dev dependency) in its default CommonJS mode, on the CommonJS project, run by `node`. */
function jest(project: string, node: string) {
  const dir = commonjsProject(project);
  const bin = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  return spawnSync(node, [bin, '--ci', '--watchman=false', '--cacheDirectory', join(work, 'jest-cache'), '--rootDir', dir], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...env, PATH: dirname(node) },
    timeout: 240_000,
  });
}

/** require() of both entries from a .cjs file: the library and the matcher, one copy of the library between them. */
function requireBoth(project: string, node: string) {
  const file = join(commonjsProject(project), 'main.cjs');
  writeFileSync(
    file,
    [
      "const lib = require('autograd-cli');",
      "const { toHaveCorrectGradient } = require('autograd-cli/vitest');",
      "const r = lib.grad('(x+y)*sin(x)', { x: Math.PI, y: Math.PI }, { engine: 'js' });",
      'const bad = toHaveCorrectGradient(({ x }) => x * x, { at: { x: 3 }, grad: ({ x }) => ({ x }) });',
      "const entry = require.resolve('autograd-cli');",
      'console.log(JSON.stringify({ x: r.gradient.x, bad: bad.pass, entry, version: process.version }));',
      '',
    ].join('\n'),
  );
  return spawnSync(node, [file], { cwd: project, encoding: 'utf8' });
}

describe('CommonJS consumers of the installed package', () => {
  it('require() loads the library and the matcher from their CommonJS entries', () => {
    const r = requireBoth(installed.project, process.execPath);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(j.bad).toBe(false);
    expect(j.entry).toBe(join(installed.pkg, 'dist', 'index.cjs'));
  });

  it('jest 30 in its default CommonJS mode runs the library and the matcher', () => {
    const r = jest(installed.project, process.execPath);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Tests:\s+3 passed, 3 total/);
    expect(r.stderr).not.toMatch(/Must use import/);
  });

  it('an ES-module program and a CommonJS one share one copy of the library', () => {
    const code = [
      "import * as esm from 'autograd-cli';",
      "import { createRequire } from 'node:module';",
      "const cjs = createRequire(import.meta.url)('autograd-cli');",
      'console.log(JSON.stringify({ same: esm.AgError === cjs.AgError && esm.grad === cjs.grad, names: Object.keys(esm).length }));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: installed.project, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.same).toBe(true);
    expect(j.names).toBeGreaterThan(30);
  });

  it('`autograd-cli/vitest` resolves under TypeScript’s older node10 resolution, from CommonJS', () => {
    const dir = commonjsProject(installed.project);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'CommonJS', moduleResolution: 'node10', strict: true, skipLibCheck: false, noEmit: true, types: [] },
        include: ['main.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { grad, type GradResult } from 'autograd-cli';",
        "import { toHaveCorrectGradient, type GradientMatchers } from 'autograd-cli/vitest';",
        "const r: GradResult = grad('x^2', { x: 3 });",
        'const matcher: GradientMatchers<void> | undefined = undefined;',
        'export const used = [r.gradient.x, toHaveCorrectGradient, matcher];',
        '',
      ].join('\n'),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

/**
 * The JSON Schemas as an editor meets them: loaded from the installed package by their file
 * URL (the `$schema=` of a YAML comment or a JSON key names the file), the key's relative
 * `$ref`s resolved against that URL (ajv with its defaults for draft-07, as the YAML and JSON
 * language servers read it).
 */
describe('the JSON Schemas of the installed package, as an editor resolves them', () => {
  it('accept the fixtures’ case files and answer key, with a "$schema" key too, and mark a misspelt key', () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    const url = (name: string) => {
      const file = join(installed.pkg, 'schema', `${name}.schema.json`);
      ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')), pathToFileURL(file).href);
      return pathToFileURL(file).href;
    };
    const caseFile = ajv.getSchema(url('case-file'));
    const key = ajv.getSchema(url('answer-key'));
    if (!caseFile || !key) throw new Error('the schemas did not compile');
    const doc = (rel: string) => parseYaml(readFileSync(join(ROOT, 'fixtures', rel), 'utf8'));
    for (const rel of ['ci/passing/model.yaml', 'ci/passing/scalars.json', 'homework/exercises.yaml', 'homework/tensors.yaml', 'courses/cs231n.yaml'])
      expect(caseFile(doc(rel)), `${rel}: ${JSON.stringify(caseFile.errors)}`).toBe(true);
    for (const rel of ['homework/key.yaml', 'policy/key.yaml']) expect(key(doc(rel)), `${rel}: ${JSON.stringify(key.errors)}`).toBe(true);
    expect(caseFile({ $schema: '../node_modules/autograd-cli/schema/case-file.schema.json', cases: [{ f: 'x^2', at: { x: 3 } }] })).toBe(true);
    expect(caseFile([{ f: 'x^2', expcet: { gradient: { x: '2*x' } } }])).toBe(false);
    expect(JSON.stringify(caseFile.errors)).toContain('expcet');
    // a problem's settings come from the case file's schema, through the relative $ref
    expect(key({ title: 't', problems: [{ name: 'p', f: 'x^2', rtol: 'tight' }] })).toBe(false);
    expect(key.errors?.some((e) => e.instancePath === '/problems/0/rtol')).toBe(true);
  });
});

describe('gradcheck --python from the installed package', () => {
  it('finds the adapter it ships and checks a NumPy function (the real Python given: python3 is a shim here)', () => {
    const real = spawnSync('python3', ['-c', 'import numpy, sys; print(sys.executable)'], { encoding: 'utf8' });
    expect(real.status, `a python3 with NumPy (apt-get install python3-numpy): ${real.stderr}`).toBe(0);
    writeFileSync(join(installed.project, 'square.py'), 'def f(x):\n    return (x * x).sum(), 2 * x\n\ndef wrong(x):\n    return (x * x).sum(), x\n');
    const at = ['--at', 'x=randn(3)', '--interpreter', real.stdout.trim()];
    const ok = cli(installed.project, ['gradcheck', '--python', 'square.py#f', ...at]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/✓ check passed/);
    expect(cli(installed.project, ['gradcheck', '--python', 'square.py#wrong', ...at]).status).toBe(1);
  });
});

describe('npm install --ignore-scripts (install scripts blocked)', () => {
  let blocked: typeof installed;
  beforeAll(() => {
    blocked = install('blocked', ['--ignore-scripts']);
  }, 300_000);

  it('needs no install script: the prebuild loads, and nothing is said', () => {
    expect(blocked.output).not.toMatch(/build-native/);
    expect(doctor(blocked.project).source).toMatch(/^prebuild/);
    const r = cli(blocked.project, ['grad', 'x^2', '--at', 'x=3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a prebuild that does not load here (another C library, a damaged file): the install script says so and compiles', () => {
    for (const file of PREBUILDS) writeFileSync(join(blocked.pkg, 'prebuilds', `${process.platform}-${process.arch}`, basename(file)), 'not an ELF file');
    const r = run('node', [join(blocked.pkg, 'scripts', 'build-native.mjs'), '--install'], { cwd: blocked.pkg });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^build-native: the prebuilt engine does not work here \(does not load: .*\); compiling$/m);
    // no compiler here: the compile fails with one warning, as on any machine without one
    expect(r.stderr).toMatch(/^autograd-cli: warning: the native engine was not built/);
  });

  it('without a prebuild for the platform, the first run says once how to build the engine', () => {
    rmSync(join(blocked.pkg, 'prebuilds'), { recursive: true, force: true });
    // a tape too small for the native engine does not look for it, so says nothing
    const tiny = cli(blocked.project, ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--json']);
    expect(tiny.status, tiny.stderr).toBe(0);
    expect(tiny.stderr).toBe('');
    const first = cli(blocked.project, matmul);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).engine).toBe('js');
    expect(first.stderr).toMatch(/^autograd-cli: note: the native engine is not built here \(.*no prebuild for .*\).*run build:native.*shown once\.\n$/);
    expect(first.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const second = cli(blocked.project, matmul);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe('');
    // doctor explains instead
    const d = doctor(blocked.project);
    expect(d.engine).toBe('js');
    expect(d.reason).toMatch(/prebuild: no prebuild for .*local build: not built/);
  });

  it('building it on a machine without a compiler: node-gyp is tried (cmake-js is not installed), one warning, and the CLI still runs', () => {
    const script = join(blocked.pkg, 'scripts', 'build-native.mjs');
    const soft = run('node', [script], { cwd: blocked.pkg });
    expect(soft.status, soft.stderr).toBe(0);
    expect(soft.stderr).toMatch(/^autograd-cli: warning: the native engine was not built \(node-gyp failed; details in native\/build\/native-default\.log\)/);
    const strict = run('node', [script], { cwd: blocked.pkg, env: { ...env, AUTOGRAD_REQUIRE_NATIVE: '1' } });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/^build-native: node-gyp failed; see native\/build\/native-default\.log/);
    expect(cli(blocked.project, ['grad', 'x^2', '--at', 'x=3']).status).toBe(0);
  });
});

/**
 * Node 20, 22 and 24: the running Node, and the others' official binaries from the npm
 * registry's node-<platform>-<arch> packages (scripts/test-node.mjs fetches them once into
 * the developer's cache). Each installs the tarball without a compiler and runs the CLI,
 * the library and the matcher (ES module, CommonJS, jest), after which the installed
 * package folder must be unchanged: no cache or anything else is written into it.
 * A Node that cannot be had fails here under CI (and is skipped by name elsewhere).
 */
const RUNNING = process.versions.node.split('.')[0];
const NODES = ['20', '22', '24'].map((major) => {
  if (major === RUNNING) return { major, node: process.execPath, version: process.version, missing: '' };
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test-node.mjs'), major], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { major, node: '', version: '', missing: (r.stderr || String(r.error)).trim().split('\n').pop() ?? '' };
  const node = join(r.stdout.trim(), 'node');
  return { major, node, version: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(), missing: '' };
});

for (const { major, node, version, missing } of NODES) {
  if (missing) {
    (process.env.CI ? it : it.skip)(`Node ${major}: NOT TESTED, no binary (${missing}); run node scripts/test-node.mjs ${major}`, () => {
      expect.fail(`Node ${major} is not available: ${missing}`);
    });
    continue;
  }
  describe(`under Node ${version}${major === RUNNING ? ' (the running Node)' : ''}: install without a compiler, then CLI, library, matcher`, () => {
    let nodeEnv: Record<string, string>;
    let mine: typeof installed;
    let before: string;
    beforeAll(() => {
      nodeEnv = { ...env, PATH: makeShims(`bin-${major}`, node), XDG_CACHE_HOME: join(work, `cache-${major}`) };
      rmSync(join(work, 'compiler-calls.log'), { force: true });
      mine = install(`node-${major}`, [], nodeEnv);
      before = treeHash(mine.pkg);
    }, 300_000);

    it('npm install runs no compiler and takes the prebuilt engine', () => {
      expect(existsSync(join(work, 'compiler-calls.log')) ? readFileSync(join(work, 'compiler-calls.log'), 'utf8') : '').toBe('');
      expect(mine.output).toMatch(/build-native: using the prebuilt engine prebuilds\/\S+ \(self-test passed/);
      expect(mine.output).not.toMatch(/EBADENGINE/);
    });

    it('the CLI runs the lecture example on the prebuilt engine, and twice more (its code cache in the user’s folder)', () => {
      for (let i = 0; i < 3; i++) {
        const r = cli(mine.project, ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--json', '--engine', 'native'], {}, nodeEnv);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        const j = JSON.parse(r.stdout);
        expect(j.gradient.x).toBeCloseTo(-2 * Math.PI, 12);
        expect(j.engine).toBe('native');
      }
      const d = cli(mine.project, ['doctor', '--json'], {}, nodeEnv);
      expect(d.status, d.stderr).toBe(0);
      expect(JSON.parse(d.stdout).source).toMatch(/^prebuild/);
      const derive = cli(mine.project, ['derive', 'x^2*sin(x)', '--wrt', 'x'], {}, nodeEnv);
      expect(derive.status, derive.stderr).toBe(0);
      expect(existsSync(join(nodeEnv.XDG_CACHE_HOME, 'autograd-cli', 'compile-cache'))).toBe(Number(major) >= 22);
    });

    it('the library as an ES module and through require(), and the matcher through jest in CommonJS mode', () => {
      const esm = spawnSync(node, ['--input-type=module', '-e', "import { grad } from 'autograd-cli'; console.log(grad('x^2', { x: 3 }).gradient.x);"], {
        cwd: mine.project,
        encoding: 'utf8',
      });
      expect(esm.status, esm.stderr).toBe(0);
      expect(esm.stdout.trim()).toBe('6');
      const cjs = requireBoth(mine.project, node);
      expect(cjs.status, cjs.stderr).toBe(0);
      expect(JSON.parse(cjs.stdout)).toMatchObject({ bad: false, version });
      const j = jest(mine.project, node);
      expect(j.status, j.stdout + j.stderr).toBe(0);
      expect(j.stderr).toMatch(/Tests:\s+3 passed, 3 total/);
    });

    it('leaves the installed package folder exactly as installed', () => {
      expect(treeHash(mine.pkg)).toBe(before);
    });
  });
}

describe('the installed package folder after every run above', () => {
  it('is exactly as installed (no code cache, marker or anything else written into it)', () => {
    expect(treeHash(installed.pkg)).toBe(installedHash);
  });
});
