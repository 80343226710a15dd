import { getOp } from '../ops/index.js';
import type { GraphNode } from '../ops/types.js';
import type { TapeWriter } from './append.js';

/**
 * Gradients as graphs. The reverse pass over a tape, written as more tape: a reversed
 * walk that, for each node, looks up its op's graph rule (`vjpGraph`) and appends the
 * rule's nodes. The walk knows nothing about any op; a missing rule is a loud error
 * naming the op. The result is ordinary tape, so both engines run it, `derive` prints
 * it, and it can be differentiated again (Hessians, Hessian-vector products).
 */

/** What flows back along one edge, as a node: from the consumer `to` into its input `from`, shaped like `from`. */
export interface EdgeNode {
  to: GraphNode;
  /** which input of `to` */
  input: number;
  from: GraphNode;
  node: GraphNode;
}

/**
 * ∂output/∂node for every node of `wrt`, appended to `w` (null where nothing flows:
 * the derivative is 0). `seed` is the output's adjoint (default: the constant 1, for a
 * scalar output). `edges`, when given, collects every edge's contribution node (edges
 * where nothing flows are not listed: their contribution is 0).
 */
export function appendGradient(w: TapeWriter, output: GraphNode, wrt: GraphNode[], seed?: GraphNode, edges?: EdgeNode[]): (GraphNode | null)[] {
  const adjoint = new Map<GraphNode, GraphNode>();
  adjoint.set(output, seed ?? w.constant(1));
  for (let id = output; id >= 0; id--) {
    const g = adjoint.get(id);
    const n = w.node(id);
    if (g === undefined || !n.active || n.inputs.length === 0) continue;
    const need = n.inputs.map((i) => w.node(i).active);
    if (!need.some(Boolean)) continue;
    const rule = getOp(n.op).vjpGraph;
    if (!rule) throw new Error(`op ${n.op} has no graph rule for its gradient (vjpGraph in the op table)`);
    const contributions = rule(w, n.inputs, id, g, n.attrs, need);
    n.inputs.forEach((i, k) => {
      const c = contributions[k];
      if (!need[k] || c === null || c === undefined) return;
      // a broadcast input's gradient is summed back onto its shape, here and only here
      const fitted = w.sumTo(c, w.shape(i));
      edges?.push({ to: id, input: k, from: i, node: fitted });
      if (w.isZero(fitted)) return;
      const before = adjoint.get(i);
      // gradients add at branches
      adjoint.set(i, before === undefined ? fitted : w.add(before, fitted));
    });
  }
  return wrt.map((i) => adjoint.get(i) ?? null);
}

/**
 * Forward mode as graph ops: the tangent of `output` when each node of `from` moves
 * along the given tangent node (null where no tangent reaches it: it is 0).
 */
export function appendTangent(w: TapeWriter, output: GraphNode, from: Map<GraphNode, GraphNode>): GraphNode | null {
  const tangent = new Map(from);
  for (let id = 0; id <= output; id++) {
    const n = w.node(id);
    if (tangent.has(id) || !n.active || n.inputs.length === 0) continue;
    const dots = n.inputs.map((i) => tangent.get(i) ?? null);
    if (dots.every((d) => d === null)) continue;
    const rule = getOp(n.op).jvpGraph;
    if (!rule) throw new Error(`op ${n.op} has no graph rule for its tangent (jvpGraph in the op table)`);
    const t = rule(w, n.inputs, id, dots, n.attrs);
    // a rule's tangent may be shaped like a broadcast input (∂(a + B) = ȧ when only a moves)
    if (t !== null && !w.isZero(t)) tangent.set(id, w.broadcastTo(t, n.shape));
  }
  return tangent.get(output) ?? null;
}
