/**
 * Shared by the native parity tests: one-op tapes built by hand with random shapes
 * (broadcasting included), random points in each op's domain, and an entry-by-entry
 * comparison that names the first entry that differs.
 */
import { expect } from 'vitest';
import { inputSlots, jsEngine } from '../../src/core/engine/js.js';
import { loadNative } from '../../src/core/engine/native.js';
import type { Engine } from '../../src/core/engine/types.js';
import { makeArena, type Tape, type TapeNode } from '../../src/core/graph/tape.js';
import type { ElementwiseDef } from '../../src/core/ops/elementwise.js';
import { OPS } from '../../src/core/ops/index.js';
import { nnAxis } from '../../src/core/ops/nn.js';
import type { Attrs, OpDef } from '../../src/core/ops/types.js';
import type { Rng } from '../../src/core/random.js';
import { sizeOf, type Shape, type Tensor } from '../../src/core/tensor.js';

/** The native engine; a test that needs it fails with the loader's reason when it is missing. */
export function nativeEngine(): Engine {
  const { engine, reason } = loadNative();
  if (!engine) throw new Error(`the native engine did not load: ${reason}`);
  return engine;
}

export interface OpCase {
  op: OpDef;
  shapes: Shape[];
  attrs: Attrs;
  /** which inputs are differentiated (the others become constants of the tape) */
  active: boolean[];
  domains: [number, number][];
  /** draw values from {-1, 0, 1} so ties, zeros and kinks happen */
  onKinks: boolean;
  /** square-matrix inputs made strictly diagonally dominant with a positive diagonal (det > 0, well conditioned) */
  dominant?: number[];
}

/** A tape of one op over leaf inputs x0, x1, … (constants where not active). */
export function oneOpTape(c: OpCase, values: Tensor[]): { tape: Tape; arena: Float64Array } {
  const nodes: TapeNode[] = [];
  let offset = 0;
  c.shapes.forEach((shape, i) => {
    const size = sizeOf(shape);
    nodes.push({
      id: i,
      op: c.active[i] ? 'input' : 'const',
      inputs: [],
      shape,
      size,
      offset,
      attrs: { value: values[i] },
      label: `x${i}`,
      active: c.active[i],
    });
    offset += size;
  });
  const shape = c.op.shape(c.shapes, c.attrs);
  const size = sizeOf(shape);
  const id = nodes.length;
  nodes.push({
    id,
    op: c.op.name,
    inputs: c.shapes.map((_, i) => i),
    shape,
    size,
    offset,
    attrs: c.attrs,
    label: c.op.name,
    active: !c.op.constantOutput && c.active.some(Boolean),
  });
  const tape: Tape = {
    source: c.op.name,
    nodes,
    output: id,
    inputs: nodes.filter((n) => n.op === 'input').map((n) => ({ name: n.label, node: n.id, shape: n.shape })),
    indexVars: [],
    arenaSize: offset + size,
  };
  const byName: Record<string, Tensor> = Object.fromEntries(values.map((v, i) => [`x${i}`, v]));
  return { tape, arena: makeArena(tape, byName) };
}

const dim = (rng: Rng, max = 5) => 1 + rng.int(max);

/**
 * An output shape and, for each argument, a shape that broadcasts to it: NumPy rules, and
 * vectors as columns against a column (a vector [n] with [n,1] is that column).
 */
function broadcastShapes(rng: Rng, arity: number): Shape[] {
  const rank = rng.int(4);
  const m = dim(rng);
  const n = dim(rng);
  // rank 3 stands for a column [m,1] output, which a vector [m] broadcasts to as itself
  const out: Shape = rank === 0 ? [] : rank === 1 ? [n] : rank === 2 ? [m, n] : [m, 1];
  const shapes: Shape[] = [];
  for (let i = 0; i < arity; i++) {
    const r = rng.next();
    if (r < 0.2) shapes.push([]);
    else if (rank === 2 && r < 0.35) shapes.push([n]);
    else if (rank === 2 && r < 0.45) shapes.push([1, n]);
    else if (rank === 2 && r < 0.55) shapes.push([m, 1]);
    else if (rank === 3 && r < 0.5) shapes.push([m]);
    else shapes.push(out);
  }
  // a vector beside a square matrix is a shape error (a row or a column? neither is guessed): make it a row
  if (rank === 2 && m === n && n > 1 && shapes.some((s) => s.length === 2 && s[0] === s[1])) {
    return shapes.map((s) => (s.length === 1 && s[0] === n ? [1, n] : s));
  }
  // a vector beside a column of another length is a shape error now (not an outer sum): make it a row
  if (shapes.some((s) => s.length === 2 && s[1] === 1 && s[0] > 1)) {
    return shapes.map((s) => (s.length === 1 && s[0] > 1 && rank === 2 && s[0] !== m ? [1, s[0]] : s));
  }
  return shapes;
}

