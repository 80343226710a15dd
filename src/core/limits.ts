import { AgError } from './errors.js';

/**
 * The one boundary for untrusted input: every limit a run is held to, in one object
 * built once (from the defaults and the command line's flags) and handed to every
 * entry point. A missing flag keeps its default: `limitsFrom({maxNodes: undefined})` is
 * the defaults, never a hole (spreading `{...DEFAULTS, ...flags}` would let an
 * `undefined` erase one).
 */
export interface Limits {
  /** most nodes in the graph */
  readonly maxNodes: number;
  /** most steps of work building the graph: expression nodes visited, counting every inline-function expansion */
  readonly maxExpansion: number;
  /** most entries in one tensor */
  readonly maxEntries: number;
  /** most bytes a run may hold in values and engine buffers, estimated before anything is allocated */
  readonly maxMemory: number;
  /** deepest nesting of a formula */
  readonly maxDepth: number;
  /** longest formula or value expression, in characters */
  readonly maxLength: number;
  /** largest file read (formula, values, .npy, case file) */
  readonly maxFileBytes: number;
  /** largest YAML/JSON document (case files, value files): parsed documents take many times their size */
  readonly maxDocumentBytes: number;
  /** most function evaluations one finite-difference check may spend */
  readonly maxEvaluations: number;
  /** seconds a run (one case of `check`) may take; Infinity for none */
  readonly timeout: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The documented defaults (docs/untrusted-input.md). */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxNodes: 200_000,
  maxExpansion: 2_000_000,
  maxEntries: 50_000_000,
  maxMemory: 2 * GiB,
  maxDepth: 200,
  maxLength: 100_000,
  maxFileBytes: 512 * MiB,
  maxDocumentBytes: 4 * MiB,
  maxEvaluations: 200_000,
  timeout: 60,
});

/** `graph`'s own limit (--max-picture-nodes): most nodes laid out as a picture; a layout this size takes a second or two (report/graph/picture.ts). */
export const DEFAULT_PICTURE_NODES = 120;

/** How each limit is given on the command line: flag, unit, and what it bounds. */
export const LIMIT_FLAGS: { key: keyof Limits; flag: string; unit: number; integer: boolean; describe: string }[] = [
  { key: 'maxNodes', flag: 'max-nodes', unit: 1, integer: true, describe: 'most graph nodes' },
  {
    key: 'maxExpansion',
    flag: 'max-expansion',
    unit: 1,
    integer: true,
    describe: 'most steps of work building the graph, inline-function expansions included',
  },
  { key: 'maxEntries', flag: 'max-entries', unit: 1, integer: true, describe: 'most entries in one tensor' },
  { key: 'maxMemory', flag: 'max-memory', unit: GiB, integer: false, describe: 'most GiB of values and engine buffers, estimated before allocating' },
  { key: 'maxDepth', flag: 'max-depth', unit: 1, integer: true, describe: 'deepest nesting of a formula' },
  { key: 'maxLength', flag: 'max-length', unit: 1, integer: true, describe: 'longest formula in characters' },
  { key: 'maxFileBytes', flag: 'max-file-size', unit: MiB, integer: false, describe: 'largest file read, in MiB' },
  { key: 'maxDocumentBytes', flag: 'max-document-size', unit: MiB, integer: false, describe: 'largest YAML/JSON document (case and value files), in MiB' },
  { key: 'maxEvaluations', flag: 'max-evaluations', unit: 1, integer: true, describe: 'most function evaluations of one finite-difference check' },
  { key: 'timeout', flag: 'timeout', unit: 1, integer: false, describe: 'seconds a run (each case of check) may take; 0 for none' },
];

/** A limit as the user knows it: its flag and its value in the flag's unit. */
export function limitName(key: keyof Limits): string {
  return `--${LIMIT_FLAGS.find((f) => f.key === key)!.flag}`;
}

const made = new WeakSet<object>();

/**
 * Limits from the defaults and whatever is given (in the library's units: bytes,
 * seconds). An undefined value keeps its default; a given one must be a positive
 * number (whole where it counts things). Built once; the result is frozen.
 */
