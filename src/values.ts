import { readFileSync } from 'node:fs';
import { AgError } from './errors.js';
import { jsEngine } from './engine/js.js';
import { buildTape } from './graph/build.js';
import { makeArena, view } from './graph/tape.js';
import { isFunctionName } from './ops/index.js';
import { parseProgram } from './parse/parse.js';
import { readNpy } from './parse/npy.js';
import { fromNested, splitTopLevel } from './parse/values.js';
import { Rng } from './random.js';
import type { Tensor } from './tensor.js';

/**
 * Values given by users: `--at` pairs and value files. A value is a constant expression
 * evaluated by our own engine (parse → graph → engine, like any formula), so this
 * module sits beside the other users of the graph, not in parse/.
 */

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
