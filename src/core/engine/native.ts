import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgError } from '../errors.js';
import type { Tape } from '../graph/tape.js';
import { ENTRY_BYTES, FD_WORK_COPIES, remainingMs, SMALL_WORK_BYTES, timeoutError } from '../limits.js';
import { gradientInto, gradientRun, jvpByTape, reverseByTape, type GradientRun, type RunForward } from './derivative-tape.js';
import { inputSlots } from './js.js';
import type { Engine, ReverseResult } from './types.js';

/** What the addon (native/src/addon.cc) exports. */
export interface NativeAddon {
  opNames(): string[];
  info(): NativeInfo;
  /** bytes malloc has in use (null where glibc cannot tell) */
  mallocInUse(): number | null;
  /** Linux: prctl(PR_SET_CHILD_SUBREAPER, 1); false elsewhere (absent from older builds) */
  childSubreaper?(): boolean;
  /** waitpid(pid, WNOHANG) for a reparented process: true once collected */
  reap?(pid: number): boolean;
  compile(spec: TapeSpec): { handle: unknown };
  /**
   * The forward pass from node `fromNode` on (default 0; the nodes before it hold their
   * values). Each run takes the run's deadline: milliseconds from now (Infinity: none).
   * Derivatives are tapes run forward too (engine/derivative-tape.ts): the addon holds no
   * derivative rule.
   */
  forward(h: unknown, arena: Float64Array, deadlineMs?: number, fromNode?: number): void;
  evaluate(
    h: unknown,
    arena: Float64Array,
    coord: Int32Array,
    delta: Float64Array,
    direction: Float64Array | null,
    values: Float64Array,
    branches: Float64Array,
    /** most threads (each holds a copy of the arena) */
    threads?: number,
    deadlineMs?: number,
  ): void;
}

export interface NativeInfo {
  blas: string;
  /** the CBLAS library file in use, or why the built-in kernel runs (AUTOGRAD_BLAS=none, none found) */
  blasFrom: string;
  blasThreads: number;
  /** products of moderate size run on the built-in AVX-512 kernel, not BLAS's (native/src/gemm.cc) */
  avx512Products?: boolean;
  threads: number;
  hardwareThreads: number;
  compiler: string;
  buildType: string;
  buildSystem: string;
  sanitizers: string;
  napiVersion: number;
  gemmSmall: number;
}

/** The tape as flat typed arrays, handed to C++ once (native/src/tape.h mirrors it). */
export interface TapeSpec {
  ops: Int32Array;
  inputStart: Int32Array;
  inputs: Int32Array;
  rank: Int32Array;
  dims: Float64Array;
  offsets: Float64Array;
  sizes: Float64Array;
  active: Uint8Array;
  axis: Int32Array;
  ord: Int32Array;
  gatherStart: Float64Array;
  gather: Int32Array;
  output: number;
  arenaSize: number;
  inputNodes: Int32Array;
  slots: Float64Array;
  /**
   * The nodes the caller reads besides the output. When given, a transpose read only by
   * matrix products (and not kept) is not computed: the products read through it. Absent:
   * every node is computed.
   */
  keep?: Int32Array | null;
}

/** Where a native engine can come from, in the loader's order. */
export type NativeSource = 'AUTOGRAD_NATIVE_PATH' | 'prebuild x86-64-v3' | 'prebuild' | 'local build';

export interface NativeCandidate {
  source: NativeSource;
  /** the .node file looked for */
  path: string;
  /** why it was not used; empty for the one loaded */
  skipped: string;
}

export interface NativeStatus {
  engine: Engine | null;
  /** why there is no engine (empty when loaded) */
  reason: string;
  /** the .node file loaded, or the first one looked for */
  path: string;
  /** which candidate was loaded */
  source?: NativeSource;
  /** every candidate looked at, in order */
  candidates: NativeCandidate[];
  info?: NativeInfo;
}

const ADDON_NAME = 'autograd_native.node';
/** N-API version the addon is built for (NAPI_VERSION in native/CMakeLists.txt and binding.gyp). */
const NAPI_VERSION = 8;

