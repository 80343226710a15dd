import { sameShape, sizeOf, type Shape, type Tensor } from '../tensor.js';
import { ruleFor, type ElementwiseDef } from './elementwise.js';
import { TableOps } from './graph-ops.js';
import { getOp } from './index.js';
import { argName, type Attrs, type GraphNode } from './types.js';

/**
 * The op table's graph rules printed: every call writes formula text instead of
 * computing, so running an op's vjpGraph with the placeholders a, b, … (inputs), s (the
 * output) and g (the upstream gradient) prints its local derivative (`g*b'`, `a'*g`) —
 * what the graph's edges and `derive` show, read off the one statement of the rule.
 * Texts are valid formulas where the ops have a notation (graph/tidy.ts parses them);
 * a few moves (picking entries, their scatter) print as words.
 */
interface Text {
  text: string;
  shape: Shape;
  /** binding strength of the text's outermost operator (9: a name, number or call) */
  prec: number;
  /** a constant of ones: a factor that prints as nothing */
  ones?: boolean;
}

const INFIX: Record<string, [string, number]> = {
  add: ['+', 4],
  subtract: ['-', 4],
  larger: ['>', 3],
  smaller: ['<', 3],
  largerEq: ['>=', 3],
  smallerEq: ['<=', 3],
  equal: ['==', 3],
  unequal: ['!=', 3],
  and: ['and', 2],
  or: ['or', 1],
};

/** Ops that read along a dimension print it as formulas write it (one-based). */
const AXIS_OPS = new Set(['sum', 'mean', 'prod', 'softmax', 'logsoftmax', 'logsumexp']);

export class TextOps extends TableOps {
  private nodes: Text[] = [];

  /** A placeholder (`a`, `g`) of a shape, as a node. */
  name(text: string, shape: Shape): GraphNode {
    return this.push({ text, shape, prec: 9 });
  }

  text(x: GraphNode): string {
    return this.nodes[x].text;
  }

  shape(x: GraphNode): Shape {
    return this.nodes[x].shape;
  }

  op(name: string, inputs: GraphNode[], attrs: Attrs = {}): GraphNode {
    const ins = inputs.map((i) => this.nodes[i]);
    const shape = getOp(name).shape(
      ins.map((t) => t.shape),
      attrs,
    );
    const [a, b, c] = ins;
    const scalars = ins.some((t) => t.shape.length === 0);
    const infix = (op: string, p: number, right = false) =>
      this.push({ text: `${wrap(a, right ? p + 1 : p)} ${op} ${wrap(b, right ? p : p + 1)}`, shape, prec: p });
    switch (name) {
      case 'multiply':
      case 'gmul':
        // a factor of ones broadcasts the other: on paper it is the other
        if (a.ones) return this.push({ ...b, shape });
        if (b.ones) return this.push({ ...a, shape });
        return this.push({ text: `${wrap(a, 5)}${scalars ? '*' : '.*'}${wrap(b, 6)}`, shape, prec: 5 });
      case 'matmul':
        return this.push({ text: `${wrap(a, 5)}*${wrap(b, 6)}`, shape, prec: 5 });
      case 'divide':
        return this.push({ text: `${wrap(a, 5)}${b.shape.length === 0 ? '/' : './'}${wrap(b, 6)}`, shape, prec: 5 });
      case 'pow':
        return this.push({ text: `${wrap(a, 8)}${scalars ? '^' : '.^'}${wrap(b, 7)}`, shape, prec: 7 });
      case 'unaryMinus':
        return this.push({ text: `-${wrap(a, 6)}`, shape, prec: 6 });
      case 'not':
        return this.push({ text: `not ${wrap(a, 6)}`, shape, prec: 6 });
      case 'transpose':
        return this.push({ text: `${wrap(a, 9)}'`, shape, prec: 8 });
      case 'select':
        return this.push({ text: `${wrap(a, 1)} ? ${wrap(b, 1)} : ${wrap(c, 0)}`, shape, prec: 0 });
      case 'subset':
        // the same entries in another shape print as they are
        if (sizeOf(shape) === sizeOf(a.shape) && attrs.gather!.every((j, k) => j === k)) return this.push({ ...a, shape });
        return this.push({ text: `${wrap(a, 9)}[…]`, shape, prec: 9 });
      case 'scatter':
        return this.push({ text: `${wrap(a, 9)} at the index`, shape, prec: -1 });
    }
    if (INFIX[name]) return infix(...INFIX[name]);
    const dim = AXIS_OPS.has(name) && attrs.axis !== undefined ? `, ${attrs.axis + 1}` : '';
    return this.push({ text: `${name}(${ins.map((t) => t.text).join(', ')}${dim})`, shape, prec: 9 });
  }

  constant(v: number | Tensor): GraphNode {
    if (typeof v === 'number') return this.push(numberText(v, []));
    const first = v.data[0];
    if (v.data.every((d) => d === first)) {
      const dims = v.shape.join(', ');
      if (first === 1) return this.push({ text: `ones(${dims})`, shape: v.shape, prec: 9, ones: true });
      return this.push({ text: `${numberText(first, []).text}*ones(${dims})`, shape: v.shape, prec: 5 });
    }
    const [m, n] = v.shape;
    if (m === n && v.data.every((d, k) => d === (Math.floor(k / n) === k % n ? 1 : 0))) return this.push({ text: `eye(${n})`, shape: v.shape, prec: 9 });
    return this.push({ text: `a constant [${v.shape.join(',')}]`, shape: v.shape, prec: -1 });
  }

  /**
   * On paper a vector is a column and a row alike: the same text; but a vector that must
   * stand as a column beside a matrix is made one (`v*ones(1, 1)`, the product that reads it so).
   */
  reshape(a: GraphNode, shape: Shape): GraphNode {
    const t = this.nodes[a];
    if (sameShape(t.shape, shape)) return a;
    if (t.shape.length === 1 && t.shape[0] > 1 && shape.length === 2 && shape[1] === 1) return this.push({ text: `${wrap(t, 5)}*ones(1, 1)`, shape, prec: 5 });
    return this.push({ ...t, shape });
  }

  broadcastTo(x: GraphNode, shape: Shape): GraphNode {
    return this.reshape(x, shape);
  }

  private push(t: Text): GraphNode {
    this.nodes.push(t);
    return this.nodes.length - 1;
  }
}

function numberText(v: number, shape: Shape): Text {
  const text = String(Number(v.toPrecision(12)));
  return { text, shape, prec: v < 0 ? 6 : 9 };
}

function wrap(t: Text, min: number): string {
  return t.prec >= min ? t.text : `(${t.text})`;
}

/**
 * The local derivative ∂out/∂input_i as formula text in a, b, … and s: an elementwise
 * rule's partial as written in the table; for other ops, the op's reverse rule printed
 * with the upstream gradient g (`g*b'`), which may depend on the inputs' shapes.
 */
export function localText(op: string, attrs: Attrs, shapes: Shape[], outShape: Shape, i: number): string {
  const def = getOp(op) as ElementwiseDef;
  if (def.rules) return ruleFor(def, shapes.length).local[i] ?? '';
  if (!def.vjpGraph) return '';
  const T = new TextOps();
  const ins = shapes.map((s, j) => T.name(argName(j), s));
  const out = T.name('s', outShape);
  const c = def.vjpGraph(
    T,
    ins,
    out,
    T.name('g', outShape),
    attrs,
    shapes.map((_, j) => j === i),
  )[i];
  return c === null || c === undefined ? '0' : T.text(c);
}
