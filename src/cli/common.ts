import { fstatSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { Chalk, type ChalkInstance } from 'chalk';
import { AgError } from '../core/errors.js';
import { readStdinBounded, readTextBounded } from '../core/io/read.js';
import { writeAtomic } from '../core/io/write.js';
import { DEFAULT_LIMITS, LIMIT_FLAGS, limitsFromFlags, startCommandClock, type Limits } from '../core/limits.js';
import { splitTopLevel } from '../core/parse/values.js';
import { formatError } from '../report/errors.js';
import { DEFAULT_WIDTH } from '../report/layout.js';
import { toJson } from '../report/json.js';

/** Exit codes: 0 all good, 1 a check failed, 2 bad input or usage. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export interface CommonArgs {
  json?: boolean;
  color?: boolean;
}

/** Standard output or error: by name (its stream is not created until it is needed), or a stream. */
export type Output = 'stdout' | 'stderr' | NodeJS.WriteStream;

const fdOf = (o: Output) => (o === 'stdout' ? 1 : o === 'stderr' ? 2 : undefined);
const streamOf = (o: Output): NodeJS.WriteStream => (o === 'stdout' ? process.stdout : o === 'stderr' ? process.stderr : o);
/**
 * A terminal? Asked of the file descriptor: creating Node's stream for a pipe costs ~10 ms
 * of start-up, and loading node:tty (with node:net and the streams) ~5 ms, so what fstat
 * already says is no terminal never asks it (the CLI bundle loads node:tty when first
 * called): a pipe, a file, a socket, or Linux's memory devices (major 1: /dev/null).
 */
export function isTerminal(o: Output): boolean {
  const fd = fdOf(o);
  if (fd === undefined) return Boolean((o as NodeJS.WriteStream).isTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || (process.platform === 'linux' && ((st.rdev >> 8) & 0xfff) === 1)) return false;
  } catch {
    return false;
  }
  return isatty(fd);
}

/**
 * What chalk at level 0 gives, without loading chalk (its colour detection loads
 * node:tty: start-up): every style, chained or not, returns its text as it is.
 * Only styles are used on these instances (no `hex()`/`rgb()`, which take a colour first).
 */
const noColor: ChalkInstance = new Proxy((...text: unknown[]) => (text.length === 1 ? `${text[0]}` : text.join(' ')), {
  get: (_, key) => (key === 'level' ? 0 : noColor),
}) as unknown as ChalkInstance;

/**
 * chalk for a stream: `--color`/`--no-color` decide when given (the flag wins over the
 * environment); otherwise NO_COLOR (when not empty), FORCE_COLOR, and whether the stream is a terminal.
 */
export function colors(args: CommonArgs, to: Output = 'stdout'): ChalkInstance {
  if (args.color === false) return noColor;
  if (args.color === true) return new Chalk({ level: isTerminal(to) && streamOf(to).hasColors?.(256) ? 2 : 1 });
  // no-color.org: only a non-empty NO_COLOR turns colour off
  if (process.env.NO_COLOR) return noColor;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return new Chalk({ level: 1 });
  if (!isTerminal(to)) return noColor;
  const stream = streamOf(to);
  // Node's hasColors() takes any NO_COLOR, the empty one too, for "no colour": ask it without
  const env = 'NO_COLOR' in process.env ? { ...process.env, NO_COLOR: undefined } : process.env;
  return stream.hasColors?.(16, env) ? new Chalk({ level: stream.hasColors(256, env) ? 2 : 1 }) : noColor;
}

/**
 * The width human views fit: the terminal's; for a pipe or a file, COLUMNS when set
 * (as for ls), else DEFAULT_WIDTH (100).
 */
export function terminalWidth(to: Output = 'stdout'): number {
  if (isTerminal(to) && streamOf(to).columns > 0) return streamOf(to).columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env >= 20 ? env : DEFAULT_WIDTH;
}

/**
 * Write all of `text` to standard output (or error) at once, without creating Node's
 * stream for it when nothing else has (start-up, see bench/cold-start.mjs). A reader that
 * went away (`| head -1`) ends the program quietly; a pipe that is full is left to the
 * stream, which waits for it.
 */