let root: { dir: string; version: string } | undefined;

/** The package root and version: the nearest directory above this module with our package.json (works from src/ and dist/). */
function findRoot(): { dir: string; version: string } {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8'));
        if (json.name === 'autograd-cli') return (root = { dir, version: String(json.version) });
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return (root = { dir: resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), version: '?' });
    dir = up;
  }
}

export function packageRoot(): string {
  return findRoot().dir;
}

/** The folder of prebuilt engines for this platform: prebuilds/<platform>-<arch> (as prebuildify lays them out). */
export function prebuildDir(root = packageRoot()): string {
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`);
}

/** The prebuild's file name: the addon's, tagged with the N-API version it needs. */
export const PREBUILD_NAME = `autograd_native.napi.node`;

/**
 * The second linux-x64 prebuild, for x86-64-v3 CPUs (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE:
 * Haswell and Zen on), beside the baseline one: tried first on such a CPU.
 */
export const PREBUILD_V3_NAME = `autograd_native.v3.napi.node`;

/**
 * A prebuild's CPU level as /proc/cpuinfo names its features, from native/cpu-levels.json
 * (which scripts/build-native.mjs reads too); null when the file or the level is missing.
 */
export function cpuLevelFlags(level: string, root = packageRoot()): string[] | null {
  try {
    const flags: unknown = JSON.parse(readFileSync(join(root, 'native', 'cpu-levels.json'), 'utf8'))[level];
    return Array.isArray(flags) && flags.every((f) => typeof f === 'string') ? flags : null;
  } catch {
    return null;
  }
}

/**
 * The x86-64-v3 features this CPU lacks, by /proc/cpuinfo's first `flags` line; null when
 * that or the level's list (native/cpu-levels.json) cannot be read.
 */
export function missingX86_64V3(cpuinfo = '/proc/cpuinfo'): string[] | null {
  const want = cpuLevelFlags('x86-64-v3');
  let text: string;
  try {
    text = readFileSync(cpuinfo, 'latin1');
  } catch {
    return null;
  }
  const line = /^flags\s*:(.*)$/m.exec(text);
  if (!want || !line) return null;
  const flags = new Set(line[1].trim().split(/\s+/));
  return want.filter((f) => !flags.has(f));
}

/** The local build of `npm run build:native`. */
export function localBuildPath(root = packageRoot()): string {
  return join(root, 'build', 'Release', ADDON_NAME);
}

/**
 * The files the loader tries, in order: AUTOGRAD_NATIVE_PATH alone when set (a variant
 * build under test must not be replaced by another); else the prebuild for this platform
 * and the local build, the prebuild first unless the local build is newer (a developer
 * who rebuilt the engine, or a user who compiled it for this CPU, gets that build). On
 * linux-x64 the x86-64-v3 prebuild goes before the baseline one when this CPU has every
 * feature of that level (/proc/cpuinfo) and AUTOGRAD_PREBUILD is not `baseline`; when it
 * does not load, the baseline one is next.
 */
export function nativeCandidates(
  root = packageRoot(),
  env: Record<string, string | undefined> = process.env,
  cpuMissing: () => string[] | null = missingX86_64V3,
): NativeCandidate[] {
  if (env.AUTOGRAD_NATIVE_PATH) return [{ source: 'AUTOGRAD_NATIVE_PATH', path: resolve(env.AUTOGRAD_NATIVE_PATH), skipped: '' }];
  const prebuilt: NativeCandidate = { source: 'prebuild', path: join(prebuildDir(root), PREBUILD_NAME), skipped: '' };
  const napi = Number(process.versions.napi ?? 0);
  if (!existsSync(prebuilt.path)) prebuilt.skipped = `no prebuild for ${process.platform}-${process.arch}`;
  else if (napi < NAPI_VERSION) prebuilt.skipped = `this Node has N-API ${napi}; the prebuild needs ${NAPI_VERSION}`;
  const prebuilts = [prebuilt];
  const v3: NativeCandidate = { source: 'prebuild x86-64-v3', path: join(prebuildDir(root), PREBUILD_V3_NAME), skipped: '' };
  if (existsSync(v3.path)) {
    const forced = /^baseline$/i.test(env.AUTOGRAD_PREBUILD ?? '');
    const missing = forced ? [] : cpuMissing();
    if (forced) v3.skipped = 'AUTOGRAD_PREBUILD=baseline';
    else if (!missing) v3.skipped = 'cannot tell whether this CPU has x86-64-v3 (no /proc/cpuinfo flags, or no native/cpu-levels.json)';
    else if (missing.length) v3.skipped = `this CPU lacks x86-64-v3 (${missing.join(', ')})`;
    else if (napi < NAPI_VERSION) v3.skipped = `this Node has N-API ${napi}; the prebuild needs ${NAPI_VERSION}`;
    prebuilts.unshift(v3);
  }
  const local: NativeCandidate = { source: 'local build', path: localBuildPath(root), skipped: '' };
  if (!existsSync(local.path)) local.skipped = 'not built';
  const first = prebuilts.find((c) => !c.skipped);
  if (first && !local.skipped && statSync(local.path).mtimeMs > statSync(first.path).mtimeMs) return [local, ...prebuilts];
  return [...prebuilts, local];
}

let status: NativeStatus | undefined;
let addon: NativeAddon | undefined;

/**
 * The native C++ engine, when an addon loads and passes its self-test. Loaded once per
 * process; `reason` says why not otherwise (and `--engine auto` then uses the TypeScript
 * engine), `candidates` what was tried. AUTOGRAD_NATIVE=0 turns it off. When nothing
 * loads on its own (no AUTOGRAD_NATIVE_PATH), the first load on this install says so on
 * stderr, once (see `noticeOnce`); `notice: false` keeps quiet (doctor explains anyway).
 */
export function loadNative(opts: { notice?: boolean } = {}): NativeStatus {
  if (status) return status;
  const tried = nativeCandidates();
  if (/^(0|off|false|no)$/i.test(process.env.AUTOGRAD_NATIVE ?? '')) {
    for (const c of tried) c.skipped ||= 'AUTOGRAD_NATIVE=0';
    return (status = { engine: null, reason: 'the native engine is turned off (AUTOGRAD_NATIVE=0)', path: tried[0].path, candidates: tried });
  }
  const loaded = loadFirst(tried);
  addon = loaded.addon;
  status = loaded.status;
  if (!status.engine && opts.notice !== false && tried[0].source !== 'AUTOGRAD_NATIVE_PATH')
    noticeOnce(tried.map((c) => `${c.source}: ${c.skipped}`).join('; '));
  return status;
}

/**
 * The first candidate that loads and passes the self-test; the others say why not (in
 * `skipped`, filled in here). Not cached: loadNative() keeps the one for the process.
 */
export function loadFirst(tried: NativeCandidate[]): { status: NativeStatus; addon?: NativeAddon } {
  for (const c of tried) {
    if (c.skipped) continue;
    if (!existsSync(c.path)) {
      c.skipped = `no ${c.path}`;
      continue;
    }
    try {
      const a = createRequire(import.meta.url)(c.path) as NativeAddon;
      const info = a.info();
      selfTest(a);
      const engine = makeEngine(a);
      // the ones after it were not needed (when both exist, the second is the older build)
      for (const rest of tried.slice(tried.indexOf(c) + 1))
        rest.skipped ||=
          c.source === 'prebuild x86-64-v3' && rest.source === 'prebuild'
            ? 'not needed (this CPU has x86-64-v3, and the x86-64-v3 prebuild loaded)'
            : `not needed (the ${c.source} loaded; this one is older)`;
      return { status: { engine, reason: '', path: c.path, source: c.source, candidates: tried, info }, addon: a };
    } catch (e) {
      c.skipped = `does not load: ${whyNotLoaded((e as Error).message.split('\n')[0])}`;
    }
  }
  return {
    status: { engine: null, reason: `no native engine (${tried.map((c) => `${c.source}: ${c.skipped}`).join('; ')})`, path: tried[0].path, candidates: tried },
  };
}

/**
 * The C library this process runs on: `glibc 2.36`, or on Linux without glibc (musl:
 * Alpine) `not glibc`; null elsewhere. Asked only when needed (process.report takes a few ms).
 */
export function libcHere(): string | null {
  if (process.platform !== 'linux') return null;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'not glibc';
}

/**
 * The loader's error for an addon that does not load, with what it means when the cause is
 * the C library: a glibc older than the addon needs, or no glibc at all (the prebuilds are
 * built for glibc).
 */
function whyNotLoaded(message: string): string {
  const version = /version `GLIBC_([0-9.]+)' not found/.exec(message);
  const libc = process.platform === 'linux' && /GLIBC|symbol not found|Error relocating|libdl\.so|libpthread\.so/.test(message) ? libcHere() : null;
  if (version && libc) return `it needs glibc ${version[1]} and this system has ${libc} (${message})`;
  if (libc === 'not glibc') return `it is built for glibc and this system's C library is another, such as musl (${message})`;
  return message;
}

