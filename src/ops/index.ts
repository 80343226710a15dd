import { ELEMENTWISE } from './elementwise.js';
import { LINALG } from './linalg.js';
import { NN } from './nn.js';
import { REDUCE } from './reduce.js';
import { STRUCTURE } from './structure.js';
import type { OpDef } from './types.js';

export type { Attrs, OpDef } from './types.js';

/** THE op table: every op, by its name. The native engine implements the same names. */
export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [...ELEMENTWISE, ...REDUCE, ...LINALG, ...NN, ...STRUCTURE].map((op) => [op.name, op]),
);

export function getOp(name: string): OpDef {
  const op = OPS.get(name);
  if (!op) throw new Error(`no op named ${name} in the op table`);
  return op;
}

/**
 * Function names a formula may call, with the arities they take. Most are op names;
 * a few are resolved by the graph builder (`max(v)` is a reduction, `max(a,b)` is
 * elementwise; `log(x, b)` is log base b; `norm(v, p)` reads its order; `softmax(Z, d)`
 * reads its dimension; `outer(u, v)` is u*v'; `onehot(i, n)` is a constant column).
 */
export const FUNCTIONS: ReadonlyMap<string, readonly [number, number]> = new Map<string, readonly [number, number]>([
  ...[...OPS.values()]
    .filter((op) => ['elementwise', 'compare', 'nn', 'linalg'].includes(op.family))
    .filter((op) => !['select', 'add', 'subtract', 'multiply', 'divide', 'unaryMinus', 'unaryPlus', 'matmul'].includes(op.name))
    .map((op) => [op.name, op.arity] as const),
  ['add', [2, 2]],
  ['subtract', [2, 2]],
  ['multiply', [2, 2]],
  ['divide', [2, 2]],
  ['unaryMinus', [1, 1]],
  ['unaryPlus', [1, 1]],
  ['dotMultiply', [2, 2]],
  ['dotDivide', [2, 2]],
  ['dotPow', [2, 2]],
  ['max', [1, Infinity]],
  ['min', [1, Infinity]],
  ['sum', [1, 2]],
  ['mean', [1, 2]],
  ['prod', [1, 2]],
  ['norm', [1, 2]],
  ['sigmoid', [1, 1]],
  ['relu', [1, 1]],
  ['softplus', [1, 1]],
  ['softmax', [1, 2]],
  ['logsoftmax', [1, 2]],
  ['logsumexp', [1, 2]],
  ['outer', [2, 2]],
  ['onehot', [2, 2]],
  ['larger', [2, 2]],
  ['smaller', [2, 2]],
  ['largerEq', [2, 2]],
  ['smallerEq', [2, 2]],
  ['equal', [2, 2]],
  ['unequal', [2, 2]],
  ['and', [2, 2]],
  ['or', [2, 2]],
  ['not', [1, 1]],
  ['zeros', [1, 2]],
  ['ones', [1, 2]],
  ['eye', [1, 2]],
  ['randn', [1, 2]],
  ['rand', [1, 2]],
]);

export function isFunctionName(name: string): boolean {
  return FUNCTIONS.has(name);
}
