import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The glibc 2.17 paths of native/compat/glibc-compat.cc, which no machine here takes by
 * itself (glibc has __cxa_thread_atexit_impl since 2.18 and mallinfo2 since 2.33): a test
 * program (glibc-compat/thread-exit.cc) linked with it as the portable prebuild is linked
 * (the -include and every link option of native/CMakeLists.txt's AUTOGRAD_PORTABLE block:
 * static libstdc++, the --wrap list), built with AG_COMPAT_TEST=1, which makes the file act
 * as on glibc 2.17, and with AG_COMPAT_TEST=0, glibc's own path, for reference. Both are
 * built with -fsanitize=address,undefined (leaks checked: every registration is freed), the
 * fallback also without, and once for linux-arm64 (cross-compiled as that prebuild is, run
 * under qemu-aarch64). Four threads and the main thread each make thread_local objects;
 * every one must be destroyed when its thread ends (the main thread's in exit()), the
 * newest first, one made by a destructor next, exactly as glibc's own path does it.
 */
const CXX = process.env.CXX || 'g++';
const CMAKE = readFileSync(join(ROOT, 'native', 'CMakeLists.txt'), 'utf8');
const THREADS = 4;
// the linux-arm64 prebuild's compiler and C library (scripts/build-native.mjs, CROSS)
const CROSS_CXX = 'aarch64-linux-gnu-g++';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** The link options of the portable prebuild on Linux, as native/CMakeLists.txt gives them. */
function prebuildLinkOptions(): string[] {
  const m = /target_link_options\(\$\{PROJECT_NAME\} PRIVATE (-static-libstdc\+\+[^)]*)\)/.exec(CMAKE);
  expect(m, 'native/CMakeLists.txt links the portable prebuild with -static-libstdc++ and --wrap').not.toBeNull();
  return (m?.[1] ?? '').split(/\s+/).filter(Boolean);
}

const work = mkdtempSync(join(tmpdir(), 'autograd-glibc-compat-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// the sanitizer runtime the asan variant preloads into node is not this program's business
const env: Record<string, string | undefined> = { ...process.env, LD_PRELOAD: undefined };
delete env.LD_PRELOAD;

function build(name: string, defs: string[], sanitize: boolean, cxx = CXX): string {
  const out = join(work, name);
  const args = [
    '-std=c++17',
    '-pthread',
    '-Wall',
    '-Werror',
    '-Wno-deprecated-declarations',
    ...(sanitize ? ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined'] : ['-O2']),
    '-include',
    join(ROOT, 'native', 'compat', 'glibc-compat.h'),
    ...defs,
    join(ROOT, 'native', 'compat', 'glibc-compat.cc'),
    join(ROOT, 'test', 'native', 'glibc-compat', 'thread-exit.cc'),
    ...prebuildLinkOptions(),
    '-o',
    out,
  ];
  const r = spawnSync(cxx, args, { encoding: 'utf8', env, timeout: 120_000 });
  expect(r.status, `${cxx} ${args.join(' ')}\n${r.stderr}${r.error ?? ''}`).toBe(0);
  return out;
}

function run(program: string, runner: string[] = []): string {
  const [cmd, ...args] = [...runner, program];
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
    timeout: 60_000,
  });
  expect(r.status, `${r.stderr}${r.error ?? ''}`).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/**
 * What C++ asks for in thread `id` of thread-exit.cc: objects made a, then `id` in a
 * vector, b, a Reviver in odd threads, c; destroyed in the reverse order of their making,
 * the vector's elements in its own order, and the object the Reviver's destructor makes
 * (99) destroyed right after it, before the older ones.
 */
function expected(id: number): string {
  const many = Array.from({ length: id }, (_, i) => 10 + i);
  const made = ['+1', ...many.map((n) => `+${n}`), '+2', ...(id % 2 ? ['+0'] : []), '+3'];
  const died = ['-3', ...(id % 2 ? ['+99', '-0', '-99'] : []), '-2', ...many.map((n) => `-${n}`), '-1'];
  return `thread ${id}: ${[...made, ...died].join(' ')}`;
}

function expectRegistrations(out: string, n: number) {
  expect(out).toContain(`\nfallback registrations: ${n}\n`);
}

// thread_local objects per thread: a, the vector, b, c, and in odd threads the Reviver and the one it makes
const REGISTRATIONS = Array.from({ length: THREADS + 1 }, (_, id) => 4 + (id % 2 ? 2 : 0)).reduce((a, b) => a + b);

describe.runIf(process.platform === 'linux')('glibc-compat.cc on glibc 2.17 (forced), linked as the prebuild', () => {
  let reference: string;
  beforeAll(() => {
    reference = run(build('glibc-own-asan', ['-DAG_COMPAT_TEST=0'], true));
  }, 120_000);

  it('glibc’s own path, for reference: every object destroyed at its thread’s exit in C++’s order; the fallback unused', () => {
    for (let id = 0; id <= THREADS; id++) expect(reference).toContain(`${expected(id)}\n`);
    expect(reference).toContain('mallinfo2 = mallinfo: yes\n');
    expectRegistrations(reference, 0);
  });

  it('the fallback (a thread-specific key), under ASan/UBSan: the same destructors in the same order, every registration freed', () => {
    const out = run(build('fallback-asan', ['-DAG_COMPAT_TEST=1'], true));
    expectRegistrations(out, REGISTRATIONS);
    for (let id = 0; id <= THREADS; id++) expect(out).toContain(`${expected(id)}\n`);
    expect(out.replace(/^fallback registrations: .*$/m, '')).toBe(reference.replace(/^fallback registrations: .*$/m, ''));
  });

  it('the fallback optimised as the prebuild is (-O2, no sanitizer): the same; mallinfo2 from mallinfo', () => {
    const out = run(build('fallback', ['-DAG_COMPAT_TEST=1'], false));
    expectRegistrations(out, REGISTRATIONS);
    for (let id = 0; id <= THREADS; id++) expect(out).toContain(`${expected(id)}\n`);
    expect(out).toContain('mallinfo2 = mallinfo: yes\n');
  });

  // arm64's first glibc is 2.17 itself (CentOS 7 on aarch64): there the fallback is what runs
  it('the fallback linked for linux-arm64 (the cross compiler of that prebuild), run under qemu-aarch64: the same', () => {
    const cross = CROSS_CXX;
    expect(spawnSync(cross, ['--version']).status, `${cross}: apt-get install g++-aarch64-linux-gnu (.ci/run does)`).toBe(0);
    const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].find((q) => spawnSync(q, ['--version']).status === 0);
    expect(qemu, 'qemu-aarch64 runs arm64 programs here: apt-get install qemu-user-static (.ci/run does)').toBeDefined();
    const out = run(build('fallback-arm64', ['-DAG_COMPAT_TEST=1'], false, cross), [qemu as string, '-L', ARM64_SYSROOT]);
    expectRegistrations(out, REGISTRATIONS);
    expect(out.replace(/^fallback registrations: .*$/m, '')).toBe(reference.replace(/^fallback registrations: .*$/m, ''));
  });
});