/** How a user builds the engine of this install (the note below, doctor). */
export const BUILD_COMMAND = () => `npm --prefix ${JSON.stringify(packageRoot())} run build:native`;
export const BUILD_NEEDS = 'cmake or python3 and make, and a C++ compiler';

/** The file that remembers the notice was given for this install (package folder and version). */
export function noticeMarker(): string {
  const { dir, version } = findRoot();
  // FNV-1a of the folder: a short, stable file name without loading node:crypto
  let h = 0x811c9dc5;
  for (const ch of `${dir}@${version}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'autograd-cli', `native-notice-${h.toString(16).padStart(8, '0')}`);
}

/**
 * Installs whose scripts were blocked (--ignore-scripts, npm's allowScripts) on a platform
 * without a working prebuild would otherwise run on the slower engine without a word.
 * Said once per install: the marker is created exclusively, so parallel processes (check
 * --jobs) print it once; when it cannot be written, the note is repeated next time.
 */
function noticeOnce(reason: string): void {
  const marker = noticeMarker();
  try {
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, `${findRoot().dir}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
  }
  process.stderr.write(
    `autograd-cli: note: the native engine is not built here (${reason}), so formulas run on the TypeScript engine, ` +
      `20-35x slower on large tensors. Build it with: ${BUILD_COMMAND()} (needs ${BUILD_NEEDS}). ` +
      `\`autograd-cli doctor\` says more; this note is shown once.\n`,
  );
}