/** A random case for `op`: shapes, attributes and which inputs are active. */
export function randomCase(rng: Rng, op: OpDef, big = false): OpCase {
  let shapes: Shape[];
  let attrs: Attrs = {};
  let domains: [number, number][] = [];
  let dominant: number[] | undefined;
  const D = big ? 60 : 5;
  switch (op.family) {
    case 'elementwise':
    case 'compare': {
      const def = op as ElementwiseDef;
      const arities = def.rules.map((r, i) => (r ? i + 1 : 0)).filter(Boolean);
      const arity = arities[rng.int(arities.length)];
      // big: above the engine's threshold for splitting elementwise loops over threads (2^17 entries)
      shapes = big ? Array.from({ length: arity }, () => [6 * D, 7 * D]) : broadcastShapes(rng, arity);
      domains = def.domains[arity - 1] ?? [];
      break;
    }
    default:
      switch (op.name) {
        case 'sum':
        case 'mean':
        case 'prod': {
          const r = rng.int(3);
          shapes = [r === 0 ? [] : r === 1 ? [dim(rng, D)] : [dim(rng, D), dim(rng, D)]];
          if (r === 2 && rng.next() < 0.6) attrs = { axis: rng.int(2) };
          if (op.name === 'prod') domains = [[0.5, 1.5]];
          break;
        }
        case 'maxAll':
        case 'minAll':
          shapes = [rng.next() < 0.5 ? [dim(rng, D)] : [dim(rng, D), dim(rng, D)]];
          // along a dimension of a matrix, keeping it
          if (shapes[0].length === 2 && rng.next() < 0.5) attrs = { axis: rng.int(2) };
          break;
        case 'norm': {
          const matrix = rng.next() < 0.4;
          shapes = [matrix ? [dim(rng, D), dim(rng, D)] : [dim(rng, D)]];
          const along = matrix && rng.next() < 0.5;
          const ords: Attrs['ord'][] = along ? [1, 2, Infinity] : matrix ? [2, 'fro'] : [1, 2, Infinity];
          attrs = rng.next() < 0.2 ? {} : { ord: ords[rng.int(ords.length)] };
          if (along) attrs.axis = rng.int(2);
          break;
        }
        case 'matmul': {
          const [m, k, n] = big ? [40 + rng.int(30), 50 + rng.int(30), 45 + rng.int(30)] : [dim(rng), dim(rng), dim(rng)];
          // matrix·matrix, matrix·column, row-read vector·matrix, dot, and the paper readings: u*v' (outer), u'*v (scalar)
          const kind = rng.int(6);
          const paper: Shape[][] = [
            [[m + 1], [1, n]],
            [[1, k], [k]],
          ];
          shapes =
            kind === 0
              ? [
                  [m, k],
                  [k, n],
                ]
              : kind === 1
                ? [[m, k], [k]]
                : kind === 2
                  ? [[k], [k, n]]
                  : kind === 3
                    ? [[k], [k]]
                    : paper[kind - 4];
          if (big && kind !== 0 && kind < 4) shapes = kind === 1 ? [[m * 10, k * 10], [k * 10]] : kind === 2 ? [[k * 10], [k * 10, n * 10]] : [[k], [k]];
          break;
        }
        case 'transpose':
          shapes = [rng.next() < 0.7 ? [dim(rng, D), dim(rng, D)] : [dim(rng, D)]];
          break;
        case 'dot': {
          const n = dim(rng, D);
          shapes = [[n], [n]];
          break;
        }
        case 'trace': {
          const n = dim(rng, D);
          shapes = [[n, n]];
          break;
        }
        case 'diag':
          shapes = [rng.next() < 0.5 ? [dim(rng, D)] : [dim(rng, D), dim(rng, D)]];
          break;
        case 'softmax':
        case 'logsoftmax':
        case 'logsumexp': {
          // vectors, matrices, and columns and rows, which need their axis
          const k = rng.int(4);
          shapes = [k === 0 ? [dim(rng, D)] : k === 1 ? [dim(rng, D), dim(rng, D)] : k === 2 ? [1 + dim(rng, D), 1] : [1, 1 + dim(rng, D)]];
          const want = shapes[0].length === 2 && rng.next() < 0.6 ? rng.int(2) : undefined;
          const r = nnAxis(shapes[0], want);
          attrs = 'error' in r ? { axis: r.fix! - 1 } : want === undefined ? {} : { axis: want };
          domains = [[-8, 8]];
          break;
        }
        case 'subset': {
          const inShape: Shape = rng.next() < 0.5 ? [dim(rng, D)] : [dim(rng, D), dim(rng, D)];
          const inSize = sizeOf(inShape);
          const outShape: Shape = rng.next() < 0.2 ? [] : rng.next() < 0.5 ? [dim(rng, 6)] : [dim(rng, 3), dim(rng, 3)];
          // repeated indices happen: the backward pass must scatter-add them
          const gather = Int32Array.from({ length: sizeOf(outShape) }, () => rng.int(inSize));
          shapes = [inShape];
          attrs = { gather, outShape };
          break;
        }
        case 'scatter': {
          // subset's reverse: entries of a gradient added into a larger tensor, repeated indices accumulating
          const outShape: Shape = rng.next() < 0.5 ? [dim(rng, D)] : [dim(rng, D), dim(rng, D)];
          const inShape: Shape = rng.next() < 0.2 ? [] : rng.next() < 0.5 ? [dim(rng, 6)] : [dim(rng, 3), dim(rng, 3)];
          const gather = Int32Array.from({ length: sizeOf(inShape) }, () => rng.int(sizeOf(outShape)));
          shapes = [inShape];
          attrs = { gather, outShape };
          break;
        }
        case 'det':
        case 'logdet':
        case 'inv':
        case 'adj':
        case 'solve': {
          // square matrices made diagonally dominant (randomValues): well conditioned, det > 0
          const n = dim(rng, D);
          shapes = op.name === 'solve' ? [[n, n], rng.next() < 0.5 ? [n] : [n, dim(rng, 3)]] : [[n, n]];
          dominant = [0];
          break;
        }
        case 'stack': {
          const item: Shape = rng.next() < 0.5 ? [] : [dim(rng, D)];
          shapes = Array.from({ length: 1 + rng.int(4) }, () => item);
          break;
        }
        default:
          throw new Error(`no random cases for ${op.name}`);
      }
  }
  // differentiate some inputs and not others; select's condition never
  let active = shapes.map(() => rng.next() < 0.8);
  if (op.name === 'select') active[0] = false;
  if (!active.some(Boolean)) active = shapes.map((_, i) => !(op.name === 'select' && i === 0));
  return { op, shapes, attrs, active, domains, onKinks: !!op.kink && rng.next() < 0.4, dominant };
}

