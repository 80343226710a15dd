import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cpuLevelFlags,
  loadFirst,
  loadNative,
  localBuildPath,
  missingX86_64V3,
  packageRoot,
  nativeCandidates,
  prebuildDir,
  PREBUILD_NAME,
  PREBUILD_V3_NAME,
} from '../../src/core/engine/native.js';
import { cli } from '../helpers.js';

/**
 * Where the native engine comes from: AUTOGRAD_NATIVE_PATH alone, else the prebuild for
 * this platform and the local build, the newer first; the first that loads and passes the
 * self-test wins, and every other one says why it was not used.
 */
let base: string;
let root: string;
/** A new package folder: files once loaded must never be overwritten (the process maps them). */
const freshRoot = () => (root = mkdtempSync(join(base, 'pkg-')));
const prebuilt = () => join(prebuildDir(root), PREBUILD_NAME);
const prebuiltV3 = () => join(prebuildDir(root), PREBUILD_V3_NAME);
/** This CPU as the loader sees it: with every x86-64-v3 feature, or lacking AVX2 and FMA. */
const v3Cpu = () => [];
const oldCpu = () => ['avx2', 'fma'];
/** A real addon to copy: the one this test run loaded. */
const realAddon = () => loadNative().path;

function place(path: string, from: string | null, mtimeSeconds: number): void {
  mkdirSync(dirname(path), { recursive: true });
  if (from) copyFileSync(from, path);
  else writeFileSync(path, 'not an ELF file');
  utimesSync(path, mtimeSeconds, mtimeSeconds);
}

beforeAll(() => {
  expect(loadNative().reason).toBe('');
  base = mkdtempSync(join(tmpdir(), 'autograd-loader-'));
});
beforeEach(freshRoot);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the candidates, in order', () => {
  it('neither built: both say why', () => {
    const c = nativeCandidates(root, {});
    expect(c.map((x) => x.source)).toEqual(['prebuild', 'local build']);
    expect(c[0].skipped).toBe(`no prebuild for ${process.platform}-${process.arch}`);
    expect(c[1].skipped).toMatch(/^not built/);
    expect(c[0].path).toBe(join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'autograd_native.napi.node'));
  });

  it('the prebuild first, unless the local build is newer', () => {
    place(prebuilt(), null, 2_000_000_000);
    place(localBuildPath(root), null, 1_000_000_000);
    expect(nativeCandidates(root, {}).map((x) => x.source)).toEqual(['prebuild', 'local build']);
    utimesSync(localBuildPath(root), 2_000_000_100, 2_000_000_100);
    expect(nativeCandidates(root, {}).map((x) => x.source)).toEqual(['local build', 'prebuild']);
  });

  it('AUTOGRAD_NATIVE_PATH alone, whatever else is there', () => {
    const c = nativeCandidates(root, { AUTOGRAD_NATIVE_PATH: 'some/where.node' });
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ source: 'AUTOGRAD_NATIVE_PATH', skipped: '' });
    expect(c[0].path).toMatch(/some\/where\.node$/);
  });
});