export function writeOut(text: string | Uint8Array, to: 'stdout' | 'stderr' = 'stdout'): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let done = 0;
  try {
    while (done < buf.length) done += writeSync(to === 'stdout' ? 1 : 2, buf, done, buf.length - done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    if (code !== 'EAGAIN') throw e;
    streamOf(to).write(buf.subarray(done));
  }
}

/**
 * The one output path of every command: `report` to standard output, or with `-o`
 * (`output`) atomically to that file (src/core/io/write.ts), the terminal then showing
 * `shown` when given (the table). A file that cannot be written goes to `notWritten`
 * when given (the run goes on), else is thrown (one line, exit 2).
 */
export function emit(report: string | Uint8Array, o: { output?: string; shown?: () => string; notWritten?: (e: AgError) => void } = {}): void {
  if (!o.output) return writeOut(report);
  if (o.shown) writeOut(o.shown());
  try {
    writeAtomic(o.output, report);
  } catch (e) {
    if (!(e instanceof AgError) || !o.notWritten) throw e;
    o.notWritten(e);
  }
}

/** `--json`, read in one place: the JSON document of `data`, else the human view. */
export function jsonOr(args: CommonArgs, data: () => unknown, human: () => string): string {
  return args.json ? `${toJson(data())}\n` : `${human()}\n`;
}

/** `--json` is `--reporter json`. */
export function reporterOf<R extends string>(args: CommonArgs & { reporter: R }): R | 'json' {
  return args.json ? 'json' : args.reporter;
}

/** `--json`, one option for every command: one JSON document instead of the human view (see `jsonOr`, `reporterOf`). */
export const JSON_OPTION = { type: 'boolean', default: false, describe: 'print one JSON document on stdout' } as const;

/** Options every command that reads values shares. */
export const VALUE_OPTIONS = {
  at: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'values: name=value,... (constant expressions, [[1,2],[3,4]], randn(3,4)), name=@file.npy, or @values.json; repeatable',
    default: [] as string[],
  },
  seed: { type: 'number', default: 42, describe: 'seed for randn/rand in values and for sampled checks' },
  json: JSON_OPTION,
} as const;

/** The limit flags as yargs gives them (camel-cased, undefined when not given). */
export type LimitArgs = { -readonly [K in keyof Limits]?: number };

/**
 * The resource limits every command that reads a formula or values shares (src/core/limits.ts),
 * defined once here. Not given, a flag keeps its documented default.
 */
export const LIMIT_OPTIONS: Readonly<Record<string, { type: 'number'; requiresArg: true; group: string; describe: string }>> = Object.fromEntries(
  LIMIT_FLAGS.map((f) => {
    const d = DEFAULT_LIMITS[f.key] / f.unit;
    return [
      f.flag,
      { type: 'number', requiresArg: true, group: 'Limits (for untrusted input):', describe: `${f.describe} (default ${f.key === 'timeout' ? `${d} s` : d})` },
    ];
  }),
);

/** The Limits of a command line: its limit flags over the defaults, built once. */
/**
 * The run's limits from its flags. `--timeout` bounds the whole command (its clock starts
 * here), except where a command times each unit of work on its own: `check` each case,
 * `grade` each problem of a submission (`each`).
 */
export function limitsOf(args: LimitArgs, timeout: 'command' | 'each' = 'command'): Limits {
  const flags: LimitArgs = {};
  // yargs names a flag's value by the flag (--max-file-size: maxFileSize), not by the limit's key (maxFileBytes)
  const given = args as Record<string, number | undefined>;
  for (const f of LIMIT_FLAGS) flags[f.key] = given[f.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] ?? args[f.key];
  const limits = limitsFromFlags(flags);
  startCommandClock(timeout === 'command' ? limits.timeout : Infinity);
  return limits;
}

/**
 * Run a command body: an AgError is a usage error (exit 2, one message with a caret,
 * or {"error": …} with --json); anything else is a bug, reported in one line too.
 */
