import { readFileSync } from 'node:fs';
import { AgError } from '../errors.js';
import { jsEngine } from '../engine/js.js';
import { buildTape } from '../graph/build.js';
import { makeArena, view } from '../graph/tape.js';
import { isFunctionName } from '../ops/index.js';
import { Rng } from '../random.js';
import { type Tensor } from '../tensor.js';
import { parseProgram } from './parse.js';
import { readNpy } from './npy.js';

/** A value as users and JSON give it: a number or nested arrays of numbers. */
export type Nested = number | Nested[];

/**
 * Parse `--at` arguments: `name=value` pairs separated by top-level commas; each value
 * a constant expression (`pi`, `2*pi/3`, `[[1,2],[3,4]]`, `randn(64,1000)`), or
 * `name=@file.npy`; a whole argument `@file.json` reads `{"name": value}`.
 */
export function parseAt(args: string[], opts: { seed: number; cwd?: string }): Record<string, Tensor> {
  const rng = new Rng(opts.seed);
  const out: Record<string, Tensor> = {};
  for (const arg of args) {
    if (arg.trim().startsWith('@')) {
      const obj = readJsonValues(arg.trim().slice(1));
      for (const [k, v] of Object.entries(obj)) out[k] = v;
      continue;
    }
    for (const { text, start } of splitTopLevel(arg)) {
      const eq = text.indexOf('=');
      const span = { start, end: start + text.length };
      if (eq < 0) throw new AgError('bad-value', `expected name=value, got "${text.trim()}"`, { span, source: arg });
      const name = text.slice(0, eq).trim();
      const rhs = text.slice(eq + 1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new AgError('bad-value', name ? `"${name}" is not a variable name` : 'a value needs a name before =', { span: { start, end: start + Math.max(eq, 1) }, source: arg });
      }
      if (rhs.trim() === '') throw new AgError('bad-value', `no value after ${name}=`, { span: { start: start + eq, end: start + eq + 1 }, source: arg });
      if (rhs.trim().startsWith('@')) {
        out[name] = readNpy(rhs.trim().slice(1));
        continue;
      }
      out[name] = evaluateValue(rhs, name, rng, arg, start + eq + 1);
    }
  }
  return out;
}

/** Evaluate a constant value expression with our own engine (never mathjs's evaluate). */
export function evaluateValue(src: string, name: string, rng: Rng, whole = src, offset = 0): Tensor {
  try {
    const program = parseProgram(src, { isFunction: isFunctionName });
    if (program.stmts.length !== 1 || program.stmts[0].k !== 'expr') {
      throw new AgError('bad-value', `the value of ${name} must be one expression`);
    }
    const tape = buildTape(program, {}, { rng });
    const arena = makeArena(tape, {});
    jsEngine.forward(tape, arena);
    const node = tape.nodes[tape.output];
    const data = view(arena, node).slice();
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new AgError('bad-value', `the value of ${name} is ${data[bad]}; values must be finite numbers`);
    return { shape: node.shape, data };
  } catch (e) {
    if (e instanceof AgError) {
      const span = e.span ? { start: e.span.start + offset, end: e.span.end + offset } : { start: offset, end: offset + src.length };
      const msg = e.code === 'missing-value' ? e.message.replace('no value for the variable', 'a value cannot use the variable') : e.message;
      throw new AgError(e.code === 'missing-value' ? 'bad-value' : e.code, `--at ${name}: ${msg}`, { span, hint: e.code === 'missing-value' ? undefined : e.hint, source: whole });
    }
    throw e;
  }
}

/** Split on commas outside brackets and quotes, keeping each piece's offset. */
export function splitTopLevel(s: string): { text: string; start: number }[] {
  const parts: { text: string; start: number }[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push({ text: s.slice(start, i), start });
      start = i + 1;
    }
  }
  parts.push({ text: s.slice(start), start });
  return parts.filter((p) => p.text.trim() !== '').map((p) => ({ text: p.text.trimEnd(), start: p.start + (p.text.length - p.text.trimStart().length) })).map((p) => ({ text: p.text.trim(), start: p.start }));
}

function readJsonValues(path: string): Record<string, Tensor> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AgError('io', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (e) {
    throw new AgError('bad-value', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new AgError('bad-value', `${path} must hold an object like {"x": 1.5, "W": [[1,2],[3,4]]}`);
  }
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = fromNested(v, `${path}: ${k}`);
  return out;
}

/** A tensor from a number or rectangular nested arrays of finite numbers (rank ≤ 2). */
export function fromNested(v: unknown, what: string): Tensor {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new AgError('bad-value', `${what} is ${v}; values must be finite numbers`);
    return { shape: [], data: Float64Array.of(v) };
  }
  if (!Array.isArray(v) || v.length === 0) throw new AgError('bad-value', `${what} must be a number or a non-empty (nested) array of numbers`);
  if (v.every((x) => typeof x === 'number')) {
    const data = Float64Array.from(v as number[]);
    if (data.some((x) => !Number.isFinite(x))) throw new AgError('bad-value', `${what} has an entry that is not a finite number`);
    return { shape: [v.length], data };
  }
  if (v.every((x) => Array.isArray(x))) {
    const rows = v as unknown[][];
    const n = rows[0].length;
    if (n === 0 || rows.some((r) => r.length !== n)) throw new AgError('bad-value', `${what}: the rows must all have the same, non-zero length`);
    const data = new Float64Array(rows.length * n);
    rows.forEach((r, i) =>
      r.forEach((x, j) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new AgError('bad-value', `${what}[${i + 1},${j + 1}] is not a finite number`);
        data[i * n + j] = x;
      }),
    );
    return { shape: [rows.length, n], data };
  }
  throw new AgError('bad-value', `${what} mixes numbers and arrays, or nests deeper than a matrix`);
}
