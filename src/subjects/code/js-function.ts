import { AgError } from '../../core/errors.js';
import { checkDeadlineNow } from '../../core/limits.js';
import type { Batch, BatchValues, Evaluator, FunctionUnderTest, InputSpec } from '../../verify/evaluator.js';
import { flatten, nested, shapeText, unflatten, type Flat, type ValueLike } from '../../verify/forms.js';

/**
 * The user's values as the check holds them: each input flat, in the form it was given,
 * and which of them are differentiated (in order, flat entries concatenated).
 */
export interface PointValues {
  names: string[];
  flats: Record<string, Flat>;
  wrt: InputSpec[];
  point: Float64Array;
}

/** Read the user's inputs: every one a finite number, nested arrays or {shape, data}; `wrt` a subset of their names. */
export function readInputs(inputs: Record<string, unknown>, wrt?: string[]): PointValues {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))
    throw new AgError('usage', 'the inputs must be an object of named values: { W: [[...]], x: [...] }');
  const names = Object.keys(inputs);
  if (!names.length) throw new AgError('usage', 'no inputs given: the function needs at least one value to differentiate');
  const flats: Record<string, Flat> = Object.create(null);
  for (const name of names) {
    const f = flatten(inputs[name], name);
    const k = f.data.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) throw new AgError('bad-value', `${name} has an entry that is not a finite number (${f.data[k]})`);
    flats[name] = f;
  }
  const chosen = wrt ?? names;
  for (const w of chosen)
    if (!(w in flats)) throw new AgError('usage', `--wrt ${w}: there is no input called ${w}`, { hint: `the inputs are ${names.join(', ')}` });
  const specs: InputSpec[] = [];
  let offset = 0;
  for (const name of chosen) {
    const size = flats[name].data.length;
    if (size === 0) throw new AgError('bad-value', `${name} has no entries`);
    specs.push({ name, shape: flats[name].shape, offset, size });
    offset += size;
  }
  const point = new Float64Array(offset);
  for (const s of specs) point.set(flats[s.name].data, s.offset);
  return { names, flats, wrt: specs, point };
}

/** Values in the user's forms (or all as nested arrays, for JSON) at a point: the differentiated inputs from `x`, the others as given. */
export function valuesAt(pv: PointValues, x: Float64Array, changed?: Set<string>, asNested = false): Record<string, ValueLike> {
  const out: Record<string, ValueLike> = Object.create(null);
  const at = new Map(pv.wrt.map((s) => [s.name, s]));
  for (const name of pv.names) {
    const f = pv.flats[name];
    const s = at.get(name);
    const data = s && (!changed || changed.has(name)) ? x.subarray(s.offset, s.offset + s.size) : f.data;
    out[name] = asNested ? nested(f.shape, data) : unflatten(f.form, f.shape, Float64Array.from(data));
  }
  return out;
}

/** A gradient object ({name: value}) as given by grad/vjp, flat in wrt order, checked against the inputs' shapes. */
export function readGradient(g: unknown, pv: PointValues, what: string): Float64Array {
  if (typeof g !== 'object' || g === null || Array.isArray(g) || ArrayBuffer.isView(g)) {
    throw new AgError(
      'bad-value',
      `${what} must return an object with one gradient per input ({ ${pv.wrt.map((s) => `${s.name}: …`).join(', ')} }), not ${Array.isArray(g) ? 'an array' : g === null ? 'null' : typeof g}`,
    );
  }
  const out = new Float64Array(pv.point.length);
  for (const s of pv.wrt) {
    if (!Object.hasOwn(g, s.name))
      throw new AgError('bad-value', `${what} returned no gradient for ${s.name}`, {
        hint: `give one entry per input: ${pv.wrt.map((x) => x.name).join(', ')}`,
      });
    const f = flatten((g as Record<string, unknown>)[s.name], `${what}.${s.name}`);
    if (f.data.length !== s.size || (f.shape.length && shapeText(f.shape) !== shapeText(s.shape) && s.shape.length)) {
      const transposed = f.shape.length === 2 && s.shape.length === 2 && f.shape[0] === s.shape[1] && f.shape[1] === s.shape[0];
      throw new AgError(
        'bad-value',
        `${what}.${s.name} has shape ${shapeText(f.shape)}, but ${s.name} has shape ${shapeText(s.shape)}${transposed ? ': the transpose of its shape (a transposed weight gradient?)' : ''}`,
        transposed ? { hint: `a gradient has its input's shape: ∂f/∂${s.name} is ${shapeText(s.shape)}` } : undefined,
      );
    }
    out.set(f.data, s.offset);
  }
  return out;
}

