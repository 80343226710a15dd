import { AgError } from './errors.js';
import { jsEngine } from './engine/js.js';
import { buildTape, VALUE_PLAN } from './graph/build.js';
import { makeArena, view } from './graph/tape.js';
import { parseJsonValues } from './io/document.js';
import { readBounded, readTextBounded } from './io/read.js';
import type { FileScope } from './io/scope.js';
import { checkEntries, ENTRY_BYTES, limitsFrom, memoryError, withDeadline, type Limits } from './limits.js';
import { isFunctionName } from './ops/index.js';
import { parseProgram } from './parse/parse.js';
import { parseNpy } from './parse/npy.js';
import { checkName, fromNested, splitTopLevel } from './parse/values.js';
import { Rng } from './random.js';
import type { Tensor } from './tensor.js';

/**
 * Values given by users: `--at` pairs and value files. A value is a constant expression
 * evaluated by our own engine (parse → graph → engine, like any formula), so this
 * module sits beside the other users of the graph, not in parse/. Everything here is
 * untrusted: files come through the bounded reader (inside a case file's folder when
 * a case file names them), and every value's memory is counted before it is made.
 */

export interface ValueOptions {
  seed: number;
  limits?: Limits;
  /** where `@file` references resolve (and, from a case file, the folder they must stay in) */
  scope?: FileScope;
}

/** A JSON value file's text and its parse hold about this many bytes per byte of the file. */
const JSON_BYTES_PER_BYTE = 12;

/**
 * Parse `--at` arguments: `name=value` pairs separated by top-level commas; each value
 * a constant expression (`pi`, `2*pi/3`, `[[1,2],[3,4]]`, `randn(64,1000)`), or
 * `name=@file.npy`; a whole argument `@file.json` reads `{"name": value}`. The result
 * is a null-prototype table: `__proto__=5` is a value named __proto__.
 */
export function parseAt(args: string[], opts: ValueOptions): Record<string, Tensor> {
  const limits = limitsFrom(opts.limits);
  // one deadline for all the values, not one each: many slow values are one slow argument
  return withDeadline(limits.timeout, () => parseAtNow(args, opts, limits));
}

function parseAtNow(args: string[], opts: ValueOptions, limits: Limits): Record<string, Tensor> {
  const rng = new Rng(opts.seed);
  const out: Record<string, Tensor> = Object.create(null);
  // entries held so far: each new value is counted with them
  let held = 0;
  const keep = (name: string, t: Tensor) => {
    if (out[name]) held -= out[name].data.length;
    out[name] = t;
    held += t.data.length;
  };
  for (const arg of args) {
    if (arg.trim().startsWith('@')) {
      const obj = readJsonValues(arg.trim().slice(1), limits, held, opts.scope);
      for (const k of Object.keys(obj)) keep(k, obj[k]);
      continue;
    }
    for (const { text, start } of splitTopLevel(arg)) {
      const eq = text.indexOf('=');
      const span = { start, end: start + text.length };
      if (eq < 0) throw new AgError('bad-value', `expected name=value, got "${text.trim().slice(0, 60)}"`, { span, source: arg });
      const name = text.slice(0, eq).trim();
      const rhs = text.slice(eq + 1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new AgError('bad-value', name ? `"${name.slice(0, 40)}" is not a variable name` : 'a value needs a name before =', {
          span: { start, end: start + Math.max(eq, 1) },
          source: arg,
        });
      }
      if (rhs.trim() === '') throw new AgError('bad-value', `no value after ${name}=`, { span: { start: start + eq, end: start + eq + 1 }, source: arg });
      keep(name, valueOf(name, rhs, rng, limits, held, opts.scope, arg, start + eq + 1));
    }
  }
  return out;
}

/**
 * One value as text: `@file.npy`, or a constant expression. `held` entries are already
 * in memory (counted with this one).
 */
export function valueOf(name: string, rhs: string, rng: Rng, limits: Limits, held: number, scope: FileScope | undefined, whole = rhs, offset = 0): Tensor {
  if (rhs.trim().startsWith('@')) return readNpyValue(rhs.trim().slice(1), limits, held, scope);
  return evaluateValue(rhs, name, rng, whole, offset, limits, held);
}

/** Evaluate a constant value expression with our own engine (never mathjs's evaluate). */
export function evaluateValue(src: string, name: string, rng: Rng, whole = src, offset = 0, limitsIn?: Limits, held = 0): Tensor {
  const limits = limitsFrom(limitsIn);
  try {
    return withDeadline(limits.timeout, () => {
      const program = parseProgram(src, { isFunction: isFunctionName, limits });
      if (program.stmts.length !== 1 || program.stmts[0].k !== 'expr') {
        // `--at "x=1;y=2"`: pairs are separated by commas
        const semicolon = program.stmts.length > 1 && whole.includes(';');
        throw new AgError(
          'bad-value',
          `the value of ${name} must be one expression`,
          semicolon ? { hint: `separate values with commas: ${whole.replace(/\s*;\s*/g, ',')}` } : {},
        );
      }
      const tape = buildTape(program, Object.create(null), { rng, limits, plan: { ...VALUE_PLAN, extraEntries: held } });
      const arena = makeArena(tape, Object.create(null));
      jsEngine.forward(tape, arena);
      const node = tape.nodes[tape.output];
      const data = view(arena, node).slice();
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new AgError('bad-value', `the value of ${name} is ${data[bad]}; values must be finite numbers`);
      return { shape: node.shape, data };
    });
  } catch (e) {
    if (e instanceof AgError) {
      const span = e.span ? { start: e.span.start + offset, end: e.span.end + offset } : { start: offset, end: offset + src.length };
      const msg = e.code === 'missing-value' ? e.message.replace('no value for the variable', 'a value cannot use the variable') : e.message;
      throw new AgError(e.code === 'missing-value' ? 'bad-value' : e.code, `--at ${name}: ${msg}`, {
        span,
        hint: e.code === 'missing-value' ? undefined : e.hint,
        source: whole,
      });
    }
    throw e;
  }
}

/** A .npy file: the file and its values counted before either is read in full. */
function readNpyValue(ref: string, limits: Limits, held: number, scope?: FileScope): Tensor {
  const room = limits.maxMemory - held * ENTRY_BYTES;
  // the file's bytes, then as many float64 values: at most twice the file
  const buf = readBounded(ref, { maxBytes: Math.max(0, Math.min(limits.maxFileBytes, Math.floor(room / 2))), what: 'the value file', scope });
  return parseNpy(buf, ref, (shape) => {
    const n = checkEntries(ref, shape, limits);
    if (buf.length + n * ENTRY_BYTES > room) throw memoryError(buf.length + n * ENTRY_BYTES, `reading ${ref}`, limits);
  });
}

/** `{"x": 1.5, "W": [[1,2],[3,4]]}` from a file: names checked, values counted. */
function readJsonValues(ref: string, limits: Limits, held: number, scope?: FileScope): Record<string, Tensor> {
  const room = limits.maxMemory - held * ENTRY_BYTES;
  const text = readTextBounded(ref, {
    maxBytes: Math.max(0, Math.min(limits.maxFileBytes, Math.floor(room / JSON_BYTES_PER_BYTE))),
    what: 'the value file',
    scope,
  });
  const obj = parseJsonValues(text, ref);
  const out: Record<string, Tensor> = Object.create(null);
  for (const k of Object.keys(obj)) {
    checkName(k, `${ref}: a value`);
    out[k] = fromNested(obj[k], `${ref}: ${k}`);
  }
  return out;
}