/**
 * A quick self-test of a freshly loaded addon: sum(x .* y) and its gradient at x = [1, 2],
 * y = [3, 4], as one tape run forward: the value (11), then from the first appended node
 * on, ∂/∂x = y and ∂/∂y = x through gmul (the product of a gradient tape) and a scatter. A
 * binary built for another C library or CPU fails here or at require. No deadline: the
 * engine is often loaded first deep inside a run, and a run's --timeout is no reason to
 * give up the engine for the rest of the process.
 */
function selfTest(a: NativeAddon): void {
  type Node = Tape['nodes'][number];
  const node = (id: number, op: string, inputs: number[], shape: number[], offset: number, attrs: Node['attrs'] = {}): Node => ({
    id,
    op,
    inputs,
    shape,
    size: shape.length === 0 ? 1 : shape[0],
    offset,
    attrs,
    label: op,
    active: true,
  });
  const tape: Tape = {
    source: 'sum(x .* y)',
    nodes: [
      node(0, 'input', [], [2], 0),
      node(1, 'input', [], [2], 2),
      node(2, 'multiply', [0, 1], [2], 4),
      node(3, 'sum', [2], [], 6),
      // the gradient: the seed 1 broadcast by a product, then into each factor
      node(4, 'const', [], [], 7),
      node(5, 'gmul', [4, 1], [2], 8),
      node(6, 'gmul', [4, 0], [2], 10),
      node(7, 'scatter', [5], [2], 12, { gather: Int32Array.of(1, 0), outShape: [2] }),
    ],
    output: 3,
    inputs: [
      { name: 'x', node: 0, shape: [2] },
      { name: 'y', node: 1, shape: [2] },
    ],
    indexVars: [],
    arenaSize: 14,
  };
  const arena = Float64Array.of(1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0);
  const { handle } = prepare(a, tape);
  a.forward(handle, arena, Infinity, 0);
  const value = arena[6];
  arena.fill(0, 8);
  a.forward(handle, arena, Infinity, 4);
  const got = [value, ...arena.subarray(8, 14)];
  if (got.join() !== '11,3,4,1,2,4,3') throw new Error(`self-test: sum(x .* y) gave ${got.join(', ')}, expected 11, 3, 4, 1, 2, 4, 3`);
}