/** f's output read flat, the same shape at every point. */
export function readOutput(v: unknown, shape: readonly number[] | null, what: string): Flat {
  const f = flatten(v, what);
  if (shape && shapeText(f.shape) !== shapeText(shape))
    throw new AgError(
      'bad-value',
      `${what} has shape ${shapeText(f.shape)} here, but ${shapeText(shape)} at the point itself: a function must keep its output's shape`,
    );
  return f;
}

/** The perturbed flat point of batch entry p. */
export function pointOf(base: Float64Array, b: Batch, p: number, into: Float64Array): Float64Array {
  into.set(base);
  const j = b.coord[p];
  if (j >= 0) into[j] += b.delta[p];
  else for (let k = 0; k < into.length; k++) into[k] += b.delta[p] * b.direction![k];
  return into;
}

/** The names of the inputs a batch point changes (all of them along a direction). */
export function changedBy(pv: PointValues, j: number): Set<string> | undefined {
  if (j < 0) return undefined;
  const s = pv.wrt.find((x) => j >= x.offset && j < x.offset + x.size);
  return s ? new Set([s.name]) : undefined;
}

export interface JsFunctionSides {
  grad?: (values: never) => unknown;
  vjp?: (values: never, cotangent: never) => unknown;
  jvp?: (values: never, tangents: never) => unknown;
}

/**
 * A JS function as the function under test: `fn(values)` at each point of a batch (one
 * call each), its gradient or vjp (and jvp) at the point. Values are handed over in the
 * forms they were given; `value` is f at the point (one call, made here, which also
 * fixes the output's shape).
 */
export function jsFunction(
  fn: (values: never) => unknown,
  pv: PointValues,
  sides: JsFunctionSides,
  name: string,
): { fn: FunctionUnderTest; evaluator: Evaluator; value: Flat } {
  const call = (x: Float64Array, changed?: Set<string>) => fn(valuesAt(pv, x, changed) as never);
  const value = readOutput(call(pv.point), null, `${name}(values)`);
  const m = value.data.length;
  if (m === 0) throw new AgError('bad-value', `${name}(values) returned an empty tensor`);
  const work = new Float64Array(pv.point.length);
  const evaluate = (b: Batch): BatchValues => {
    const values = new Float64Array(b.coord.length * m);
    for (let p = 0; p < b.coord.length; p++) {
      checkDeadlineNow();
      const out = readOutput(call(pointOf(pv.point, b, p, work), changedBy(pv, b.coord[p])), value.shape, `${name}(values)`);
      values.set(out.data, p * m);
    }
    return { values };
  };
  const cotangentForm = (u: Float64Array) => unflatten(value.form, value.shape, u);
  const base = valuesAt(pv, pv.point);
  const evaluator: Evaluator = {
    evaluate,
    vjp(u) {
      if (sides.vjp) return readGradient(sides.vjp(base as never, cotangentForm(u) as never), pv, 'vjp(values, cotangent)');
      if (sides.grad && m === 1) {
        const g = readGradient(sides.grad(base as never), pv, 'grad(values)');
        for (let k = 0; k < g.length; k++) g[k] *= u[0];
        return g;
      }
      throw new AgError('usage', `${name} has a ${shapeText(value.shape)} output: give vjp(values, cotangent), not grad`);
    },
    jvp(v) {
      const tangents: Record<string, ValueLike> = Object.create(null);
      for (const n of pv.names) {
        const f = pv.flats[n];
        const s = pv.wrt.find((x) => x.name === n);
        tangents[n] = unflatten(f.form, f.shape, s ? v.slice(s.offset, s.offset + s.size) : new Float64Array(f.data.length));
      }
      return readOutput(sides.jvp!(base as never, tangents as never), value.shape, 'jvp(values, tangents)').data;
    },
  };
  return { fn: { inputs: pv.wrt, point: pv.point, outputs: m, value: value.data }, evaluator, value };
}
