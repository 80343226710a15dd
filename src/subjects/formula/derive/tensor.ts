import { TapeWriter } from '../../../core/graph/append.js';
import { appendGradient } from '../../../core/graph/gradient.js';
import type { PrintedGraph } from '../../../core/graph/print.js';
import type { Tape } from '../../../core/graph/tape.js';
import type { GraphNode } from '../../../core/ops/types.js';

/**
 * Matrix calculus: ∂f/∂W as a formula in the variables, read off the gradient's graph
 * (graph/gradient.ts), with vectors as columns: `2*(W*x)*x'`, `W'*(2*(W*x))`.
 */

/** The gradient's graph of a tape, and what is needed to write its nodes as formulas. */
export interface TensorGradient extends PrintedGraph {
  /** ∂f/∂v per tape input (null: 0) */
  grads: (GraphNode | null)[];
  /** the formula's output in the writer */
  output: GraphNode;
  /** the derivatives use constants sized for these shapes (ones(3), eye(3)) that are not printed as constants */
  sized?: boolean;
}

/**
 * The gradient graph of `tape`, after rewriting log(softmax(z)) as logsoftmax(z) (exact,
 * and its gradient is softmax(z) − onehot(y, n) without a division by the picked entry).
 */
export function tensorGradient(tape: Tape): TensorGradient {
  const { writer: w, ids, names } = writeTape(tape);
  const output = ids[tape.output];
  const grads = appendGradient(
    w,
    output,
    tape.inputs.map((i) => ids[i.node]),
  );
  return { writer: w, grads, output, names };
}

/**
 * The tape written again through a writer that folds identities, for derivatives to be
 * appended to and printed: `ids` maps each tape node to its node in the writer.
 */
export function writeTape(tape: Tape): PrintedGraph & { ids: Int32Array } {
  const w = TapeWriter.empty(tape.source);
  const ids = new Int32Array(tape.nodes.length);
  const names = new Map<GraphNode, string>();
  for (const n of tape.nodes) {
    const ins = n.inputs.map((i) => ids[i]);
    if (n.op === 'input') ids[n.id] = w.input(n.label, n.shape);
    else if (n.op === 'const') {
      // a variable held fixed by --wrt is a constant named like the variable: it stays a name (a slot is never folded)
      const named = /^[A-Za-z_]\w*$/.test(n.label) && !/^\d/.test(n.label);
      ids[n.id] = named ? w.slot(n.shape, n.label) : w.constant(n.attrs.value!);
      if (named) names.set(ids[n.id], n.label);
    } else ids[n.id] = logSoftmax(w, n.op, ins) ?? w.op(n.op, ins, n.attrs);
  }
  return { writer: w, ids, names };
}

/** log(softmax(z)) → logsoftmax(z); log(softmax(z)[i]) → logsoftmax(z)[i]. */
function logSoftmax(w: TapeWriter, op: string, [a]: GraphNode[]): GraphNode | undefined {
  if (op !== 'log' || a === undefined) return undefined;
  const n = w.node(a);
  if (n.op === 'softmax') return w.op('logsoftmax', n.inputs, n.attrs);
  const inner = n.op === 'subset' ? w.node(n.inputs[0]) : undefined;
  if (inner?.op === 'softmax') return w.op('subset', [w.op('logsoftmax', inner.inputs, inner.attrs)], n.attrs);
  return undefined;
}
