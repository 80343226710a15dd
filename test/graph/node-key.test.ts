import { describe, expect, it } from 'vitest';
import { prepare, toTensors } from '../../src/subjects/formula/grad.js';
import { TapeWriter } from '../../src/core/graph/append.js';
import { compact, nodeKey, outputShape } from '../../src/core/graph/tape.js';

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
        'matmul',
        [
          [2, 3],
          [3, 4],
        ],
        {},
      ),
    ).toEqual({ shape: [2, 4] });
    expect(outputShape('transpose', [[2, 3]], {})).toEqual({ shape: [3, 2] });
    const bad = outputShape(
      'matmul',
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
