import { ELEMENTWISE } from './elementwise.js';
import { FORMULA_FUNCTIONS } from './functions.js';
import { LINALG } from './linalg.js';
import { MATRIX } from './matrix.js';
import { NN } from './nn.js';
import { REDUCE } from './reduce.js';
import { STRUCTURE } from './structure.js';
import type { OpDef } from './types.js';

export type { Attrs, OpDef } from './types.js';
export {
  FORBIDDEN_FUNCTIONS,
  FORMULA_FUNCTIONS,
  PRINTERS,
  type FormulaFunction,
  type Lower,
  type LowerContext,
  type PrintedNode,
  type Printer,
} from './functions.js';

/** THE op table: every op, by its name. The native engine implements the same names. */
export const OPS: ReadonlyMap<string, OpDef> = new Map([...ELEMENTWISE, ...REDUCE, ...LINALG, ...MATRIX, ...NN, ...STRUCTURE].map((op) => [op.name, op]));

export function getOp(name: string): OpDef {
  const op = OPS.get(name);
  if (!op) throw new Error(`no op named ${name} in the op table`);
  return op;
}

/** Whether a formula may call `name` (an entry of the table of formula functions). */
export function isFunctionName(name: string): boolean {
  return FORMULA_FUNCTIONS.has(name);
}
