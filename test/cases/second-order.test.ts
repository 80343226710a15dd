import { describe, expect, it } from 'vitest';
import { parseCases } from '../../src/homework/cases/load.js';
import { compileCase } from '../../src/homework/cases/compile.js';
import { judgeSecondOrder } from '../../src/subjects/formula/check/judge.js';
import { runCase } from '../../src/homework/cases/run.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { gradcheck } from '../../src/api/gradcheck.js';
import { secondOrderTape } from '../../src/subjects/formula/hessian.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradeSubmission, prepareKey } from '../../src/homework/grade/grade.js';
import { loadKey, parsePart } from '../../src/homework/grade/key.js';
import { loadSubmission } from '../../src/homework/grade/submission.js';
import { limitsFrom } from '../../src/core/limits.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { cli } from '../helpers.js';

const cases = (yaml: string) => parseCases(yaml, 'c.yaml').cases;
const run1 = (yaml: string) => runCase(cases(yaml)[0]);

describe('order: 2 — the gradient’s own derivatives are checked (gradgradcheck)', () => {
  it('passes smooth formulas at fixed and random points, on both engines', () => {
    for (const engine of ['js', 'native'] as const) {
      for (const f of ['sum((W*x).^2)', 'sum(log(1 + exp(-y.*(X*w))))', 'sum(relu(W1*x).^2) + sum(sin(x))', 'x^3*y + exp(x*y)']) {
        const yaml = `- f: ${JSON.stringify(f)}\n  at: "W=randn(3,2), W1=randn(4,2), x=randn(2), X=randn(5,3), y=[1,-1,1,1,-1], w=randn(3)"\n  order: 2\n  samples: 3\n`;
        const r = runCase(cases(f.includes('x^3') ? `- f: "${f}"\n  order: 2\n  samples: 3\n` : yaml)[0], { engine });
        expect([f, engine, r.status, r.error?.message]).toEqual([f, engine, 'pass', undefined]);
      }
    }
  });

  it('catches a Hessian-vector product that is wrong in one entry and names the entry', () => {
    const c = compileCase(cases('- f: "x^2*y + sin(y)"\n  at: { x: 1.5, y: 0.5 }\n  order: 2\n')[0]);
    const values: Record<string, Tensor> = { x: { shape: [], data: Float64Array.of(1.5) }, y: { shape: [], data: Float64Array.of(0.5) } };
    const real = secondOrderTape(c.spec.f, values);
    // a planted bug in the second derivative: (H·u)[y] off by 1%
    const broken = { ...real, hvp: (u: Float64Array) => real.hvp(u).map((v, i) => (i === 1 ? v * 1.01 : v)) };
    const s = { values, r: grad(c.spec.f, values, c.grad), steps: {}, second: broken };
    const found = judgeSecondOrder(c, s);
    expect(found).toHaveLength(1);
    expect(found[0].kind).toBe('second-order');
    expect(found[0].entry).toContain('[y]');
    expect(found[0].message).toMatch(/^second derivatives: autodiff .*y.* at x=1\.5, y=0\.5, but differences of the gradient give /);
    // the real one passes
    expect(judgeSecondOrder(c, { ...s, second: real })).toEqual([]);
  });

  it('says where a direction crosses a kink of the second derivative instead of judging it', () => {
    const r = run1('- f: "max(x,0)^2 + x*y"\n  at: { x: 0, y: 1 }\n  order: 2\n');
    expect(r.status).toBe('pass');
    expect(r.warnings.some((w) => /^order 2: \d of 4 directions cross a kink at x=0, y=1/.test(w))).toBe(true);
  });

  it('is a setting like the others: order: in defaults:, --order on the command line, refused when not 1 or 2', () => {
    const file = parseCases('defaults: { order: 2 }\ncases:\n  - f: "x^4"\n    at: { x: 2 }\n', 'c.yaml').cases;
    expect(compileCase(file[0]).order).toBe(2);
    expect(compileCase(cases('- f: "x^4"\n  at: { x: 2 }\n')[0], { order: 2 }).order).toBe(2);
    expect(compileCase(cases('- f: "x^4"\n  at: { x: 2 }\n  order: 1\n')[0], { order: 2 }).order).toBe(1);
    const bad = run1('- f: "x^4"\n  at: { x: 2 }\n  order: 3\n');
    expect(bad.status).toBe('error');
    expect(bad.error?.message).toBe('order: should be 1 or 2, not 3');
  });
});

