import type { Shape, Tensor } from '../tensor.js';
import { applyFormula } from './formula.js';
import type { Attrs, GraphNode, GraphOps } from './types.js';

/**
 * The part of GraphOps that is the same whatever runs the rules: the named helpers are
 * table ops, and a partial formula is applied op by op (ops/formula.ts). A GraphOps
 * (the tape writer, eager, text) says what an op, a constant and a reshape are.
 */
export abstract class TableOps implements GraphOps {
  abstract shape(x: GraphNode): Shape;
  abstract op(name: string, inputs: GraphNode[], attrs?: Attrs): GraphNode;
  abstract constant(v: number | Tensor): GraphNode;
  abstract reshape(a: GraphNode, shape: Shape): GraphNode;
  abstract broadcastTo(x: GraphNode, shape: Shape): GraphNode;

  /** a number like any other where the rule runs now or prints (the tape writer marks it) */
  shapeNumber(v: number): GraphNode {
    return this.constant(v);
  }

  add(a: GraphNode, b: GraphNode): GraphNode {
    return this.op('add', [a, b]);
  }

  sub(a: GraphNode, b: GraphNode): GraphNode {
    return this.op('subtract', [a, b]);
  }

  mul(a: GraphNode, b: GraphNode): GraphNode {
    return this.op('multiply', [a, b]);
  }

  div(a: GraphNode, b: GraphNode): GraphNode {
    return this.op('divide', [a, b]);
  }

  neg(a: GraphNode): GraphNode {
    return this.op('unaryMinus', [a]);
  }

  matmul(a: GraphNode, b: GraphNode): GraphNode {
    return this.op('matmul', [a, b]);
  }

  transpose(a: GraphNode): GraphNode {
    return this.op('transpose', [a]);
  }

  sum(a: GraphNode, axis?: number): GraphNode {
    return this.op('sum', [a], axis === undefined ? {} : { axis });
  }

  /** A scalar partial-derivative formula (`b*a^(b-1)`, `a > 0 ? 1 : 0`), applied entry by entry to the named nodes. */
  formula(text: string, names: Record<string, GraphNode>): GraphNode {
    return applyFormula(this, text, names);
  }
}
