import { describe, expect, it } from 'vitest';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { grad, prepare, toTensors } from '../../src/subjects/formula/grad.js';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { hessian } from '../../src/subjects/formula/hessian.js';
import { jacobian } from '../../src/subjects/formula/jacobian.js';

/**
 * No variable disappears (issue 13 item 3): a variable given a value and used in the
 * formula stays an input of the tape even when the output does not depend on it — passed
 * for a parameter its inline function never reads, or used only in a step nobody uses —
 * and is reported with gradient 0, with a note naming the function and the parameter.
 */
describe('the tape keeps every variable of the formula', () => {
  it('f(a,b) = a; f(x, y): y stays an input, and the unread parameter is recorded', () => {
    const tape = prepare('f(a,b) = a; f(x, y)', toTensors({ x: 1.5, y: 2 }));
    expect(tape.inputs.map((i) => i.name)).toEqual(['x', 'y']);
    expect(tape.unusedParams).toEqual([{ fn: 'f', param: 'b', arg: 'y' }]);
    // the kept input is a node of the tape, with its own place in the arena
    const y = tape.nodes[tape.inputs[1].node];
    expect(y.op).toBe('input');
    expect(y.offset + y.size).toBeLessThanOrEqual(tape.arenaSize);
  });

  it('a parameter read only inside index brackets is used', () => {
    const tape = prepare('f(v, k) = v[k]; f(u, 2)', toTensors({ u: [1, 2, 3] }));
    expect(tape.unusedParams).toBeUndefined();
  });

  it('each call site is noted once, with what it passed', () => {
    const tape = prepare('f(a,b) = a; f(x, y) + f(x, y) + f(x, 2*z)', toTensors({ x: 1, y: 2, z: 3 }));
    expect(tape.unusedParams).toEqual([
      { fn: 'f', param: 'b', arg: 'y' },
      { fn: 'f', param: 'b', arg: '2*z' },
    ]);
  });

  for (const engine of ['js', 'native'] as const) {
    it(`grad (${engine}): y has gradient 0 in gradient, forward, variables and point, with a warning`, () => {
      const r = grad('f(a,b) = a; f(x, y)', { x: 1.5, y: 2 }, { engine });
      expect(r.variables).toEqual(['x', 'y']);
      expect(r.gradient).toEqual({ x: 1, y: 0 });
      expect(r.forward).toEqual({ x: 1, y: 0 });
      expect(Object.keys(r.point)).toEqual(['x', 'y']);
      expect(r.check?.passed).toBe(true);
      const w = r.warnings.filter((x) => x.code === 'unused-argument');
      expect(w).toHaveLength(1);
      expect(w[0].message).toMatch(/f does not use its parameter b; y, passed for it, gets gradient 0/);
    });

    it(`grad (${engine}): f(a) = 2; f(x) has the variable x with gradient 0 (not "no variables")`, () => {
      const r = grad('f(a) = 2; f(x)', { x: 1 }, { engine });
      expect(r.value).toBe(2);
      expect(r.gradient).toEqual({ x: 0 });
      expect(r.forward).toEqual({ x: 0 });
    });

    it(`grad (${engine}): a tensor variable used only in an unused step gets a zero gradient of its shape`, () => {
      const r = grad(
        'h = sum(W.^2); x^2',
        {
          x: 3,
          W: [
            [1, 2],
            [3, 4],
          ],
        },
        { engine },
      );
      expect(r.gradient.x).toBe(6);
      expect(r.gradient.W).toEqual([
        [0, 0],
        [0, 0],
      ]);
    });
  }

  it('jacobian, derive, hessian and graph report the variable too, with the note', () => {
    const j = jacobian('g(a,b) = [a, 2*a]; g(x, y)', { x: 1.5, y: 2 });
    expect(j.columns).toEqual(['x', 'y']);
    expect(j.notes.join('\n')).toMatch(/g does not use its parameter b/);
    const d = derive('f(a,b) = a^2; f(x, y)', { at: { x: 1.5, y: 2 } });
    expect(d.variables).toEqual(['x', 'y']);
    expect(d.derivatives).toEqual({ x: '2 * x', y: '0' });
    expect(d.notes.join('\n')).toMatch(/f does not use its parameter b/);
    const h = hessian('f(a,b) = a^2; f(x, y)', { x: 1.5, y: 2 });
    expect(h.entries).toEqual(['x', 'y']);
    expect(h.notes.join('\n')).toMatch(/f does not use its parameter b/);
    const g = graphResult('f(a,b) = a^2; f(x, y)', { x: 1.5, y: 2 });
    expect(g.nodes.find((n) => n.name === 'y')?.grad).toEqual(0);
    expect(g.notes.join('\n')).toMatch(/f does not use its parameter b/);
  });
});
