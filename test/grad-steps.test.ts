import { describe, expect, it } from 'vitest';
import { parseCases } from '../src/homework/cases/load.js';
import { runCase } from '../src/homework/cases/run.js';
import { buildSteps } from '../src/core/graph/build.js';
import { isFunctionName } from '../src/core/ops/index.js';
import { parseProgram } from '../src/core/parse/parse.js';
import { grad, gradcheck } from '../src/index.js';
import { scalar } from '../src/core/tensor.js';

/** ∂f/∂(named step): the adjoint arriving at the step's node, checked by perturbing the step itself. */
describe('gradients of named steps', () => {
  it('the lecture circuit: ∂f/∂q = z = -4, with its own finite-difference check', () => {
    const r = grad('q = x + y; f = q*z', { x: -2, y: 5, z: -4 }, { wrt: ['q'] });
    expect(r.variables).toEqual(['q']);
    expect(r.gradient.q).toBe(-4);
    expect(r.forward!.q).toBe(-4);
    expect(r.check!.variables.q).toMatchObject({ passed: true, checked: 1 });
    expect(r.check!.finiteDifference!.q as number).toBeCloseTo(-4, 8);
    // the point is where the rest of the graph is evaluated: the step's value and what it meets
    expect(r.point).toEqual({ q: 3, z: -4 });
  });

  it('mixes variables and steps: variables keep their total derivatives, each step is cut on its own', () => {
    const r = grad('q = x + y; f = q*z + q^2', { x: -2, y: 5, z: -4 }, { wrt: ['x', 'q', 'f'] });
    expect(r.variables).toEqual(['x', 'q', 'f']);
    // ∂f/∂x = z + 2q through q (not 0, as it would be with q held fixed); ∂f/∂q = z + 2q; ∂f/∂f = 1
    expect(r.gradient).toEqual({ x: 2, q: 2, f: 1 });
    expect(r.check!.passed).toBe(true);
    expect(Object.keys(r.check!.variables)).toEqual(['x', 'q', 'f']);
    // the graph shown is the whole formula's
    expect(r.nodes.some((n) => n.label === 'x')).toBe(true);
  });

  it('a step used twice collects both uses; two steps that are one expression share one node', () => {
    expect(grad('q = x*y; f = q*x + sin(q)', { x: 0.5, y: 2 }, { wrt: ['q'] }).gradient.q).toBeCloseTo(0.5 + Math.cos(1), 14);
    const twin = grad('q = x + y; r = x + y; f = q*r', { x: -2, y: 5 }, { wrt: ['q', 'r'] });
    expect(twin.gradient).toEqual({ q: 6, r: 6 });
    // a step that is a variable (q = x) takes its place; a step the output does not use gets 0
    expect(grad('q = x; f = q^2', { x: 3 }, { wrt: ['q'] }).gradient.q).toBe(6);
    expect(grad('q = x + 1; d = 5*x; f = q^2', { x: 3 }, { wrt: ['d'] }).gradient.d).toBe(0);
  });

  it('tensor steps: ∂f/∂h of the ReLU layer is checked entry by entry', () => {
    const values = {
      X: [
        [1, -2],
        [0.5, 3],
      ],
      W1: [
        [0.3, -0.1],
        [0.2, 0.4],
      ],
      W2: [[1], [-1]],
    };
    const r = grad('h = max(X*W1, 0); f = sum((h*W2).^2)', values, { wrt: ['h'] });
    expect(r.check!.passed).toBe(true);
    expect(r.check!.variables.h.checked).toBe(4);
    const h = [
      [Math.max(0.3 - 0.4, 0), Math.max(-0.1 - 0.8, 0)],
      [Math.max(0.15 + 0.6, 0), Math.max(-0.05 + 1.2, 0)],
    ];
    const out = h.map((row) => row[0] - row[1]);
    expect(r.gradient.h).toEqual(out.map((o) => [2 * o, -2 * o]).map((row) => row.map((v) => expect.closeTo(v, 12))));
  });

  it('a name that is neither a variable nor a step is a usage error naming both', () => {
    expect(() => grad('q = x + y; f = q*z', { x: 1, y: 2, z: 3 }, { wrt: ['p'] })).toThrow(/--wrt p: there is no variable or named step p in the formula/);
  });

  it('the builder cuts a step out as an input: the nodes that only fed it fall away', () => {
    const program = parseProgram('q = x + y; f = q*z + x', { isFunction: isFunctionName });
    const values = { x: scalar(-2), y: scalar(5), z: scalar(-4) };
    const { tape } = buildSteps(program, values, { wrt: ['q'], cut: { q: scalar(3) } });
    expect(tape.inputs.map((i) => i.name)).toEqual(['q']);
    // y only fed q: gone; x has another use: it stays (a constant here, not differentiated)
    expect(tape.nodes.map((n) => n.label)).not.toContain('y');
    expect(tape.nodes.map((n) => n.label)).toContain('x');
    expect(() => buildSteps(program, values, { cut: { q: scalar(3), p: scalar(1) } })).toThrow('there is no step p in the formula');
  });

  it('gradcheck() grades named steps and their values too', () => {
    const ok = gradcheck('q = x + y; f = q*z', { x: -2, y: 5, z: -4 }, { expect: { gradient: { q: -4, x: 'z' }, steps: { q: 3 } } });
    expect(ok.passed).toBe(true);
    const wrong = gradcheck('q = x + y; f = q*z', { x: -2, y: 5, z: -4 }, { expect: { gradient: { q: 4 }, steps: { q: 'x - y' } } });
    expect(wrong.failures.map((f) => [f.kind, f.entry])).toEqual([
      ['gradient', '∂f/∂q'],
      ['step', 'q'],
    ]);
    expect(wrong.failures[0].message).toMatch(
      /^your ∂f\/∂q has the wrong sign: it is the true value negated — your ∂f\/∂q = 4 at x=-2, y=5, z=-4; the true value is -4 \(finite differences agree: -4\)/,
    );
  });

  it('case files: expect.gradient.<step> and expect.steps.<step>; a part that is no step is an error of the case', () => {
    const run = (expect: string) => runCase(parseCases(`- f: q = x + y; f = q*z\n  at: { x: -2, y: 5, z: -4 }\n  expect:\n${expect}`, 'c.yaml').cases[0]);
    expect(run('    gradient: { q: -4, f: 1 }\n    steps: { q: 3, f: -12 }\n')).toMatchObject({
      status: 'pass',
      expected: ['gradient.q', 'gradient.f', 'steps.q', 'steps.f'],
    });
    const wrong = run('    steps: { q: -3 }\n');
    expect(wrong.failures[0]).toMatchObject({ kind: 'step', entry: 'q', mistake: 'negated', field: 'expect.steps.q', line: 4 });
    expect(wrong.failures[0].message).toBe(
      'your q has the wrong sign: it is the true value negated — your q = -3 at x=-2, y=5, z=-4; the true value is 3; off by 200%, beyond 2 significant digits (you wrote 1)',
    );
    expect(run('    steps: { x: 1 }\n').error).toMatchObject({ message: 'expect.steps.x: the formula has no named step x', hint: 'its named steps are q, f' });
    const fn = runCase(parseCases('- f: s(t) = t^2; s(x)\n  at: { x: 1 }\n  expect:\n    gradient: { s: 2 }\n', 'c.yaml').cases[0]);
    expect(fn.error).toMatchObject({
      message: 'expect.gradient.s: s is an inline function, not a step',
      hint: 'name the call to grade it, like s = s(...); then answer gradient.s',
    });
  });
});
