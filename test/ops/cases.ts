import type { ElementwiseDef } from '../../src/core/ops/elementwise.js';
import type { Attrs, OpDef } from '../../src/core/ops/types.js';
import type { Rng } from '../../src/core/random.js';
import { sizeOf, type Shape, type Tensor } from '../../src/core/tensor.js';

/** The shapes and attributes every op of the table is tested on (its rules, and their graph forms). */
export interface Case {
  shapes: Shape[];
  attrs?: Attrs;
  domains?: [number, number][];
  /** inputs that are not differentiated (conditions) */
  fixed?: number[];
  /** integer-valued inputs (0/1 conditions) */
  boolean?: number[];
  /** square-matrix inputs made strictly diagonally dominant with a positive diagonal (det > 0, well conditioned) */
  dominant?: number[];
}

const elementwiseShapes = (arity: number): Shape[][] =>
  arity === 1
    ? [[[]], [[4]], [[2, 3]]]
    : arity === 2
      ? [
          [[], []],
          [[3], [3]],
          [
            [2, 3],
            [2, 3],
          ],
          [[], [2, 3]],
          [[2, 3], []],
          [[3], [2, 3]],
          [[2, 3], [3]],
          [
            [2, 1],
            [1, 3],
          ],
          [
            [2, 3],
            [2, 1],
          ],
          // a vector against a column is that column (vectors are columns)
          [[3], [3, 1]],
          [[3, 1], [3]],
        ]
      : [
          [[], [], []],
          [[3], [3], [3]],
          [[2, 3], [], [3]],
          [[3], [3, 1], []],
          // max/min take any number: the rest scalars and rows
        ].map((shapes) => [...shapes, ...Array.from({ length: arity - 3 }, (_, k) => (k % 2 ? [] : shapes[0]))]);

export function casesFor(op: OpDef): Case[] {
  if (op.family === 'elementwise' || op.family === 'compare') {
    const def = op as ElementwiseDef;
    const out: Case[] = [];
    for (let arity = op.arity[0]; arity <= def.rules.length; arity++) {
      for (const shapes of elementwiseShapes(arity)) {
        out.push({
          shapes,
          domains: def.domains[arity - 1],
          fixed: op.name === 'select' ? [0] : undefined,
          boolean: op.name === 'select' ? [0] : undefined,
        });
      }
    }
    return out;
  }
  switch (op.name) {
    case 'sum':
    case 'mean':
    case 'prod':
      return [{ shapes: [[5]] }, { shapes: [[2, 3]] }, { shapes: [[2, 3]], attrs: { axis: 0 } }, { shapes: [[2, 3]], attrs: { axis: 1 } }, { shapes: [[]] }];
    case 'maxAll':
    case 'minAll':
      return [{ shapes: [[5]] }, { shapes: [[3, 4]] }, { shapes: [[3, 4]], attrs: { axis: 0 } }, { shapes: [[3, 4]], attrs: { axis: 1 } }];
    case 'norm':
      return [
        { shapes: [[5]] },
        { shapes: [[5]], attrs: { ord: 1 } },
        { shapes: [[5]], attrs: { ord: Infinity } },
        { shapes: [[3, 4]], attrs: { ord: 'fro' } },
        // along a dimension (vecnorm), keeping it
        { shapes: [[3, 4]], attrs: { axis: 0 } },
        { shapes: [[3, 4]], attrs: { axis: 1, ord: 1 } },
        { shapes: [[3, 4]], attrs: { axis: 0, ord: Infinity } },
      ];
    case 'matmul':
      return [
        {
          shapes: [
            [2, 3],
            [3, 4],
          ],
        },
        { shapes: [[2, 3], [3]] },
        { shapes: [[3], [3, 2]] },
        { shapes: [[4], [4]] },
        // u*v' (outer), u'*v (a scalar), and [1]·[1,n], where mathjs's row reading wins
        { shapes: [[4], [1, 3]] },
        { shapes: [[1, 4], [4]] },
        { shapes: [[1], [1, 3]] },
      ];
    case 'transpose':
      return [{ shapes: [[2, 3]] }, { shapes: [[4]] }, { shapes: [[1, 4]] }, { shapes: [[4, 1]] }];
    case 'dot':
      return [{ shapes: [[4], [4]] }];
    case 'trace':
      return [{ shapes: [[3, 3]] }];
    case 'diag':
      return [{ shapes: [[3]] }, { shapes: [[3, 4]] }];
    case 'softmax':
    case 'logsoftmax':
    case 'logsumexp':
      return [
        { shapes: [[4]] },
        { shapes: [[2, 3]] },
        { shapes: [[2, 3]], attrs: { axis: 0 } },
        { shapes: [[2, 3]], attrs: { axis: 1 } },
        { shapes: [[4, 1]], attrs: { axis: 0 } },
        { shapes: [[1, 4]], attrs: { axis: 1 } },
      ];
    case 'subset':
      return [
        { shapes: [[5]], attrs: { gather: Int32Array.of(1, 3, 3), outShape: [3] } },
        { shapes: [[2, 3]], attrs: { gather: Int32Array.of(4), outShape: [] } },
      ];
    case 'scatter':
      // repeated indices accumulate; entries no one reads stay 0
      return [
        { shapes: [[3]], attrs: { gather: Int32Array.of(1, 3, 3), outShape: [5] } },
        { shapes: [[]], attrs: { gather: Int32Array.of(4), outShape: [2, 3] } },
      ];
    case 'stack':
      return [{ shapes: [[], [], []] }, { shapes: [[3], [3]] }];
    case 'det':
    case 'logdet':
    case 'inv':
    case 'adj':
      return [
        { shapes: [[3, 3]], dominant: [0] },
        { shapes: [[1, 1]], dominant: [0] },
        { shapes: [[]], domains: [[0.5, 2]] },
      ];
    case 'solve':
      return [
        { shapes: [[3, 3], [3]], dominant: [0] },
        {
          shapes: [
            [3, 3],
            [3, 2],
          ],
          dominant: [0],
        },
        {
          shapes: [[], []],
          domains: [
            [0.5, 2],
            [-2, 2],
          ],
        },
      ];
    default:
      return [];
  }
}

export function randomInput(rng: Rng, shape: Shape, domain: [number, number], bool: boolean): Tensor {
  const data = new Float64Array(sizeOf(shape));
  for (let k = 0; k < data.length; k++) data[k] = bool ? (rng.next() < 0.5 ? 0 : 1) : domain[0] + (domain[1] - domain[0]) * rng.next();
  return { shape, data };
}

/** A square matrix (entries within ±m) made strictly diagonally dominant with a positive diagonal: its eigenvalues lie right of 0. */
export function makeDominant(t: Tensor, m = 2): Tensor {
  if (t.shape.length !== 2) return t;
  const n = t.shape[0];
  for (let i = 0; i < n; i++) t.data[i * n + i] += 2 * m * n + 1;
  return t;
}

/** Input i of a case, at random in its domain (dominant where the case asks). */
export function caseInput(rng: Rng, c: Case, i: number): Tensor {
  const t = randomInput(rng, c.shapes[i], c.domains?.[i] ?? [-2, 2], c.boolean?.includes(i) ?? false);
  return c.dominant?.includes(i) ? makeDominant(t) : t;
}