// ----- the tape, handed over once -----

interface Prepared {
  handle: unknown;
}

const prepared = new WeakMap<Tape, Prepared>();
const opCodes = new WeakMap<NativeAddon, Map<string, number>>();

/**
 * The tape's compiled form in C++ (an external object), made on first use and kept with
 * the tape. `keep`: the nodes the caller reads besides the output, when it knows them
 * (see TapeSpec.keep); taken at the first call only.
 */
function prepare(a: NativeAddon, tape: Tape, keep?: readonly number[]): Prepared {
  const hit = prepared.get(tape);
  if (hit) return hit;
  const p = { handle: a.compile(tapeSpec(a, tape, keep)).handle };
  prepared.set(tape, p);
  return p;
}

/** The tape as the addon's `compile` takes it. */
export function tapeSpec(a: NativeAddon, tape: Tape, keep?: readonly number[]): TapeSpec {
  let opCode = opCodes.get(a);
  if (!opCode) opCodes.set(a, (opCode = new Map(a.opNames().map((name, i) => [name, i]))));
  const N = tape.nodes.length;
  const spec: TapeSpec = {
    ops: new Int32Array(N),
    inputStart: new Int32Array(N + 1),
    inputs: Int32Array.from(tape.nodes.flatMap((n) => n.inputs)),
    rank: new Int32Array(N),
    dims: new Float64Array(2 * N).fill(1),
    offsets: new Float64Array(N),
    sizes: new Float64Array(N),
    active: new Uint8Array(N),
    axis: new Int32Array(N).fill(-1),
    ord: new Int32Array(N).fill(2),
    gatherStart: new Float64Array(N + 1),
    gather: new Int32Array(0),
    output: tape.output,
    arenaSize: tape.arenaSize,
    inputNodes: Int32Array.from(tape.inputs.map((i) => i.node)),
    slots: Float64Array.from(inputSlots(tape)),
    keep: keep ? Int32Array.from(keep) : null,
  };
  const gathers: Int32Array[] = [];
  let gatherLen = 0;
  tape.nodes.forEach((n, i) => {
    const code = opCode.get(n.op);
    if (code === undefined) throw new Error(`the native engine does not implement ${n.op}`);
    spec.ops[i] = code;
    spec.inputStart[i + 1] = spec.inputStart[i] + n.inputs.length;
    spec.rank[i] = n.shape.length;
    n.shape.forEach((d, k) => (spec.dims[2 * i + k] = d));
    spec.offsets[i] = n.offset;
    spec.sizes[i] = n.size;
    spec.active[i] = n.active ? 1 : 0;
    if (typeof n.attrs.axis === 'number') spec.axis[i] = n.attrs.axis;
    const ord = n.attrs.ord;
    spec.ord[i] = ord === 1 ? 1 : ord === Infinity ? 3 : 2;
    const g = n.attrs.gather;
    if ((n.op === 'subset' || n.op === 'scatter') && g) {
      gathers.push(g);
      gatherLen += g.length;
    }
    spec.gatherStart[i + 1] = gatherLen;
  });
  spec.gather = new Int32Array(gatherLen);
  let o = 0;
  for (const g of gathers) {
    spec.gather.set(g, o);
    o += g.length;
  }
  return spec;
}

