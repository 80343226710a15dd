/**
 * Dense float64 tensors of rank 0 (scalar), 1 (vector) or 2 (matrix), row-major.
 * Shapes follow mathjs/NumPy: `[]`, `[n]`, `[m, n]`. A vector [n] is a column, as on
 * paper: its data is that of [n,1], and the ops read it so (transpose, `*`, broadcasting).
 */
export type Shape = readonly number[];

export interface Tensor {
  shape: Shape;
  data: Float64Array;
}

export const SCALAR: Shape = Object.freeze([]);

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function tensor(shape: Shape, data?: Float64Array | number[]): Tensor {
  const n = sizeOf(shape);
  if (data === undefined) return { shape, data: new Float64Array(n) };
  const arr = data instanceof Float64Array ? data : Float64Array.from(data);
  if (arr.length !== n) throw new Error(`tensor: ${arr.length} values for shape ${shapeStr(shape)}`);
  return { shape, data: arr };
}

export function scalar(v: number): Tensor {
  return { shape: SCALAR, data: Float64Array.of(v) };
}

/**
 * Broadcasting of two shapes: NumPy rules (trailing dimensions aligned, so a vector [n]
 * against a matrix [m,n] is a row), except that a vector is a column where NumPy would
 * build an outer sum of two columns: [n] with [n,1] is that same column [n,1] (not
 * [n,n]), and [n] with [m,1] (m ≠ n, both > 1) does not broadcast. Null when incompatible.
 */
export function broadcastShapes(a: Shape, b: Shape): Shape | null {
  const col = columnAgainst(a, b);
  if (col !== undefined) return col;
  const col2 = columnAgainst(b, a);
  if (col2 !== undefined) return col2;
  const rank = Math.max(a.length, b.length);
  const out: number[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return null;
  }
  return out;
}

/** A vector `v` [n] (n > 1) against a column `c` [m,1] (m > 1): the column when m = n, else null; undefined when the rule does not apply. */
function columnAgainst(v: Shape, c: Shape): Shape | null | undefined {
  if (v.length !== 1 || v[0] === 1 || c.length !== 2 || c[1] !== 1 || c[0] === 1) return undefined;
  return v[0] === c[0] ? c : null;
}

/** A vector [n] and a column [m,1] that vectors-as-columns keep apart (see broadcastShapes): why, in words. */
export function columnMismatch(a: Shape, b: Shape): string | undefined {
  if (columnAgainst(a, b) !== null && columnAgainst(b, a) !== null) return undefined;
  const [v, c] = a.length === 1 ? [a, b] : [b, a];
  return `vectors are columns here, and a column of ${v[0]} does not match one of ${c[0]} (for an outer sum, make the vector a row: v')`;
}

/** Rows/cols of a shape of rank <= 2 seen as a matrix, for broadcasting (a vector broadcasts as a row). */
function asRowsCols(shape: Shape): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0]];
  return [shape[0], shape[1]];
}

/**
 * For every flat index of `outShape`, the flat index into a tensor of `inShape` that
 * broadcasts to it. Returns null when no mapping is needed (same size, identity).
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array | null {
  const nIn = sizeOf(inShape);
  const nOut = sizeOf(outShape);
  if (nIn === nOut) return null;
  const idx = new Int32Array(nOut);
  if (nIn === 1) return idx;
  const [R, C] = asRowsCols(outShape);
  // align trailing dimensions: pad the input shape on the left to the output rank
  const padded = [...new Array(outShape.length - inShape.length).fill(1), ...inShape];
  const [r, c] = asRowsCols(padded);
  for (let i = 0; i < R; i++) {
    const ii = r === 1 ? 0 : i;
    for (let j = 0; j < C; j++) idx[i * C + j] = ii * c + (c === 1 ? 0 : j);
  }
  return idx;
}

/** Undo a broadcast: sum `g` (shaped like the broadcast result) back onto `inShape`. */
export function unbroadcast(g: Float64Array, inShape: Shape, outShape: Shape): Float64Array {
  const idx = broadcastIndex(inShape, outShape);
  if (idx === null) return g;
  const out = new Float64Array(sizeOf(inShape));
  for (let k = 0; k < g.length; k++) out[idx[k]] += g[k];
  return out;
}

/** Row-major nested arrays (numbers for scalars) from a flat buffer. */
export function toNested(shape: Shape, data: ArrayLike<number>): number | number[] | number[][] {
  if (shape.length === 0) return data[0];
  if (shape.length === 1) return Array.from(data);
  const [m, n] = shape;
  const rows: number[][] = [];
  for (let i = 0; i < m; i++) rows.push(Array.from({ length: n }, (_, j) => data[i * n + j]));
  return rows;
}

/** 1-based subscript of a flat index, e.g. `[3,7]`; empty for scalars. */
export function subscript(shape: Shape, flat: number): string {
  if (shape.length === 0) return '';
  if (shape.length === 1) return `[${flat + 1}]`;
  const n = shape[1];
  return `[${Math.floor(flat / n) + 1},${(flat % n) + 1}]`;
}

export function norm2(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i] * data[i];
  return Math.sqrt(s);
}
