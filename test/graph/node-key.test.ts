import { describe, expect, it } from 'vitest';
import type { AgError } from '../../src/core/errors.js';
import { grad, prepare, toTensors } from '../../src/subjects/formula/grad.js';
import { TapeWriter } from '../../src/core/graph/append.js';
import { compact, nodeKey, outputShape } from '../../src/core/graph/tape.js';
import { getOp } from '../../src/core/ops/index.js';

/** One node key for both tape writers: nodes that differ only in an attribute are never one node. */
describe('node key', () => {
  it('writes every attribute, whatever its name, and nothing else', () => {
    expect(nodeKey('sum', [3], { axis: 0 })).not.toBe(nodeKey('sum', [3], { axis: 1 }));
    expect(nodeKey('sum', [3], {})).not.toBe(nodeKey('sum', [3], { axis: 0 }));
    expect(nodeKey('sum', [3], { axis: undefined })).toBe(nodeKey('sum', [3], {}));
    // an attribute no writer has heard of still tells nodes apart
    expect(nodeKey('newop', [1], { width: 2 })).not.toBe(nodeKey('newop', [1], { width: 3 }));
    expect(nodeKey('newop', [1], { a: 1, b: 2 })).toBe(nodeKey('newop', [1], { b: 2, a: 1 }));
    expect(nodeKey('norm', [1], { ord: 'fro' })).not.toBe(nodeKey('norm', [1], { ord: Infinity }));
    expect(nodeKey('subset', [1], { gather: Int32Array.of(0, 1), outShape: [2] })).not.toBe(
      nodeKey('subset', [1], { gather: Int32Array.of(0, 1), outShape: [1, 2] }),
    );
    expect(nodeKey('const', [], { value: { shape: [], data: Float64Array.of(2) } })).not.toBe(
      nodeKey('const', [], { value: { shape: [1], data: Float64Array.of(2) } }),
    );
    // a scalar constant's key (written by a shortcut) reads like any other constant's
    expect(nodeKey('const', [], { value: { shape: [], data: Float64Array.of(-0) } })).toBe('const(){value={data:[-0];shape:[]}}');
    expect(nodeKey('const', [], { value: { shape: [1], data: Float64Array.of(2) } })).toBe('const(){value={data:[2];shape:[1]}}');
    expect(nodeKey('const', [], { value: { shape: [], data: Float64Array.of(2) }, note: 'x' })).toBe('const(){note="x";value={data:[2];shape:[]}}');
    expect(nodeKey('const', [], { value: { shape: [], data: Float64Array.of(0) } })).not.toBe(
      nodeKey('const', [], { value: { shape: [], data: Float64Array.of(-0) } }),
    );
    expect(nodeKey('add', [1, 2], {})).not.toBe(nodeKey('add', [2, 1], {}));
    expect(nodeKey('input', [], {})).toBeNull();
    expect(nodeKey('subset', [1], { gather: new Int32Array(10) }, 9)).toBeNull();
    expect(nodeKey('f', [1], { fn: () => 0 })).toBeNull();
  });

  it('appending: a reduction axis, a pow exponent and a subset index each make another node', () => {
    const w = TapeWriter.empty();
    const A = w.input('A', [2, 3]);
    expect(w.sum(A, 0)).not.toBe(w.sum(A, 1));
    expect(w.sum(A, 0)).toBe(w.sum(A, 0));
    expect(w.op('pow', [A, w.constant(2)])).not.toBe(w.op('pow', [A, w.constant(3)]));
    const pick = (k: number) => w.op('subset', [A], { gather: Int32Array.of(k), outShape: [] });
    expect(pick(0)).not.toBe(pick(1));
    expect(pick(4)).toBe(pick(4));
    // an attribute the writer has never heard of
    const s1 = w.op('softmax', [A], { axis: 0 });
    expect(w.op('softmax', [A], { axis: 0, note: 'x' })).not.toBe(s1);
  });

  it('lowering: sum(A,1) and sum(A,2), A.^2 and A.^3, v[1] and v[2] are different nodes; the same expression twice is one', () => {
    const at = toTensors({
      A: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      v: [1, 2, 3],
    });
    const count = (f: string, op: string) => prepare(f, at).nodes.filter((n) => n.op === op).length;
    expect(count('sum(sum(A,1)) + sum(sum(A,2))', 'sum')).toBe(4);
    expect(count('sum(sum(A,1)) + sum(sum(A,1))', 'sum')).toBe(2);
    expect(count('sum(A.^2) + sum(A.^3)', 'pow')).toBe(2);
    expect(count('sum(A.^2) + sum(A.^2)', 'pow')).toBe(1);
    expect(count('v[1] + v[2]', 'subset')).toBe(2);
    expect(count('v[2] * v[2]', 'subset')).toBe(1);
    expect(count('norm(v, 1) + norm(v, Infinity) + norm(v) + norm(v, 2)', 'norm')).toBe(3);
    expect(count('sum(softmax(A, 1)) + sum(softmax(A, 2))', 'softmax')).toBe(2);
    // the same lanes written two ways are one node, as they were before the generic key
    expect(count('sum(softmax(A)) + sum(softmax(A, 2))', 'softmax')).toBe(1);
    expect(count('sum(logsoftmax(A, 2)) + sum(logsoftmax(A))', 'logsoftmax')).toBe(1);
    expect(count('sum(softmax(A)) + sum(softmax(A, 1))', 'softmax')).toBe(2);
  });
});