export function limitsFrom(given?: Partial<Limits> | Limits): Limits {
  if (given && made.has(given)) return given as Limits;
  const out: Record<string, number> = {};
  for (const { key, flag, unit, integer } of LIMIT_FLAGS) {
    const v = given?.[key];
    if (v === undefined) {
      out[key] = DEFAULT_LIMITS[key];
      continue;
    }
    const shown = v / unit;
    if (key === 'timeout' && v === 0) {
      out[key] = Infinity;
      continue;
    }
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (integer && Number.isFinite(v) && !Number.isInteger(v))) {
      throw new AgError('usage', `--${flag} must be a positive ${integer ? 'whole ' : ''}number, not ${shown}`);
    }
    out[key] = v;
  }
  const limits = Object.freeze(out as unknown as Limits);
  made.add(limits);
  return limits;
}

/** The command line's limit flags (each in its flag's unit, undefined when not given) → Limits. */
export function limitsFromFlags(flags: Partial<Record<keyof Limits, number | undefined>>): Limits {
  const given: Partial<Record<keyof Limits, number>> = {};
  for (const { key, unit } of LIMIT_FLAGS) {
    const v = flags[key];
    if (v !== undefined) given[key] = typeof v === 'number' ? v * unit : v;
  }
  return limitsFrom(given);
}

// ----- memory: estimated before anything is allocated -----

/** Bytes of one float64 entry. */
export const ENTRY_BYTES = 8;

/**
 * Arena-sized buffers a gradient run holds at its peak: the arena, its adjoint, forward
 * mode's tangents, the finite-difference work copies (at most FD_WORK_COPIES, one per
 * thread), and four for temporaries: the work arenas derivative tapes run in (the native
 * engine's reverse and forward mode, each the original values and the appended nodes,
 * about twice the arena, and the copies in and out of the addon), or the eager engine's
 * contributions, unbroadcasts and the gathered gradient, and a random direction of the
 * directional check. Measured, not guessed: test/security/memory.test.ts runs a gradient
 * just under the limit on each engine and each Node (22 and 24 hold more than 20).
 */
export const FD_WORK_COPIES = 2;
export const RUN_ARENA_COPIES = 1 + 1 + 1 + FD_WORK_COPIES + 4;
/** Below this many bytes of work arenas in all, the native finite-difference loop may use more threads than FD_WORK_COPIES. */
export const SMALL_WORK_BYTES = 64 * MiB;
/** What one entry printed in full (--edges full) costs on its way out: a JS number in an array and its JSON text. */
export const OUTPUT_BYTES_PER_ENTRY = 64;

/** `1.5 GiB`, `300 MiB`: a byte count as a message shows it. */
export function bytesText(b: number): string {
  if (!Number.isFinite(b)) return `${b} bytes`;
  if (b >= GiB) return `${Number((b / GiB).toPrecision(3))} GiB`;
  if (b >= MiB) return `${Number((b / MiB).toPrecision(3))} MiB`;
  return `${Math.ceil(b / 1024)} KiB`;
}

/** The error for an estimate over the memory limit, naming what would take it. */
export function memoryError(bytes: number, what: string, limits: Limits): AgError {
  return new AgError('limit', `${what} would need about ${bytesText(bytes)}; the limit is ${bytesText(limits.maxMemory)} (--max-memory)`);
}

/** Entries of a shape, refused before allocation when over --max-entries or not a whole number. */
export function checkEntries(what: string, shape: readonly number[], limits: Limits): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n) || n > limits.maxEntries) {
    const count = Number.isFinite(n) ? `${n} entries` : 'more entries than can be counted';
    throw new AgError(
      'limit',
      `${what} would make a tensor [${shape.map((d) => (Number.isFinite(d) ? d : String(d))).join(',')}] of ${count}; the limit is ${limits.maxEntries} (--max-entries)`,
    );
  }
  return n;
}

// ----- time: a cooperative deadline -----

/**
 * The deadline of the run in progress (`now()` milliseconds), checked at the
 * loop points of the builder, both engines, the finite-difference loops and simplify.
 * It is set around a run by the entry point (grad, jacobian, derive, a case of check),
 * not passed down, so it reaches the engines' inner loops without widening the Engine
 * interface; a nested entry point keeps the earlier of the two deadlines.
 */
let deadline = Infinity;
let deadlineSeconds = Infinity;
/** A monotonic clock in milliseconds; not `performance.now()`, whose global loads node:perf_hooks (~1.5 ms of the CLI's start-up). */
const now = () => Number(process.hrtime.bigint()) / 1e6;
let ticks = 0;

export class TimeoutError extends AgError {
  constructor(seconds: number) {
    super('limit', `the run took longer than ${Number(seconds.toPrecision(3))} s and was stopped (--timeout)`, {
      hint: 'raise --timeout, or make the input smaller',
    });
  }
}

