import { broadcastIndex, broadcastShapes, columnMismatch, shapeStr, type Shape, type Tensor } from '../tensor.js';
import type { ShapeFn } from './types.js';

/** Output shape of an elementwise op: all inputs broadcast together (NumPy rules, vectors as columns against columns). */
export const broadcastShape: ShapeFn = (inputs) => {
  const clash = orientationClash(inputs);
  if (clash) throw new Error(clash);
  let out: Shape = inputs[0];
  for (let i = 1; i < inputs.length; i++) {
    const next = broadcastShapes(out, inputs[i]);
    if (!next)
      throw new Error(
        columnMismatch(out, inputs[i]) ??
          `the shapes do not broadcast (each trailing dimension must match or be 1; here ${inputs.map(shapeStr).join(' and ')})`,
      );
    out = next;
  }
  return out;
};

/**
 * A vector [n] meeting a square matrix [n,n] elementwise: NumPy reads the vector as a
 * row, a paper (whose vectors are columns) as a column, and both fit. Shapes are never
 * guessed, so this says why in words, with both fixes; undefined when nothing clashes.
 */
export function orientationClash(inputs: Shape[]): string | undefined {
  const square = inputs.find((s) => s.length === 2 && s[0] === s[1] && s[0] > 1);
  if (!square || !inputs.some((s) => s.length === 1 && s[0] === square[0])) return undefined;
  const n = square[0];
  return (
    `a vector [${n}] beside a square matrix [${n},${n}] could be a row or a column, and neither is guessed: ` +
    `write v' to use it as a row (one copy per row), or v*ones(1, ${n}) as a column (one copy per column)`
  );
}

/**
 * Read-only views of the inputs of an elementwise op, each able to give the entry that
 * broadcasts to output entry k. Scalars and same-size inputs need no index table.
 */
export interface Operand {
  data: Float64Array;
  /** null: entry k is data[k] (or data[0] when scalar) */
  idx: Int32Array | null;
  scalar: boolean;
}

export function operands(ins: Tensor[], outShape: Shape, outSize: number): Operand[] {
  return ins.map((t) => {
    const scalar = t.data.length === 1 && outSize !== 1;
    return { data: t.data, idx: scalar || t.data.length === outSize ? null : broadcastIndex(t.shape, outShape), scalar };
  });
}

export function at(o: Operand, k: number): number {
  return o.scalar ? o.data[0] : o.idx ? o.data[o.idx[k]] : o.data[k];
}

/** Weight of entry k in a branch code: makes per-entry branch codes into one number. */
export function branchWeight(k: number): number {
  return (((k + 1) * 2654435761) % 1000003) + 1;
}