export async function run(args: CommonArgs, body: () => Promise<number> | number): Promise<void> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    code = EXIT_USAGE;
    writeError(e instanceof AgError ? e : internal(e), args);
  }
  process.exitCode = code;
}

/** A run's error: `{"error": …}` on stdout with --json, else one message (with a caret) on stderr. */
export function writeError(e: AgError, args: CommonArgs): void {
  if (args.json) writeOut(`${toJson({ error: e.toJSON() })}\n`);
  else writeOut(`${formatError(e, colors(args, 'stderr'))}\n`, 'stderr');
}

function internal(e: unknown): AgError {
  if (e instanceof RangeError && /call stack|Invalid array length|allocation/i.test(e.message)) {
    return new AgError('limit', `the input is too large or too deeply nested to handle (${e.message})`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new AgError('engine', `internal error: ${msg}`, { hint: 'this is a bug in autograd-cli; please report it with the command you ran' });
}

/**
 * The formula argument: the text itself, `@path` to read it from a file, or `-` for
 * standard input (for formulas longer than a command line takes).
 */
export function readFormula(arg: string | undefined, limits: Limits): string {
  if (arg === undefined) throw new AgError('usage', 'no formula given');
  if (arg === '-' || (arg.startsWith('@') && arg.length > 1)) {
    // a formula longer than --max-length is refused anyway: read no more than that could take in UTF-8
    const o = { maxBytes: Math.min(limits.maxFileBytes, limits.maxLength * 4), what: 'the formula' };
    let text: string;
    try {
      text = arg === '-' ? readStdinBounded(o) : readTextBounded(arg.slice(1), o);
    } catch (e) {
      if (e instanceof AgError && e.code === 'limit' && o.maxBytes < limits.maxFileBytes) {
        throw new AgError('limit', `the formula is more than ${limits.maxLength} characters long; the limit is ${limits.maxLength} (--max-length)`);
      }
      throw e;
    }
    return text.replace(/\r?\n$/, '');
  }
  return arg;
}

/**
 * The files a command line reads (a formula's @file, --at @values.json, name=@w.npy),
 * so an output file can be checked against them.
 */
export function inputFiles(formulas: (string | undefined)[], at: string[]): string[] {
  const out: string[] = [];
  for (const f of formulas) if (f?.startsWith('@') && f.length > 1) out.push(f.slice(1));
  for (const a of at) {
    for (const m of a.matchAll(/(?:^|[=,])\s*@([^,]+)/g)) out.push(m[1].trim());
  }
  return out;
}

/** --digits, checked: significant digits of the printed numbers. */
export function checkDigits(digits: number): number {
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) throw new AgError('usage', `--digits must be an integer from 1 to 17, not ${digits}`);
  return digits;
}

export type EdgesMode = 'summary' | 'full' | 'none';

/** `--edges`, shared by grad (the edge table) and graph (the edges' labels). */
export const EDGES_OPTION = {
  type: 'string',
  default: 'summary',
  describe: 'the edges: summary (large tensors summarised), full (whole tensors), none',
  coerce: (v: string | boolean) => (v === false ? 'none' : v === true ? 'summary' : v),
} as const;

/** --edges, checked. */
export function checkEdges(v: string): EdgesMode {
  if (v !== 'summary' && v !== 'full' && v !== 'none') throw new AgError('usage', `--edges must be summary, full or none, not ${v}`);
  return v;
}

export const ENGINE_OPTION = { choices: ['auto', 'js', 'native'] as const, default: 'auto' as const, describe: 'which engine runs the tape' };

/** `x,y` and repeated flags as one list; commas inside brackets stay (`--wrt "W[1,2]"`). */
export function parseList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const parts = (Array.isArray(v) ? v : [v]).flatMap((s) => splitTopLevel(s).map((p) => p.text)).filter(Boolean);
  return parts.length ? parts : undefined;
}

export function positiveNumber(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v < 0) throw new AgError('usage', `--${name} must be a non-negative number, not ${v}`);
  return v;
}
