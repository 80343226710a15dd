import type { Shown } from '../../subjects/formula/grad.js';
import type { Nested } from '../../core/parse/values.js';
import { num } from '../../core/number-format.js';
import { isSummary, nestedText } from '../format.js';
import { safeText } from '../../core/safe-text.js';
import type { GraphNode, GraphResult } from '../../subjects/formula/graph-result.js';

/** Every picture names things the same way. */

/** A scalar as a number; a tensor as its shape and norm (`[3×4] ‖·‖=5.477`), or whole on one line up to `whole` entries. */
export function quantity(shape: readonly number[], v: Shown | null, norm: number | null, digits = 6, whole = 0): string {
  if (v === null) return '';
  if (shape.length === 0) return typeof v === 'number' ? num(v, digits) : isSummary(v) ? num(v.first[0], digits) : String(v);
  if (Array.isArray(v) && shape.reduce((a, b) => a * b, 1) <= whole) return nestedText(v, digits).replace(/\n\s*/g, ' ');
  return `[${shape.join('×')}] ‖·‖=${num(norm ?? 0, Math.min(digits, 4))}`;
}

/** `x`, `2`, `add  x+y`, `mul  f` (a named step keeps its name). */
export function nodeTitle(n: GraphNode): string {
  if (n.kind !== 'op' || n.name === n.opLabel) return n.name;
  return `${n.opLabel}  ${n.name}`;
}

/** What each node carries besides its value: ∂f/∂node, or ∂node/∂x in forward mode. */
export function secondary(r: GraphResult, n: GraphNode, digits = 6, whole = 0): string {
  return r.mode === 'forward' ? quantity(n.shape, n.tangent, n.tangentNorm, digits, whole) : quantity(n.shape, n.grad, n.gradNorm, digits, whole);
}

/** `f = (x+y)*sin(x)  at x = 3.14159, y = 3.14159` */
export function caption(r: GraphResult, digits = 6): string {
  const at = Object.entries(r.point)
    .map(([k, v]) => `${k} = ${typeof v === 'number' ? num(v, digits) : isSummary(v) ? `[${v.shape.join('×')}]` : `${shapeOfNested(v)}`}`)
    .join(', ');
  return `${safeText(r.formula.replace(/\s*\n\s*/g, ' '), { oneLine: true })}${at ? `  at ${at}` : ''}`;
}

/** The legend: which colour is which flow. */
export function legend(r: GraphResult): { forward: string; backward: string } {
  return r.mode === 'forward' ? { forward: 'value ▶', backward: `tangent ▶ (∂·/∂${r.wrt})` } : { forward: 'value ▶', backward: '◀ gradient (∂f/∂·)' };
}

/** A name as one term of ∂a/∂b: `x`, `sin(x)`, `(x+y)`. */
export function term(s: string): string {
  return /^[\w#.]+(\(.*\))?$/.test(s) ? s : `(${s})`;
}

function shapeOfNested(v: Nested): string {
  const dims: number[] = [];
  let x: Nested = v;
  while (Array.isArray(x)) {
    dims.push(x.length);
    x = x[0];
  }
  return `[${dims.join('×')}]`;
}