describe('shared by both writers', () => {
  it("outputShape: the op table's shape, its refusal as words, a rank above 2 marked", () => {
    expect(
      outputShape(
        getOp('matmul'),
        [
          [2, 3],
          [3, 4],
        ],
        {},
      ),
    ).toEqual({ shape: [2, 4] });
    expect(outputShape(getOp('transpose'), [[2, 3]], {})).toEqual({ shape: [3, 2] });
    const bad = outputShape(
      getOp('matmul'),
      [
        [2, 3],
        [2, 4],
      ],
      {},
    );
    expect('error' in bad && !('rank' in bad) && bad.error.length > 0).toBe(true);
  });

  it('compact keeps what the roots need, renumbered, with a packed arena', () => {
    const w = TapeWriter.empty();
    const x = w.input('x', [3]);
    w.op('sin', [x]);
    const c = w.op('cos', [x]);
    const { tape, ids } = w.finish(c);
    expect(tape.nodes.map((n) => n.op)).toEqual(['input', 'cos']);
    expect(tape.nodes.map((n) => n.offset)).toEqual([0, 3]);
    expect(tape.arenaSize).toBe(6);
    expect(ids[1]).toBe(-1);
    const again = compact(tape.nodes, [0]);
    expect(again.nodes.length).toBe(1);
    expect(again.arenaSize).toBe(3);
  });
});

/** Formula lowering writes through the same writer as gradient appending; only the policy differs. */
describe('one tape writer', () => {
  const at = toTensors({ x: 1, y: 2, v: [1, 2, 3] });

  it('constants are shared by their exact value: 1.0000000000001 and 1 are two nodes (a 12-digit key once made them one)', () => {
    const tape = prepare('x*1.0000000000001 - x*1', at);
    expect(tape.nodes.filter((n) => n.op === 'const').map((n) => n.attrs.value!.data[0])).toEqual([1.0000000000001, 1]);
    const r = grad('x*1.0000000000001 - x*1', at, { check: false, forwardMode: false, edges: false });
    expect(r.value).toBe(1.0000000000001 - 1);
    // equal constants are still one node
    expect(prepare('x*0.1 + y*0.1', at).nodes.filter((n) => n.op === 'const').length).toBe(1);
  });

  it("a formula's graph keeps x*1 and 0*y (an edge each in the picture); a derivative's graph simplifies them", () => {
    const tape = prepare('x*1 + 0*y', at);
    expect(tape.nodes.filter((n) => n.op === 'multiply').length).toBe(2);
    expect(tape.nodes.map((n) => n.label)).toEqual(['x', '1', 'mul', '0', 'y', 'mul#2', 'add']);
    const w = TapeWriter.empty();
    const x = w.input('x', []);
    expect(w.mul(x, w.constant(1))).toBe(x);
    expect(w.isZero(w.mul(w.constant(0), x))).toBe(true);
  });

  it("a shape error of lowering points at the formula's operator; of appending, names a bug in a rule", () => {
    expect(() => prepare('x + v*[1, 2]', at)).toThrow(/\[3\] \* \[2\]/);
    try {
      prepare('x + v*[1, 2]', at);
    } catch (e) {
      expect((e as AgError).code).toBe('shape');
      expect((e as AgError).span).toEqual({ start: 5, end: 6 });
    }
    const w = TapeWriter.empty();
    expect(() => w.matmul(w.input('a', [2, 3]), w.input('b', [2, 3]))).toThrow(/^gradient graph: matmul/);
  });

  it("pruning renumbers call sites; a writer appending to a built tape leaves that tape's call sites as they were", () => {
    const tape = prepare('f(a, b) = a*b; unused = sin(x); g = x*x; f(y, v) + g', at);
    expect(tape.nodes.some((n) => n.op === 'sin')).toBe(false);
    const mul = tape.nodes.find((n) => n.op === 'multiply' && n.call)!;
    expect(mul.call!.args.map((j) => tape.nodes[j].label)).toEqual(['y', 'v']);
    const before = mul.call!.args.slice();
    const w = new TapeWriter(tape);
    const out = w.op('cos', [tape.inputs.find((i) => i.name === 'v')!.node]);
    const { tape: t2 } = w.finish(out, [mul.id]);
    // g and the sum are gone, so y and v have moved
    expect(t2.nodes.length).toBeLessThan(tape.nodes.length);
    const mul2 = t2.nodes.find((n) => n.op === 'multiply' && n.call)!;
    expect(mul2.call!.args).not.toEqual(before);
    expect(mul2.call!.args.map((j) => t2.nodes[j].label)).toEqual(['y', 'v']);
    expect(mul.call!.args).toEqual(before);
  });
});