/** Values for a case: in each argument's domain, or on kinks; select's condition is 0/1. */
export function randomValues(rng: Rng, c: OpCase): Tensor[] {
  return c.shapes.map((shape, i) => {
    const data = new Float64Array(sizeOf(shape));
    const [lo, hi] = c.domains[i] ?? [-3, 3];
    for (let k = 0; k < data.length; k++) {
      if (c.op.name === 'select' && i === 0) data[k] = rng.next() < 0.5 ? 0 : 1;
      else if (c.onKinks) data[k] = rng.int(3) - 1;
      else data[k] = lo + (hi - lo) * rng.next();
    }
    if (c.dominant?.includes(i)) {
      const n = shape[0];
      for (let j = 0; j < n; j++) data[j * n + j] += 2 * Math.max(Math.abs(lo), Math.abs(hi)) * n + 1;
    }
    return { shape, data };
  });
}

/** Ops whose native kernel sums in another order than the reference: compared norm-wise (see native.test.ts). */
export const NORMWISE = new Set(['matmul', 'prod']);

/**
 * Entry by entry: |a − b| ≤ rel·max(|a|, |b|) (+ rel·max|expected| when norm-wise); NaN
 * matches NaN and infinities must be equal.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string, normwise = false): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 0;
  if (normwise) for (let k = 0; k < expected.length; k++) if (Number.isFinite(expected[k])) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const b = expected[k];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (a !== b) expect.fail(`${what}[${k}]: native ${a}, js ${b}`);
      continue;
    }
    const tol = rel * Math.max(Math.abs(a), Math.abs(b)) + (normwise ? rel * scale : 0);
    if (Math.abs(a - b) > tol) expect.fail(`${what}[${k}]: native ${a}, js ${b} (difference ${Math.abs(a - b)}, tolerance ${tol})`);
  }
}

export function describeCase(c: OpCase): string {
  return `${c.op.name}(${c.shapes.map((s) => `[${s.join(',')}]`).join(', ')})${JSON.stringify(c.attrs, (_k, v) => (v instanceof Int32Array ? [...v] : v === Infinity ? 'Inf' : v))}`;
}

/**
 * The native forward kernel of one op = the TypeScript one at a random point (relative
 * `rel`, norm-wise for NORMWISE ops), and at finite-difference points around it the same
 * values and exactly the same branch codes (which say a step crossed a kink).
 */
export function compareForward(native: Engine, c: OpCase, rng: Rng, label: string, rel = 1e-12): void {
  const { tape, arena } = oneOpTape(c, randomValues(rng, c));
  const what = `${label} ${describeCase(c)}`;
  const normwise = NORMWISE.has(c.op.name);
  const aJs = arena.slice();
  const aNat = arena.slice();
  jsEngine.forward(tape, aJs);
  native.forward(tape, aNat);
  expectClose(aNat, aJs, rel, `${what} forward`, normwise);
  const n = inputSlots(tape).length;
  if (n === 0) return;
  const count = Math.min(12, 2 * n) + 2;
  const coord = Int32Array.from({ length: count }, (_, p) => (p >= count - 2 ? -1 : rng.int(n)));
  const delta = Float64Array.from({ length: count }, () => (rng.next() - 0.5) * 1e-3);
  const direction = Float64Array.from({ length: n }, () => rng.normal());
  const eJs = jsEngine.evaluate(tape, arena, coord, delta, direction);
  const eNat = native.evaluate(tape, arena, coord, delta, direction);
  expectClose(eNat.values, eJs.values, rel, `${what} evaluate`, normwise);
  expect([...eNat.branches], `${what} branch codes`).toEqual([...eJs.branches]);
}

export const opsUnderTest = (): OpDef[] => [...OPS.values()].filter((op) => op.family !== 'leaf');
export { jsEngine };
