import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgError } from '../errors.js';
import type { Tape } from '../graph/tape.js';
import { ENTRY_BYTES, FD_WORK_COPIES, remainingMs, SMALL_WORK_BYTES, timeoutError } from '../limits.js';
import { inputSlots } from './js.js';
import type { EdgeFlow, Engine, ReverseResult } from './types.js';

/** What the addon (native/src/addon.cc) exports. */
export interface NativeAddon {
  opNames(): string[];
  info(): NativeInfo;
  /** bytes malloc has in use (null where glibc cannot tell) */
  mallocInUse(): number | null;
  compile(spec: TapeSpec): { handle: unknown; edgeLength: number };
  /** each run takes the run's deadline last: milliseconds from now (Infinity: none) */
  forward(h: unknown, arena: Float64Array, deadlineMs?: number): void;
  reverse(h: unknown, arena: Float64Array, adjoint: Float64Array, seed: Float64Array | null, edges: Float64Array | null, deadlineMs?: number): void;
  gradient(h: unknown, arena: Float64Array, adjoint: Float64Array, deadlineMs?: number): number;
  jvp(h: unknown, arena: Float64Array, dots: (Float64Array | null)[], out: Float64Array, deadlineMs?: number): void;
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
  blasThreads: number;
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
interface TapeSpec {
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
}

export interface NativeStatus {
  engine: Engine | null;
  /** why there is no engine (empty when loaded) */
  reason: string;
  /** the .node file loaded, or the one looked for */
  path: string;
  info?: NativeInfo;
}

const ADDON_NAME = 'autograd_native.node';

/** The package root: the nearest directory above this module with our package.json (works from src/ and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'autograd-cli') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    dir = up;
  }
}

/** AUTOGRAD_NATIVE_PATH (a variant build: no BLAS, ASAN, node-gyp), else build/Release. */
export function addonPath(): string {
  return process.env.AUTOGRAD_NATIVE_PATH ? resolve(process.env.AUTOGRAD_NATIVE_PATH) : join(packageRoot(), 'build', 'Release', ADDON_NAME);
}

let status: NativeStatus | undefined;
let addon: NativeAddon | undefined;

/**
 * The native C++ engine, when its addon is built and loads. Loaded once per process;
 * `reason` says why not otherwise (and `--engine auto` then uses the TypeScript engine).
 * AUTOGRAD_NATIVE=0 turns it off.
 */
export function loadNative(): NativeStatus {
  if (status) return status;
  const path = addonPath();
  if (/^(0|off|false|no)$/i.test(process.env.AUTOGRAD_NATIVE ?? '')) {
    return (status = { engine: null, reason: 'the native engine is turned off (AUTOGRAD_NATIVE=0)', path });
  }
  if (!existsSync(path)) {
    return (status = { engine: null, reason: `the native addon is not built (no ${path}; run npm run build:native)`, path });
  }
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
    const info = addon.info();
    return (status = { engine: makeEngine(addon), reason: '', path, info });
  } catch (e) {
    return (status = { engine: null, reason: `the native addon at ${path} does not load: ${(e as Error).message}`, path });
  }
}

// ----- the tape, handed over once -----

interface EdgeMeta {
  to: number;
  input: number;
  from: number;
  offset: number;
  size: number;
}

interface Prepared {
  handle: unknown;
  edgeLength: number;
  edges: EdgeMeta[];
}

const prepared = new WeakMap<Tape, Prepared>();
let opCode: Map<string, number> | undefined;

/** The tape's compiled form in C++ (an external object), made on first use and kept with the tape. */
function prepare(a: NativeAddon, tape: Tape): Prepared {
  const hit = prepared.get(tape);
  if (hit) return hit;
  opCode ??= new Map(a.opNames().map((name, i) => [name, i]));
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
  };
  const gathers: Int32Array[] = [];
  let gatherLen = 0;
  tape.nodes.forEach((n, i) => {
    const code = opCode!.get(n.op);
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
    if (n.op === 'subset' && g) {
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
  const { handle, edgeLength } = a.compile(spec);
  // the edges the reverse sweep reports, in its order: consumers from the output down
  const edges: EdgeMeta[] = [];
  let off = 0;
  for (let id = tape.output; id >= 0; id--) {
    const n = tape.nodes[id];
    if (!n.active || n.inputs.length === 0) continue;
    n.inputs.forEach((from, k) => {
      const inp = tape.nodes[from];
      if (!inp.active) return;
      edges.push({ to: id, input: k, from, offset: off, size: inp.size });
      off += inp.size;
    });
  }
  if (off !== edgeLength) throw new Error(`native engine: ${edgeLength} edge entries, expected ${off}`);
  const p = { handle, edgeLength, edges };
  prepared.set(tape, p);
  return p;
}

/**
 * An error from the addon as the rest of the program knows errors: its deadline is the
 * run's --timeout, memory is a limit, anything else the engine's own (never a crash).
 */
function nativeError(e: unknown): Error {
  const code = (e as { code?: string })?.code;
  if (code === 'ETIMEDOUT') return timeoutError();
  if (code === 'ENOMEM') return new AgError('limit', 'the native engine ran out of memory', { hint: 'lower --max-memory so the estimate refuses such inputs, or use --engine js' });
  if (e instanceof AgError) return e;
  return new AgError('engine', (e as Error)?.message?.startsWith('native engine') ? (e as Error).message : `native engine: ${(e as Error)?.message ?? String(e)}`);
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

    reverse(tape, arena, opts = {}): ReverseResult {
      const p = guard(() => prepare(a, tape));
      const adjoint = new Float64Array(tape.arenaSize);
      const buf = opts.edges ? new Float64Array(p.edgeLength) : null;
      guard(() => a.reverse(p.handle, arena, adjoint, opts.seed ?? null, buf, remainingMs()));
      const edges: EdgeFlow[] | undefined = buf
        ? p.edges.map((e) => ({ to: e.to, input: e.input, from: e.from, contribution: buf.subarray(e.offset, e.offset + e.size) }))
        : undefined;
      return { adjoint, edges };
    },

    jvp(tape, arena, dots) {
      const out = new Float64Array(tape.nodes[tape.output].size);
      guard(() => a.jvp(prepare(a, tape).handle, arena, dots, out, remainingMs()));
      return out;
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

/**
 * Forward and reverse of a scalar-output tape in one native call, into a caller-owned
 * adjoint buffer (zero where nothing flows; reused across calls). Returns the value.
 */
export function nativeGradient(tape: Tape, arena: Float64Array, adjoint: Float64Array): number {
  if (!loadNative().engine || !addon) throw new Error('the native engine is not loaded');
  const a = addon;
  return guard(() => a.gradient(prepare(a, tape).handle, arena, adjoint, remainingMs()));
}