describe('the x86-64-v3 prebuild beside the baseline one', () => {
  it('first on a CPU with every x86-64-v3 feature, the baseline one next; the local build first only when newer than it', () => {
    place(prebuilt(), null, 2_000_000_000);
    place(prebuiltV3(), null, 2_000_000_000);
    place(localBuildPath(root), null, 1_000_000_000);
    const c = nativeCandidates(root, {}, v3Cpu);
    expect(c.map((x) => [x.source, x.skipped])).toEqual([
      ['prebuild x86-64-v3', ''],
      ['prebuild', ''],
      ['local build', ''],
    ]);
    expect(c[0].path).toBe(join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'autograd_native.v3.napi.node'));
    utimesSync(localBuildPath(root), 2_000_000_100, 2_000_000_100);
    expect(nativeCandidates(root, {}, v3Cpu).map((x) => x.source)).toEqual(['local build', 'prebuild x86-64-v3', 'prebuild']);
  });

  it('skipped on a CPU that lacks a feature (named), when AUTOGRAD_PREBUILD=baseline, and when the flags cannot be read', () => {
    place(prebuilt(), null, 2_000_000_000);
    place(prebuiltV3(), null, 2_000_000_000);
    expect(nativeCandidates(root, {}, oldCpu)[0]).toMatchObject({ source: 'prebuild x86-64-v3', skipped: 'this CPU lacks x86-64-v3 (avx2, fma)' });
    expect(nativeCandidates(root, { AUTOGRAD_PREBUILD: 'baseline' }, v3Cpu)[0].skipped).toBe('AUTOGRAD_PREBUILD=baseline');
    expect(nativeCandidates(root, {}, () => null)[0].skipped).toMatch(/^cannot tell whether this CPU has x86-64-v3/);
    expect(nativeCandidates(root, {}, oldCpu)[1]).toMatchObject({ source: 'prebuild', skipped: '' });
  });

  it('a v3 file that does not load: the baseline prebuild loads in its place', () => {
    place(prebuiltV3(), null, 2_000_000_000);
    place(prebuilt(), realAddon(), 2_000_000_000);
    const { status } = loadFirst(nativeCandidates(root, {}, v3Cpu));
    expect(status.source).toBe('prebuild');
    expect(status.candidates[0].skipped).toMatch(/^does not load: /);
  });

  it('when the v3 one loads, the baseline one says why it was not needed', () => {
    place(prebuiltV3(), realAddon(), 2_000_000_000);
    place(prebuilt(), realAddon(), 2_000_000_000);
    const { status } = loadFirst(nativeCandidates(root, {}, v3Cpu));
    expect(status.source).toBe('prebuild x86-64-v3');
    expect(status.candidates[1].skipped).toBe('not needed (this CPU has x86-64-v3, and the x86-64-v3 prebuild loaded)');
  });

  it("reads /proc/cpuinfo's flags line: the features missing, null without one", () => {
    const info = join(root, 'cpuinfo');
    writeFileSync(info, 'processor\t: 0\nflags\t\t: fpu cx16 lahf_lm popcnt pni ssse3 sse4_1 sse4_2 avx bmi1 f16c abm movbe xsave\n');
    expect(missingX86_64V3(info)).toEqual(['avx2', 'bmi2', 'fma']);
    writeFileSync(info, 'processor\t: 0\n');
    expect(missingX86_64V3(info)).toBeNull();
    expect(missingX86_64V3(join(root, 'none'))).toBeNull();
  });

  it('the x86-64-v3 feature list is native/cpu-levels.json, which scripts/build-native.mjs reads too and lists none of its own', () => {
    const v3 = cpuLevelFlags('x86-64-v3')!;
    expect(v3).toEqual(expect.arrayContaining(['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'sse4_2', 'popcnt']));
    const info = join(root, 'cpuinfo');
    writeFileSync(info, `processor\t: 0\nflags\t\t: fpu ${v3.join(' ')}\n`);
    expect(missingX86_64V3(info)).toEqual([]);
    writeFileSync(info, `processor\t: 0\nflags\t\t: fpu ${v3.filter((f) => f !== 'movbe').join(' ')}\n`);
    expect(missingX86_64V3(info)).toEqual(['movbe']);
    expect(cpuLevelFlags('x86-64-v9')).toBeNull();
    expect(cpuLevelFlags('x86-64-v3', join(root, 'none'))).toBeNull();
    const script = readFileSync(join(packageRoot(), 'scripts', 'build-native.mjs'), 'utf8');
    expect(script).toMatch(/cpu-levels\.json/);
    expect(script).not.toMatch(/'avx2'|'bmi2'|'movbe'/);
  });
});

describe('loading the first that works', () => {
  it('a file that does not load is passed over, with the loader error; the next one loads and is self-tested', () => {
    place(prebuilt(), null, 2_000_000_000);
    place(localBuildPath(root), realAddon(), 1_000_000_000);
    const { status, addon } = loadFirst(nativeCandidates(root, {}));
    expect(status.reason).toBe('');
    expect(status.source).toBe('local build');
    expect(status.engine?.name).toBe('native');
    expect(addon?.opNames().length).toBeGreaterThan(0);
    expect(status.candidates[0].skipped).toMatch(/^does not load: /);
  });

  it('a working prebuild leaves the older local build unused, and says so', () => {
    place(prebuilt(), realAddon(), 2_000_000_000);
    place(localBuildPath(root), realAddon(), 1_000_000_000);
    const { status } = loadFirst(nativeCandidates(root, {}));
    expect(status.source).toBe('prebuild');
    expect(status.candidates[1].skipped).toBe('not needed (the prebuild loaded; this one is older)');
  });

  it('nothing loads: no engine, and the reason names every candidate', () => {
    place(localBuildPath(root), null, 1_000_000_000);
    const { status } = loadFirst(nativeCandidates(root, {}));
    expect(status.engine).toBeNull();
    expect(status.reason).toMatch(/^no native engine \(prebuild: no prebuild for .*; local build: does not load: .*\)$/);
  });
});

describe('doctor', () => {
  it('--json names the source, every candidate and where the BLAS came from', () => {
    const r = cli(['doctor', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.engine).toBe('native');
    expect(['prebuild x86-64-v3', 'prebuild', 'local build', 'AUTOGRAD_NATIVE_PATH']).toContain(d.source);
    expect(d.candidates.find((c: { source: string }) => c.source === d.source).skipped).toBe('');
    expect(typeof d.blasFrom).toBe('string');
    if (d.blas !== 'built-in kernel') expect(d.blasFrom).toMatch(/\.(so|dylib)|Accelerate/);
  });

  it('in words: the addon with its source, and the BLAS with the file it came from', () => {
    const r = cli(['doctor'], { env: { AUTOGRAD_BLAS: 'none' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^addon +\S+\.node \((prebuild x86-64-v3|prebuild|local build|AUTOGRAD_NATIVE_PATH)\)$/m);
    const why = loadNative().info!.blasFrom === 'built without BLAS' ? 'built without BLAS' : 'AUTOGRAD_BLAS=none';
    expect(r.stdout).toMatch(new RegExp(`^BLAS +built-in kernel \\(${why}\\)$`, 'm'));
  });
});
