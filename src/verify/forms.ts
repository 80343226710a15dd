import { AgError } from '../core/errors.js';

/**
 * Values in the form a user's function takes and gives them: a number, nested arrays
 * of any depth, or `{shape, data: Float64Array}` (or a bare typed array, read as a
 * vector). The check works on flat data; a function is handed its inputs back in the
 * form they were given, perturbed.
 */

/** Nested arrays of numbers, any depth. */
export type NestedArray = number | NestedArray[];
export interface TensorLike {
  shape: readonly number[];
  data: Float64Array;
}
export type ValueLike = number | NestedArray | TensorLike | Float64Array | Float32Array;

export type Form = 'number' | 'nested' | 'tensor' | 'typed';

/** A value read flat: its form, shape and entries. */
export interface Flat {
  form: Form;
  shape: number[];
  data: Float64Array;
}

const isTensorLike = (v: unknown): v is TensorLike =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as TensorLike).data);

/** Flatten a value, or say in words why it is not one (`what`: `x`, `grad(values).W`, `the output`). */
export function flatten(v: unknown, what: string): Flat {
  if (typeof v === 'number') return { form: 'number', shape: [], data: Float64Array.of(v) };
  if (v instanceof Float64Array || v instanceof Float32Array) return { form: 'typed', shape: [v.length], data: Float64Array.from(v) };
  if (isTensorLike(v)) {
    const shape = Array.from(v.shape);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || n !== v.data.length) {
      throw new AgError('bad-value', `${what}: shape [${shape.join(',')}] does not match its ${v.data.length} entries`);
    }
    return { form: 'tensor', shape, data: Float64Array.from(v.data as ArrayLike<number>) };
  }
  if (Array.isArray(v)) {
    const shape: number[] = [];
    let x: unknown = v;
    while (Array.isArray(x)) {
      shape.push(x.length);
      x = x[0];
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(n);
    let k = 0;
    const walk = (a: unknown, depth: number): void => {
      if (depth === shape.length) {
        if (typeof a !== 'number')
          throw new AgError(
            'bad-value',
            `${what} has an entry that is not a number (${typeof a === 'string' ? JSON.stringify(a.slice(0, 20)) : a === null ? 'null' : typeof a})`,
          );
        data[k++] = a;
        return;
      }
      if (!Array.isArray(a) || a.length !== shape[depth]) throw new AgError('bad-value', `${what} is not rectangular: every row must have the same length`);
      for (const b of a) walk(b, depth + 1);
    };
    walk(v, 0);
    return { form: 'nested', shape, data };
  }
  throw new AgError('bad-value', `${what} must be a number, nested arrays of numbers or {shape, data}, not ${v === null ? 'null' : typeof v}`);
}

/** A flat value back in a form: the number, nested arrays, `{shape, data}` or a typed array. */
export function unflatten(form: Form, shape: readonly number[], data: Float64Array): ValueLike {
  switch (form) {
    case 'number':
      return data[0];
    case 'typed':
      return data.slice();
    case 'tensor':
      return { shape: [...shape], data: data.slice() };
    default:
      return nested(shape, data);
  }
}

/** Row-major nested arrays of any rank (a number for rank 0). */
export function nested(shape: readonly number[], data: ArrayLike<number>): NestedArray {
  if (shape.length === 0) return data[0];
  let k = 0;
  const build = (d: number): NestedArray[] => {
    const out: NestedArray[] = new Array(shape[d]);
    for (let i = 0; i < shape[d]; i++) out[i] = d === shape.length - 1 ? data[k++] : build(d + 1);
    return out;
  };
  return build(0);
}

/** 1-based subscript of flat entry `flat` of any rank: `[3,7]`, `[1,2,3]`; empty for a scalar. */
export function subscriptOf(shape: readonly number[], flat: number): string {
  if (shape.length === 0) return '';
  const idx: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = (flat % shape[d]) + 1;
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(',')}]`;
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