describe('expect.hessian.<x>.<y>: second derivatives as answers', () => {
  it('judges numbers, nested lists and formulas against the Hessian’s blocks', () => {
    const r = run1(`- f: "sum((W*x).^2) + c*sum(x)^2"
  at: { W: [[0.1, 0.5], [-0.3, 0.8]], x: [0.2, 0.4], c: 1.5 }
  expect:
    hessian:
      x: { x: "2*W'*W + 2*c*ones(2,2)", c: "2*sum(x)*ones(2)" }
      c: { c: 0, x: [1.2, 1.2] }
`);
    expect(r.failures).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.expected).toEqual(['hessian.x.x', 'hessian.x.c', 'hessian.c.c', 'hessian.c.x']);
    expect(r.score).toEqual({ earned: 1, max: 1 });
  });

  it('matches the closed forms of the lecture functions at random points: ‖Wx‖² in x is 2WᵀW, the logistic loss XᵀDX', () => {
    const rng = new Rng(7);
    const m = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, () => Number(rng.normal().toFixed(6))));
    for (let k = 0; k < 3; k++) {
      const W = m(3, 2);
      const X = m(4, 2);
      const w = m(1, 2)[0];
      const r = run1(`- f: "sum((W*x).^2) + sum(log(1 + exp(-(X*w))))"
  at: { W: ${JSON.stringify(W)}, X: ${JSON.stringify(X)}, x: [0.3, -0.7], w: ${JSON.stringify(w)} }
  wrt: [x, w]
  expect:
    hessian:
      x: { x: "2*W'*W", w: [[0, 0], [0, 0]] }
      w: { w: "p = 1 ./ (1 + exp(-(X*w))); X'*diag(p.*(1-p))*X" }
`);
      expect([k, r.status, r.failures.map((f) => f.message)]).toEqual([k, 'pass', []]);
    }
  });

  it('names a wrong entry by the pair of entries it is about, and a wrong shape by its layout', () => {
    const wrong = run1(`- f: "sum(x.^3)"
  at: { x: [1, 2, 3] }
  expect:
    hessian:
      x: { x: [[6, 0, 0], [0, 12, 0], [0, 0, 24]] }
`);
    expect(wrong.status).toBe('fail');
    expect(wrong.failures[0]).toMatchObject({ kind: 'hessian', entry: '∂²f/∂x[3]²', field: 'expect.hessian.x.x', yours: 24, truth: 18 });
    const shape = run1(`- f: "sum(x.^3) + y*sum(x)"
  at: { x: [1, 2, 3], y: 2 }
  expect:
    hessian:
      x: { y: [[1, 1, 1]] }
`);
    expect(shape.failures[0].kind).toBe('shape');
    expect(shape.failures[0].message).toContain('it is the transpose of the true value');
    const layout = run1(`- f: "sum(x)*sum(y)"
  at: { x: [1, 2, 3], y: [4, 5] }
  expect:
    hessian:
      x: { y: [[1, 1], [1, 1]] }
`);
    expect(layout.failures[0].message).toBe(
      'your ∂²f/∂x∂y is 2×2 but ∂²f/∂x∂y is 3×2 (at x=[1, 2, 3], y=[4, 5]) — ∂²f/∂x∂y has one row per entry of x and one column per entry of y (the shape of y when x is a scalar, of x when y is)',
    );
    const mixed = run1(`- f: "x*sum(W)"
  at: { x: 2, W: [[1, 2], [3, 4]] }
  expect:
    hessian:
      W: { x: [[1, 1], [1, 0]] }
`);
    expect(mixed.failures[0].entry).toBe('∂²f/∂W[2,2]∂x');
  });

  it('refuses what has no second derivative: a named step, an unknown name, a variable left out by wrt', () => {
    const step = run1('- f: "q = x + y; f = q*z"\n  at: { x: 1, y: 2, z: 3 }\n  expect:\n    hessian:\n      q: { x: 1 }\n');
    expect(step.error?.message).toBe(
      'expect.hessian.q.x: the formula has no variable q (q is a named step: second derivatives are taken with respect to variables)',
    );
    const typo = run1('- f: "x*y"\n  at: { x: 1, y: 2 }\n  expect:\n    hessian:\n      x: { z: 1 }\n');
    expect(typo.error?.message).toBe('expect.hessian.x.z: the formula has no variable z');
    const wrt = run1('- f: "x*y"\n  at: { x: 1, y: 2 }\n  wrt: [x]\n  expect:\n    hessian:\n      x: { y: 1 }\n');
    expect(wrt.error?.message).toBe('expect.hessian.x.y: y is not differentiated (wrt x)');
    const flat = run1('- f: "x*y"\n  at: { x: 1, y: 2 }\n  expect:\n    hessian:\n      x: 1\n');
    expect(flat.error?.message).toMatch(/^expect\.hessian\.x: should map variables to ∂²f\/∂x∂\(that variable\)/);
  });

  it('a second-derivative block over the limits is an error at its own answer, not at f', () => {
    const spec = cases('- f: "sum((W*x).^2)"\n  at: { x: [1, 2, 3, 4, 5, 6], W: [[1, 2, 3, 4, 5, 6]] }\n  expect:\n    hessian:\n      x: { x: 1 }\n')[0];
    const r = runCase(spec, { limits: limitsFrom({ maxEntries: 30 }) });
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ code: 'limit', field: 'expect.hessian.x.x', line: 5 });
    expect(r.error?.message).toBe('∂²f/∂x∂x has 6 × 6 entries; the limits are 200000 passes (--max-evaluations) and 30 entries (--max-entries)');
  });

  it('is a part a grader can grade: hessian.x.y', () => {
    expect(parsePart('hessian.x.y')).toEqual({ kind: 'hessian', name: 'x', by: 'y', part: 'hessian.x.y' });
    expect(parsePart('hessian.x')).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'ag-hessian-'));
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const key = prepareKey(
      loadKey(
        file('key.yaml', 'problems:\n  - name: newton\n    f: x^2*y + y^3\n    at: { x: 1, y: 2 }\n    points: 2\n    parts: [hessian.x.x, hessian.x.y]\n'),
      ),
    );
    const right = gradeSubmission(key.problems, loadSubmission(file('ann.yaml', 'answers:\n  newton:\n    hessian: { x: { x: "2*y", y: 2 } }\n')));
    expect(right.earned).toBe(2);
    const half = gradeSubmission(key.problems, loadSubmission(file('bob.yaml', 'answers:\n  newton:\n    hessian: { x: { x: "2*x", y: 2 } }\n')));
    expect(half.earned).toBe(1);
    expect(half.problems[0].parts.map((p) => [p.part, p.what, p.status])).toEqual([
      ['hessian.x.x', '∂²f/∂x²', 'wrong'],
      ['hessian.x.y', '∂²f/∂x∂y', 'right'],
    ]);
  });
});