/**
 * Run `fn` with a deadline `seconds` from now (Infinity: none), kept if an earlier one is
 * already running; a timeout names `timeout` seconds (the whole run's --timeout, for what
 * is left of it).
 */
export function withDeadline<T>(seconds: number, fn: () => T, timeout = seconds): T {
  const saved = deadline;
  const savedSeconds = deadlineSeconds;
  const at = now() + seconds * 1000;
  if (at < deadline) {
    deadline = at;
    deadlineSeconds = timeout;
  }
  try {
    return fn();
  } finally {
    deadline = saved;
    deadlineSeconds = savedSeconds;
  }
}

/**
 * Start the whole command's clock: every later deadline (the `--at` values, the run, the
 * picture) keeps this one if it is earlier, so `--timeout` bounds the command, not each
 * of its phases. Set, not narrowed: a second command in the same process starts afresh.
 */
export function startCommandClock(seconds: number): void {
  deadline = seconds === Infinity ? Infinity : now() + seconds * 1000;
  deadlineSeconds = seconds;
}

/** Milliseconds left before the deadline (Infinity when none), for the native engine. */
export function remainingMs(): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - now());
}

/** Throw when the deadline has passed. Cheap enough for inner loops: the clock is read every 64 calls. */
export function checkDeadline(): void {
  if (deadline === Infinity || (++ticks & 63) !== 0) return;
  if (now() > deadline) throw new TimeoutError(deadlineSeconds);
}

/** Units of work (about one multiply-add, or one entry, each) between two readings of the clock inside a kernel: a few milliseconds. */
export const DEADLINE_BLOCK = 4e6;
let work = 0;

/**
 * Count `units` of work done inside one op (a row of a matrix product, a node's entries)
 * and throw when the deadline has passed. The clock is read once per DEADLINE_BLOCK units,
 * so a kernel calls this once per block of its loop however small the block, and one
 * expensive op stops within a few milliseconds of the deadline (native/src/deadline.h
 * checkWork is the same).
 */
export function checkDeadlineWork(units: number): void {
  if (deadline === Infinity) return;
  work += units;
  if (work < DEADLINE_BLOCK) return;
  work = 0;
  if (now() > deadline) throw new TimeoutError(deadlineSeconds);
}

/** The same, reading the clock every time (between large steps). */
export function checkDeadlineNow(): void {
  if (deadline !== Infinity && now() > deadline) throw new TimeoutError(deadlineSeconds);
}

/** The timeout error of the running deadline (for errors raised elsewhere, like the native engine's). */
export function timeoutError(): TimeoutError {
  return new TimeoutError(deadlineSeconds);
}

/** The same limits with some changed (for text we generate ourselves, like a derivative to cross-check). */
export function withLimits(base: Limits, changes: Partial<Limits>): Limits {
  const given: Partial<Record<keyof Limits, number>> = {};
  for (const { key } of LIMIT_FLAGS) given[key] = changes[key] ?? base[key];
  return limitsFrom(given);
}

// ----- garbage: transient copies must not pile up above the limit -----

let gcFn: ((o?: { type: 'minor' }) => void) | null | undefined;
/** Bytes a run must reach before its phases end with a full collection (below it, V8's own pacing is fine). */
export const COLLECT_ABOVE_BYTES = 32 * MiB;

/**
 * A full garbage collection between the phases of a large run (values, forward and
 * reverse, forward mode, the check). Typed arrays live outside V8's heap, and V8
 * collects them only once the external memory has grown by about as much again, so
 * without this a run's dead copies could double its peak; the estimate counts live
 * copies, and this keeps the peak near them.
 */
export function collectGarbage(bytes: number, kind: 'full' | 'minor' = 'full'): void {
  if (bytes < COLLECT_ABOVE_BYTES) return;
  if (gcFn === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const v8 = process.getBuiltinModule?.('node:v8') as typeof import('node:v8') | undefined;
      const vm = process.getBuiltinModule?.('node:vm') as typeof import('node:vm') | undefined;
      if (v8 && vm) {
        v8.setFlagsFromString('--expose-gc');
        gcFn = vm.runInNewContext('gc') as (o?: { type: 'minor' }) => void;
      } else gcFn = null;
    } catch {
      gcFn = null;
    }
  }
  // a minor collection frees the young typed arrays a loop just dropped, at a fraction of a full one's cost
  gcFn?.(kind === 'minor' ? { type: 'minor' } : undefined);
}
