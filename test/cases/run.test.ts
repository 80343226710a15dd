import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inlineCase, loadCaseFile, parseCases } from '../../src/homework/cases/load.js';
import { runCase, summarize, exitCode, type CaseResult } from '../../src/homework/cases/run.js';
import { ROOT } from '../helpers.js';

const homework = (name: string) => loadCaseFile(join(ROOT, 'fixtures/homework', name));
const run1 = (yaml: string) => runCase(parseCases(yaml, 'c.yaml').cases[0]);
const byName = (results: CaseResult[], name: string) => results.find((r) => r.name.startsWith(name))!;

describe('the homework set', () => {
  const files = ['exercises.yaml', 'tensors.yaml'].map(homework);
  const results = files.flatMap((f) => f.cases.map((c) => runCase(c)));

  it('passes every right answer and fails every wrong one', () => {
    expect(results.length).toBe(26);
    for (const r of results) {
      expect(r.error, `${r.name}: ${r.error?.message}`).toBeUndefined();
      expect([r.name, r.status]).toEqual([r.name, r.name.startsWith('wrong') ? 'fail' : 'pass']);
    }
  });

  it('says what is wrong in plain words: the student’s number, the true one, finite differences, the point', () => {
    const r = byName(results, 'wrong: (x+y)sin(x)');
    // sin(1) against sin(1) + cos(1)
    expect(r.failures.map((f) => f.message)).toEqual([
      'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x + y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    ]);
    expect(r.failures[0]).toMatchObject({ kind: 'gradient', entry: '∂f/∂x', field: 'expect.gradient.x', point: { x: 1, y: 0 } });
    expect(r.failures[0].yours).toBeCloseTo(Math.sin(1), 15);
    expect(r.failures[0].truth).toBeCloseTo(Math.sin(1) + Math.cos(1), 12);
    // y's answer sin(x) is right and not reported
    expect(r.expected).toEqual(['gradient.x', 'gradient.y']);
    // one of two parts right: half the case's point
    expect(r.score).toEqual({ earned: 0.5, max: 1 });

    // the number 2 is judged at the digits written (at least 2 significant ones)
    expect(byName(results, 'wrong: 2(xy + max(z, w))').failures[0].message).toBe(
      'your ∂f/∂w = 2 at x=3, y=-4, z=2, w=-1; the true value is 0 (finite differences agree: 0); off by 2 (the true value is 0), beyond 2 significant digits (you wrote 1)',
    );
    // the forgotten link of the chain is named: the local derivative 2x of x → x^2
    const chain = byName(results, 'wrong: chain rule forgotten').failures[0];
    expect(chain.mistake).toBe('chain');
    expect(chain.message).toBe(
      `your ∂f/∂x leaves out one link of the chain: the local derivative 2*x = 3 of the edge x → x^2 — your ∂f/∂x = ${Number(Math.cos(2.25).toPrecision(4))} at x=1.5; the true value is ${Number((3 * Math.cos(2.25)).toPrecision(4))} (finite differences agree: ${Number((3 * Math.cos(2.25)).toPrecision(4))}); off by 67%, beyond rtol 1e-5, atol 1e-7`,
    );
    expect(byName(results, 'wrong: logistic loss, sign lost').failures[0]).toMatchObject({
      mistake: 'negated',
      message: expect.stringMatching(/^your ∂f\/∂t0 has the wrong sign: it is the true value negated — your ∂f\/∂t0 = 0\.002473 /),
    });
    // at random points: the first point where it is wrong, and at how many it was
    const rand = byName(results, 'wrong: exercise ln(sin(x) cos(x))');
    expect(rand.samples).toBe(5);
    expect(rand.failures[0].message).toMatch(
      /^your ∂f\/∂x = [\d.]+ at x=[\d.]+; the true value is -?[\d.]+ \(finite differences agree: -?[\d.]+\); off by \d+%, beyond rtol 1e-5, atol 1e-7; wrong at 5 of 5 points$/,
    );
    // no mistake explains it
    expect(rand.failures[0].mistake).toBeUndefined();
    const x = rand.failures[0].point.x as number;
    expect(rand.failures[0].truth).toBeCloseTo(1 / Math.tan(x) - Math.tan(x), 10);
  });

  it('names tensor entries 1-based, says how many entries are wrong, and reports a wrong shape', () => {
    const ce = byName(results, 'wrong: softmax cross-entropy');
    expect(ce.failures[0].message).toMatch(
      /^your ∂f\/∂z\[2\] = 0\.7054 at z=\[1, 2, -1\]; the true value is -0\.2946 \(finite differences agree: -0\.2946\); off by 340%, beyond rtol 1e-5, atol 1e-7; wrong in 1 of 3 entries$/,
    );
    const two = byName(results, 'wrong: ||Wx||^2 with respect to W, the 2');
    expect(two.failures[0].entry).toMatch(/^∂f\/∂W\[[1-3],[1-4]\]$/);
    expect(two.failures[0].message).toMatch(/; wrong in 12 of 12 entries, at 3 of 3 points$/);
    expect(two.failures[0].truth! / two.failures[0].yours!).toBeCloseTo(2, 10);
    expect(two.failures[0]).toMatchObject({
      mistake: 'factor',
      message: expect.stringMatching(/^your ∂f\/∂W is off by a constant factor: it is ½ × the true value — /),
    });
    const t = byName(results, 'wrong: ||Wx||^2 with respect to W, transposed');
    expect(t.failures[0]).toMatchObject({ kind: 'shape', mistake: 'transposed' });
    expect(t.failures[0].message).toMatch(
      /^your ∂f\/∂W is 4×3 but W is 3×4 \(at W \(3×4\), x=\[\[.*\]\]\) — it is the transpose of the true value \(a gradient has the shape of its variable\); wrong at 5 of 5 points$/,
    );
  });

  it('points a failure at the line of the wrong answer', () => {
    const text = readFileSync(join(ROOT, 'fixtures/homework/exercises.yaml'), 'utf8').split('\n');
    for (const r of results.filter((x) => x.status === 'fail' && x.file.endsWith('exercises.yaml'))) {
      for (const f of r.failures) {
        const variable = f.field.split('.').at(-1)!;
        expect(text[f.line - 1], r.name).toMatch(new RegExp(`\\b${variable}:`));
      }
    }
  });
});

describe('running a case', () => {
  it('checks autodiff against finite differences even without expect', () => {
    const r = run1('- f: sum(exp(W*x))\n  at: { W: "randn(2,3)", x: [1, 2, 3] }\n  samples: 2\n');
    expect(r).toMatchObject({ status: 'pass', samples: 2, variables: ['W', 'x'], expected: [], score: { earned: 1, max: 1 } });
  });

  it('is deterministic: the same seed draws the same points, another seed others', () => {
    const yaml = (seed: number) => `- f: (x + y) * sin(x)\n  at: random\n  samples: 3\n  seed: ${seed}\n  expect:\n    gradient: { x: sin(x) }\n`;
    const a = run1(yaml(1));
    const b = run1(yaml(1));
    const c = run1(yaml(2));
    expect(a.failures[0].point).toEqual(b.failures[0].point);
    expect(a.failures[0].message).toBe(b.failures[0].message);
    expect(a.failures[0].point).not.toEqual(c.failures[0].point);
    // the draws stay inside the ranges
    const r = run1('- f: x + y\n  ranges: { x: [10, 11], y: [-1, -0.5] }\n  expect:\n    gradient: { x: 2 }\n');
    const p = r.failures[0].point as { x: number; y: number };
    expect(p.x).toBeGreaterThanOrEqual(10);
    expect(p.x).toBeLessThan(11);
    expect(p.y).toBeGreaterThanOrEqual(-1);
    expect(p.y).toBeLessThan(-0.5);
  });

  it('redraws random points where the formula is not finite, and says so', () => {
    const r = run1('- f: log(x) + sqrt(y)\n  at: random\n  samples: 4\n  expect:\n    gradient: { x: 1/x }\n');
    expect(r.status).toBe('pass');
    expect(r.samples).toBe(4);
    expect(r.warnings.join('\n')).toMatch(/\d+ random points? skipped where f or its gradient is not finite/);
    const never = run1('- f: log(-x^2 - 1)\n  at: random\n');
    expect(never.status).toBe('error');
    expect(never.error!.message).toBe('f or its gradient is not finite at any of the 100 random points tried (x in [-3, 3])');
    expect(never.error!.hint).toContain('ranges: { x: [0.1, 3] }');
  });

  it('at a fixed point, a value that is not finite is a failure that says where', () => {
    const r = run1('- f: log(x - y)\n  at: { x: 0.5, y: 1 }\n');
    expect(r.status).toBe('fail');
    expect(r.failures[0].kind).toBe('nonfinite');
    expect(r.failures[0].message).toMatch(/^f is NaN at x=0\.5, y=1 \(/);
  });

  it('reports a wrong autodiff (a non-differentiable point) against finite differences', () => {
    // |x| at 0: autodiff gives 0 (the subgradient), differences cross the kink and cannot judge
    // with no answer, autodiff against the differences is the whole verdict, and nothing judged is not a pass
    const kink = run1('- f: abs(x)\n  at: { x: 0 }\n');
    expect(kink.status).toBe('fail');
    expect(kink.failures[0]).toMatchObject({ kind: 'unjudged', entry: 'f' });
    expect(kink.failures[0].message).toMatch(
      /^finite differences could not judge the only entry: nothing judged is not a pass at x=0 — move the point off the kink \(at:\), or give the expected answer \(expect:\)$/,
    );
    expect(kink.warnings.join('\n')).toMatch(/kink/);
    // with an answer, the answer is judged against autodiff; the differences' silence at the kink is a warning
    const answered = run1('- f: abs(x) + y^2\n  at: { x: 0, y: 1 }\n  expect: { gradient: { y: 2 } }\n');
    expect(answered.status).toBe('pass');
    expect(run1('- f: abs(x)\n  at: { x: 0 }\n  expect: { gradient: { x: 0 } }\n').status).toBe('pass');
    // a kink beside judged entries is no failure
    expect(run1('- f: abs(x) + y^2\n  at: { x: 0, y: 1 }\n').status).toBe('pass');
    // a fixed step equal to the period: the differences agree with each other, and are wrong
    const r = run1('- f: sin(200*pi*x)\n  at: { x: 0.3 }\n  eps: 0.01\n');
    expect(r.status).toBe('fail');
    expect(r.failures[0]).toMatchObject({ kind: 'autodiff', entry: '∂f/∂x' });
    expect(r.failures[0].message).toMatch(/^autodiff ∂f\/∂x = -?[\d.]+ at x=0\.3, but finite differences give -?[\d.e-]+ \(abs err/);
  });

  it('expected values and gradients as formulas may use named steps and inline functions', () => {
    expect(run1('- f: q = x + y; f = q * z\n  at: { x: -2, y: 5, z: -4 }\n  expect:\n    value: q*z\n    gradient: { z: q, x: z }\n').status).toBe('pass');
    const r = run1('- f: q = x + y; f = q * z\n  at: { x: -2, y: 5, z: -4 }\n  expect:\n    value: q\n');
    expect(r.failures[0].message).toBe('your f = 3 at x=-2, y=5, z=-4; the true value is -12; off by 130%, beyond rtol 1e-5, atol 1e-7');
  });

  it('a case that cannot run is an error pointing at its field, with a column into the formula', () => {
    const cases = parseCases(readFileSync(join(ROOT, 'fixtures/ci/broken/cases.yaml'), 'utf8'), 'broken.yaml').cases;
    const results = cases.map((c) => runCase(c));
    expect(results.map((r) => r.status)).toEqual(['pass', 'error', 'error', 'error', 'error', 'error', 'error', 'error', 'pass']);
    const [, sinn, missing, shape, key, q, parse, nof] = results;
    expect(sinn.error).toMatchObject({ code: 'unknown-function', message: 'unknown function sinn', hint: 'did you mean sin?', line: 10, col: 16, field: 'f' });
    expect(missing.error).toMatchObject({ code: 'missing-value', message: 'no value for the variable z', line: 14, col: 16 });
    expect(shape.error).toMatchObject({ code: 'shape', line: 18, col: 11 });
    expect(shape.error!.message).toContain('[2,3] * [2]');
    expect(key.error).toMatchObject({ message: 'unknown key expcet:', hint: 'did you mean expect:?', line: 23 });
    expect(q.error).toMatchObject({ message: 'expect.gradient.q: the formula has no variable or named step q', line: 29 });
    expect(parse.error).toMatchObject({ field: 'expect.gradient.x', line: 34, col: 26, source: '2*x +' });
    expect(nof.error).toMatchObject({ message: 'the case has no f: (the formula to check)', line: 36 });
    const report = summarize(['broken.yaml'], [], results, 0);
    expect(report.summary).toMatchObject({ total: 9, passed: 2, failed: 0, errors: 7 });
    expect(exitCode(report)).toBe(1);
    expect(exitCode(summarize(['x'], [{ file: 'x', code: 'io', message: 'x: cannot read it' }], [results[0]], 0))).toBe(2);
    expect(exitCode(summarize(['x'], [], [results[0], results[8]], 0))).toBe(0);
  });

  it('a command-line case uses the flags’ names in its messages', () => {
    const r = runCase(inlineCase('x*y', { at: ['x=1,y=2'], expect: { q: '1' } }));
    expect(r.error!.message).toBe('--expect q: the formula has no variable or named step q');
    const w = runCase(inlineCase('x*y', { at: ['x=1,y=2'], expect: { y: 'x' }, wrt: ['x'] }));
    expect(w.error!.message).toBe('--expect y: y is not differentiated (--wrt x)');
    const ok = runCase(inlineCase('(x+y)*sin(x)', { expect: { x: 'sin(x)+(x+y)*cos(x)', y: 'sin(x)' }, samples: 5 }));
    expect(ok).toMatchObject({ status: 'pass', samples: 5 });
  });
});