/**
 * An error from the addon as the rest of the program knows errors: its deadline is the
 * run's --timeout, memory is a limit, anything else the engine's own (never a crash).
 */
function nativeError(e: unknown): Error {
  const code = (e as { code?: string })?.code;
  if (code === 'ETIMEDOUT') return timeoutError();
  if (code === 'ENOMEM')
    return new AgError('limit', 'the native engine ran out of memory', { hint: 'lower --max-memory so the estimate refuses such inputs, or use --engine js' });
  if (e instanceof AgError) return e;
  return new AgError(
    'engine',
    (e as Error)?.message?.startsWith('native engine') ? (e as Error).message : `native engine: ${(e as Error)?.message ?? String(e)}`,
  );
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw nativeError(e);
  }
}

/** Threads for the finite-difference loop: each holds a copy of the arena, which the memory estimate counts FD_WORK_COPIES of (more only while small). */
function fdThreads(tape: Tape): number {
  return Math.max(FD_WORK_COPIES, Math.floor(SMALL_WORK_BYTES / Math.max(1, tape.arenaSize * ENTRY_BYTES)));
}

function makeEngine(a: NativeAddon): Engine {
  return {
    name: 'native',
    ops: new Set(a.opNames()),

    forward(tape, arena) {
      guard(() => a.forward(prepare(a, tape).handle, arena, remainingMs()));
    },

    // derivatives are tapes of forward kernels: the gradient (tangent) tape, built once per tape, run from its first appended node
    reverse(tape, arena, opts = {}): ReverseResult {
      const { adjoint, edges } = guard(() => reverseByTape(tape, arena, runFrom(a), opts));
      return { adjoint, edges };
    },

    jvp(tape, arena, dots) {
      return guard(() => jvpByTape(tape, arena, dots, runFrom(a)));
    },

    evaluate(tape, arena, coord, delta, direction) {
      const values = new Float64Array(coord.length);
      const branches = new Float64Array(coord.length);
      guard(() => a.evaluate(prepare(a, tape).handle, arena, coord, delta, direction ?? null, values, branches, fdThreads(tape), remainingMs()));
      return { values, branches };
    },
  };
}

/** The loaded addon itself (for tests and diagnostics), or null. */
export function nativeAddon(): NativeAddon | null {
  return loadNative().engine ? (addon ?? null) : null;
}

/** The addon's forward pass from a node on, under the run's deadline: what derivative tapes run with. */
function runFrom(a: NativeAddon): RunForward {
  return (tape, arena, from, reads) => a.forward(prepare(a, tape, reads).handle, arena, remainingMs(), from);
}

/**
 * Forward and reverse of a scalar-output tape in one native run (the gradient tape from
 * its first node), into a caller-owned adjoint buffer (zero where nothing flows; reused
 * across calls). The arena holds the tape's inputs and constants. Returns the value.
 */
export function nativeGradient(tape: Tape, arena: Float64Array, adjoint: Float64Array): number {
  if (!loadNative().engine || !addon) throw new Error('the native engine is not loaded');
  const a = addon;
  return guard(() => gradientInto(tape, arena, adjoint, runFrom(a)));
}

/**
 * A scalar-output tape's value and gradient as repeated native runs in one work arena
 * that starts with the tape's arena (derivative-tape.ts GradientRun): a step is one call
 * into C++ and copies no arena. Null when the gradient tape moved the original nodes.
 */
export function nativeGradientRun(tape: Tape): GradientRun | null {
  if (!loadNative().engine || !addon) throw new Error('the native engine is not loaded');
  const run = gradientRun(tape, runFrom(addon));
  if (!run) return null;
  const step = run.step;
  return { arena: run.arena, gradients: run.gradients, step: () => guard(step) };
}
