import { describe, expect, it } from 'vitest';
import { AgError } from '../src/core/errors.js';
import { grad } from '../src/subjects/formula/grad.js';
import { graphResult } from '../src/subjects/formula/graph-result.js';
import type { Nested } from '../src/core/parse/values.js';
import { renderAscii } from '../src/report/graph/index.js';

const LECTURE = { formula: '(x+y)*sin(x)', at: { x: Math.PI, y: Math.PI } };

describe('graph result (computed once for every picture)', () => {
  it('carries every tape node with its value and ∂f/∂node, and every edge with what flows back along it', () => {
    const r = graphResult(LECTURE.formula, LECTURE.at);
    const g = grad(LECTURE.formula, LECTURE.at, { check: false, forwardMode: false });
    expect(r.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
    for (const n of r.nodes) {
      expect(n.value).toEqual(g.nodes[n.id].value);
      expect(n.grad).toEqual(g.nodes[n.id].grad);
    }
    // the output carries the seed, and x the sum of its two branches
    expect(r.nodes.find((n) => n.output)!.grad).toBe(1);
    const x = r.nodes.find((n) => n.name === 'x')!;
    const intoX = r.edges.filter((e) => e.from === x.id);
    expect(intoX).toHaveLength(2);
    expect((intoX[0].grad as number) + (intoX[1].grad as number)).toBeCloseTo(x.grad as number, 14);
    expect(x.grad).toBeCloseTo(-2 * Math.PI, 12);
    expect(r.edges.find((e) => e.from === x.id && r.nodes[e.to].op === 'sin')!.local).toBe('cos(x)');
  });

  it('forward mode: every node carries its tangent ∂node/∂x, and the output tangent is ∂f/∂x', () => {
    const r = graphResult(LECTURE.formula, LECTURE.at, { mode: 'forward', wrt: ['x'] });
    expect(r.wrt).toBe('x');
    const byOp = (op: string) => r.nodes.find((n) => n.op === op)!;
    expect(byOp('add').tangent).toBe(1);
    expect(byOp('sin').tangent).toBeCloseTo(-1, 14);
    expect(r.nodes.find((n) => n.name === 'y')!.tangent).toBe(0);
    expect(byOp('multiply').tangent).toBeCloseTo(-2 * Math.PI, 12);
    expect(r.nodes.every((n) => n.grad === null)).toBe(true);
  });

  it('forward mode seeds one entry of a tensor input', () => {
    const r = graphResult(
      'sum((W*x).^2)',
      {
        W: [
          [1, 2],
          [3, 4],
        ],
        x: [1, -1],
      },
      { mode: 'forward', wrt: ['W[2,1]'] },
    );
    const g = grad(
      'sum((W*x).^2)',
      {
        W: [
          [1, 2],
          [3, 4],
        ],
        x: [1, -1],
      },
      { check: false },
    );
    expect(r.wrt).toBe('W[2,1]');
    expect(r.nodes.find((n) => n.output)!.tangent).toBeCloseTo((g.gradient.W as number[][])[1][0], 12);
  });

  it('forward mode refuses a missing, plural, unknown or out-of-range seed', () => {
    expect(() => graphResult('x*y', { x: 1, y: 2 }, { mode: 'forward' })).toThrow(/needs the input to seed/);
    expect(() => graphResult('x*y', { x: 1, y: 2 }, { mode: 'forward', wrt: ['x', 'y'] })).toThrow(/one input at a time/);
    expect(() => graphResult('x*y', { x: 1, y: 2 }, { mode: 'forward', wrt: ['z'] })).toThrow(/no variable z/);
    expect(() => graphResult('sum(v)', { v: [1, 2] }, { mode: 'forward', wrt: ['v'] })).toThrow(/v\[1\]/);
    expect(() => graphResult('sum(v)', { v: [1, 2] }, { mode: 'forward', wrt: ['v[3]'] })).toThrow(AgError);
  });

  it('tensor nodes have shapes and norms; a vector output has values but no gradient, and says why', () => {
    const r = graphResult('W*x', {
      W: [
        [1, 2],
        [3, 4],
      ],
      x: [1, -1],
    });
    const mm = r.nodes.find((n) => n.op === 'matmul')!;
    expect(mm.shape).toEqual([2]);
    expect(mm.norm).toBeCloseTo(Math.SQRT2, 14);
    expect(r.nodes.every((n) => n.grad === null)).toBe(true);
    expect(r.notes.join(' ')).toMatch(/autograd-cli jacobian/);
    expect(renderAscii(r)).toContain('matmul  W*x   [2] ‖·‖=1.414');
  });

  it('named steps keep their names', () => {
    const r = graphResult('q = x + y; f = q*z', { x: -2, y: 5, z: -4 });
    expect(r.nodes.map((n) => n.name)).toEqual(['x', 'y', 'q', 'z', 'f']);
    expect(renderAscii(r)).toMatch(/^mul {2}f +-12 +1$/m);
    expect(renderAscii(r)).toMatch(/├─ add {2}q +3 +-4$/m);
  });

  it('edges carry what the backward pass did, in its order: local value, downstream, and the gradient as it builds', () => {
    for (const [formula, at] of [
      ['(x+y)*sin(x)', LECTURE.at],
      ['1/(1+exp(-(w0*x0+w1*x1+w2)))', { w0: 2, x0: -1, w1: -3, x1: -2, w2: -3 }],
      ['s = sin(x); s*s + s', { x: 0.5 }],
      [
        'sum((W*x).^2)',
        {
          W: [
            [1, 2],
            [3, 4],
          ],
          x: [1, -1],
        },
      ],
    ] as [string, Record<string, Nested>][]) {
      const r = graphResult(formula, at);
      const g = grad(formula, at, { check: false, forwardMode: false });
      // the backward pass's edges, in its order, are grad's edges
      const taken = r.backprop.map((k) => r.edges[k]);
      expect(
        taken.map((e) => [e.from, e.to, e.input]),
        formula,
      ).toEqual(g.edges.map((e) => [e.from, e.to, e.input]));
      taken.forEach((e, k) => {
        expect(e.local).toBe(g.edges[k].local);
        expect(e.localValue).toEqual(g.edges[k].localValue);
        expect(e.grad).toEqual(g.edges[k].downstream);
      });
      // edges from constants carry nothing back
      for (const e of r.edges.filter((x) => r.nodes[x.from].kind === 'const')) expect(e.grad).toBeNull();
      // the last edge into a node leaves its whole gradient; the first, its own contribution
      for (const n of r.nodes.filter((x) => x.grad !== null && !x.output)) {
        const into = taken.filter((e) => e.from === n.id);
        expect(into[0].sofar).toEqual(into[0].grad);
        const last = into[into.length - 1];
        if (typeof n.grad === 'number') expect(last.sofar as number).toBeCloseTo(n.grad, 14);
        else expect(last.sofar).toEqual(n.grad);
      }
    }
  });

  it('gradients add at a branch: x in (x+y)*sin(x) gets one term, then the sum', () => {
    const r = graphResult(LECTURE.formula, LECTURE.at);
    const x = r.nodes.find((n) => n.name === 'x')!;
    const [first, second] = r.backprop.map((k) => r.edges[k]).filter((e) => e.from === x.id);
    expect(first.sofar).toBe(first.grad);
    expect(second.sofar as number).toBeCloseTo((first.grad as number) + (second.grad as number), 15);
    expect(second.sofar as number).toBeCloseTo(-2 * Math.PI, 12);
  });

  it('seeds: forward mode at every input entry, with the backward pass too; each output tangent is a gradient entry', () => {
    const at = {
      W: [
        [1, 2],
        [3, 4],
      ],
      x: [1, -1],
    };
    const r = graphResult('sum((W*x).^2)', at, { seeds: 64 });
    const g = grad('sum((W*x).^2)', at, { check: false });
    expect(r.seeds!.map((s) => s.wrt)).toEqual(['W[1,1]', 'W[1,2]', 'W[2,1]', 'W[2,2]', 'x[1]', 'x[2]']);
    const out = r.nodes.find((n) => n.output)!;
    const flat = [...(g.gradient.W as number[][]).flat(), ...(g.gradient.x as number[])];
    r.seeds!.forEach((s, k) => expect(s.tangents[out.id] as number).toBeCloseTo(flat[k], 12));
    expect(out.grad).toBe(1);
    // a constant has no tangent
    expect(r.seeds![0].tangents[r.nodes.find((n) => n.kind === 'const')!.id]).toBeNull();
    // forward mode asked for: both passes still there, the view says forward
    const f = graphResult('sum((W*x).^2)', at, { seeds: 64, mode: 'forward', wrt: ['x[2]'] });
    expect(f.mode).toBe('forward');
    expect(f.wrt).toBe('x[2]');
    expect(f.nodes.find((n) => n.output)!.grad).toBe(1);
    expect(f.backprop).toHaveLength(4);
  });

  it('seeds are capped: the first entries of each input, and a note says so', () => {
    const r = graphResult('sum(u.*v)', { u: [1, 2, 3, 4, 5], v: [5, 4, 3, 2, 1] }, { seeds: 4 });
    expect(r.seeds!.map((s) => s.wrt)).toEqual(['u[1]', 'u[2]', 'v[1]', 'v[2]']);
    expect(r.notes.join(' ')).toMatch(/4 of the 10 input entries/);
  });

  it('nodes carry their source text', () => {
    const r = graphResult('q = x + y; f = q*z', { x: -2, y: 5, z: -4 });
    expect(r.nodes.map((n) => n.text)).toEqual(['x', 'y', 'x + y', 'z', 'q*z']);
  });
});