describe('gradcheck(…, { order: 2 })', () => {
  it('checks the second derivatives of a formula', () => {
    const r = gradcheck(
      'sum(log(1 + exp(-y.*(X*w))))',
      {
        X: [
          [1, 2],
          [0.5, -1],
          [2, 0.1],
        ],
        y: [1, -1, 1],
        w: [0.3, -0.2],
      },
      { order: 2, wrt: ['w'] },
    );
    expect(r.passed).toBe(true);
    expect(r.failures).toEqual([]);
    // the second-order check builds the gradient's graph: a node limit the formula meets but its derivative's graph does not shows it runs
    expect(gradcheck('sin(x)*cos(y)', { x: 1, y: 2 }, { limits: { maxNodes: 8 } }).passed).toBe(true);
    expect(() => gradcheck('sin(x)*cos(y)', { x: 1, y: 2 }, { order: 2, limits: { maxNodes: 8 } })).toThrow(
      "the derivative's graph has more than 8 nodes (--max-nodes)",
    );
    // a function's second derivatives are not something gradcheck can take: said, not ignored
    expect(() => gradcheck((v: { x: number }) => v.x ** 3, { x: 1 }, { grad: (v: { x: number }) => ({ x: 3 * v.x ** 2 }), order: 2 } as never)).toThrow(
      /checks second derivatives of a formula only/,
    );
  });
});

describe('the CLI', () => {
  it('check --order 2 and a case file’s expect.hessian, with exit codes', () => {
    const ok = cli(['check', 'x^3*y + exp(x*y)', '--at', 'x=0.5,y=-1', '--order', '2']);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toContain('✓ 1 case: 1 passed');
    const bad = cli(['check', 'x^3', '--order', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Choices: 1, 2');
  });
});
