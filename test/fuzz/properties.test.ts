import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import { gradcheck } from '../../src/api/gradcheck.js';
import type { Tensor } from '../../src/core/tensor.js';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { toJson, gradJson } from '../../src/report/json.js';
import { cli } from '../helpers.js';

/**
 * Property tests over random well-formed formulas built from the op table, and the
 * parser on random and mutated text. `npm test` runs 500 formulas; `npm run fuzz`
 * (FUZZ_RUNS=10000) runs many more.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

// smooth scalar building blocks, wrapped to stay in their domains
const UNARY = [
  (a: string) => `sin(${a})`,
  (a: string) => `cos(${a})`,
  (a: string) => `tanh(${a})`,
  (a: string) => `exp(${a} / 4)`,
  (a: string) => `log((${a})^2 + 1)`,
  (a: string) => `sqrt((${a})^2 + 1)`,
  (a: string) => `atan(${a})`,
  (a: string) => `sigmoid(${a})`,
  (a: string) => `softplus(${a})`,
  (a: string) => `asinh(${a})`,
  (a: string) => `-(${a})`,
  (a: string) => `(${a})^2`,
  (a: string) => `cube(${a} / 3)`,
  (a: string) => `log1p((${a})^2)`,
  (a: string) => `cbrt((${a})^2 + 2)`,
];
// the same, elementwise over tensors
const UNARY_T = [
  (a: string) => `sin(${a})`,
  (a: string) => `tanh(${a})`,
  (a: string) => `exp(${a} / 4)`,
  (a: string) => `log(${a}.^2 + 1)`,
  (a: string) => `sqrt(${a}.^2 + 1)`,
  (a: string) => `sigmoid(${a})`,
  (a: string) => `softplus(${a})`,
  (a: string) => `-(${a})`,
  (a: string) => `(${a}).^2`,
  (a: string) => `${a} ./ (${a}.^2 + 1)`,
  (a: string) => `(${a}.^2 + 1).^0.3`,
  (a: string) => `2 .^ (${a} / 3)`,
];
const BINARY = [
  (a: string, b: string) => `(${a} + ${b})`,
  (a: string, b: string) => `(${a} - ${b})`,
  (a: string, b: string) => `(${a} * ${b})`,
  (a: string, b: string) => `${a} / ((${b})^2 + 1)`,
  (a: string, b: string) => `hypot(${a}, ${b} + 2)`,
  (a: string, b: string) => `atan2(${a}, (${b})^2 + 1)`,
  (a: string, b: string) => `((${a})^2 + 1)^(${b} / 5)`,
];

const scalarFormula = (leaves: string[]) =>
  fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(...leaves),
      fc.double({ min: -3, max: 3, noNaN: true }).map((v) => (v < 0 ? `(${v.toFixed(3)})` : v.toFixed(3))),
      fc.tuple(fc.nat(UNARY.length - 1), tie('e')).map(([k, a]) => UNARY[k](a)),
      fc.tuple(fc.nat(BINARY.length - 1), tie('e'), tie('e')).map(([k, a, b]) => BINARY[k](a, b)),
    ),
  })).e;

function agree(a: number, b: number, rel: number): boolean {
  // a singular point gives NaN/±Inf in both modes alike
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('random formulas: reverse = forward = finite differences', () => {
  it('scalar formulas', () => {
    fc.assert(
      fc.property(
        scalarFormula(['x', 'y', 'z']),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (f, x, y, z) => {
          const formula = `${f} + 0*(x + y + z)`;
          const r = grad(formula, { x, y, z }, { edges: true });
          if (!Number.isFinite(r.value)) return;
          for (const v of ['x', 'y', 'z']) {
            const rev = r.gradient[v] as number;
            const fwd = r.forward![v] as number;
            expect(agree(rev, fwd, 1e-9), `${formula}: ∂/∂${v} reverse ${rev} forward ${fwd}`).toBe(true);
          }
          const bad = r.check!.entries.filter((e) => e.status === 'fail');
          expect(bad, `${formula} at x=${x}, y=${y}, z=${z}`).toEqual([]);
          // the JSON document is well formed and round-trips
          const doc = JSON.parse(toJson(gradJson(r)));
          expect(doc.nodes.length).toBe(r.nodes.length);
          for (const e of doc.edges) {
            expect(doc.nodes[e.from]).toBeTruthy();
            expect(doc.nodes[e.to]).toBeTruthy();
            expect(e.to).toBeGreaterThan(e.from);
          }
        },
      ),
      { numRuns: Math.ceil(RUNS * 0.6), seed: 20261123 },
    );
  });

  it('tensor formulas with broadcasting, products and reductions', () => {
    const vecExpr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        // reductions along a dimension keep it: W is [2,3], so down its columns a row [1,3], transposed a column beside the vectors
        fc.constantFrom(
          'v',
          'u',
          "(W'*(W*v))",
          "(W'*w)",
          '(v .* u)',
          '(a*v)',
          '[a, v[2], a*u[3]]',
          "max(W, [], 1)'",
          "min(W, [], 1)'",
          "norm(W, 2, 1)'",
          "norm(W, 1, 1)'",
          "norm(W, Infinity, 1)'",
        ),
        fc.tuple(fc.nat(UNARY_T.length - 1), tie('e')).map(([k, e]) => UNARY_T[k](e)),
        fc.tuple(fc.constantFrom('+', '-', '.*'), tie('e'), tie('e')).map(([op, a, b]) => `(${a} ${op} ${b})`),
        // down the column (dimension 1): a vector's only lanes, and a column's [3,1]
        fc.tuple(tie('e')).map(([a]) => `softmax(${a}, 1)`),
        fc.tuple(tie('e')).map(([a]) => `(${a} - max(${a}))`),
      ),
    })).e;
    const top = fc
      .tuple(fc.constantFrom('sum', 'mean', 'norm', 'logsumexp', 'prod'), vecExpr)
      .map(([r, e]) => (r === 'prod' ? `prod(tanh(${e}))` : r === 'logsumexp' ? `logsumexp(${e}, 1)` : `${r}(${e})`));
    const vals = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 13, maxLength: 13 });
    fc.assert(
      fc.property(top, vals, (formula, n) => {
        const values = { v: n.slice(0, 3), u: n.slice(3, 6), w: n.slice(6, 8), W: [n.slice(8, 11), [n[11], n[12], n[0]]], a: n[1] };
        const r = grad(`${formula} + 0*(sum(v) + sum(u) + sum(w) + sum(W) + a)`, values, { edges: true });
        if (!Number.isFinite(r.value)) return;
        for (const name of r.variables) {
          const rev = r.gradient[name] as unknown as number[] | number[][] | number;
          const fwd = r.forward![name] as unknown as typeof rev;
          const flat = (x: typeof rev) => (typeof x === 'number' ? [x] : ((x as unknown[]).flat(2) as number[]));
          flat(rev).forEach((g, k) => expect(agree(g, flat(fwd)[k], 1e-9), `${formula}: ∂/∂${name}[${k}] reverse ${g} forward ${flat(fwd)[k]}`).toBe(true));
        }
        expect(
          r.check!.entries.filter((e) => e.status === 'fail'),
          `${formula} at ${JSON.stringify(n)}`,
        ).toEqual([]);
      }),
      { numRuns: Math.ceil(RUNS * 0.3), seed: 4242 },
    );
  });
});

describe('derive of random formulas: every printed derivative is accepted by check --expect', () => {
  // a derivative derive prints, handed back to the check as the student's answer (the library's gradcheck is check's
  // judge): it passes, or derive refused it with one of its documented words (a limit, a point outside the domain)
  const accepted = (formula: string, at: Record<string, Tensor | number>) => {
    let d: ReturnType<typeof derive>;
    try {
      d = derive(formula, { at, simplifyBudgetMs: 60_000 });
    } catch (e) {
      // a formula the language refuses (a shape rule) is refused by grad alike; otherwise only a limit or the domain
      let valid = true;
      try {
        grad(formula, at, { check: false, forwardMode: false, edges: false });
      } catch {
        valid = false;
      }
      expect(e instanceof AgError && (!valid || ['limit', 'domain', 'nonfinite'].includes(e.code)), `${formula}: derive refused: ${String(e)}`).toBe(true);
      return;
    }
    expect(d.check.passed, `${formula}: derive's own cross-check`).toBe(true);
    const r = gradcheck(formula, at, { expect: { gradient: d.derivatives } });
    expect(r.passed, `${formula} at ${JSON.stringify(at)}: ${JSON.stringify(d.derivatives)} → ${r.failures.map((f) => f.message).join('; ')}`).toBe(true);
  };

  it('scalar formulas', () => {
    fc.assert(
      fc.property(scalarFormula(['x', 'y']), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), (f, x, y) =>
        accepted(`${f} + 0*(x + y)`, { x, y }),
      ),
      { numRuns: Math.ceil(RUNS * 0.04), seed: 20261207 },
    );
  });

  it('vector and matrix formulas (products, broadcasting, reductions, softmax)', () => {
    const vec = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(
          'v',
          'u',
          'W*v',
          "W'*u",
          'v .* u',
          'a*v',
          'sum(M, 2)',
          'M*w',
          'max(M, [], 2)',
          "min(W, [], 1)'",
          'norm(M, 2, 2)',
          'norm(W, Infinity, 2)',
        ),
        fc.tuple(fc.nat(UNARY_T.length - 1), tie('e')).map(([k, e]) => UNARY_T[k](e)),
        fc.tuple(fc.constantFrom('+', '-', '.*'), tie('e'), tie('e')).map(([op, a, b]) => `(${a} ${op} ${b})`),
        // down the column (dimension 1): a vector's only lanes, and a column's [3,1]
        fc.tuple(tie('e')).map(([a]) => `softmax(${a}, 1)`),
      ),
    })).e;
    const top = fc
      .tuple(fc.constantFrom('sum', 'mean', 'norm', 'logsumexp', 'q'), vec)
      .map(([r, e]) => (r === 'q' ? `(${e})'*W*(${e})` : r === 'logsumexp' ? `logsumexp(${e}, 1)` : `${r}(${e})`));
    const vals = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 24, maxLength: 24 });
    fc.assert(
      fc.property(top, vals, (formula, n) => {
        const at = sweepValues(n, n[23]);
        accepted(`${formula} + 0*(sum(v) + sum(u) + sum(W) + sum(M) + sum(w) + a)`, at);
      }),
      { numRuns: Math.ceil(RUNS * 0.04), seed: 20261208 },
    );
  });
});

/** The derive sweeps' point: v, u [3], W [3,3], M [3,2], w [2] from 23 drawn numbers, and the scalar a. */
function sweepValues(n: number[], a: number): Record<string, Tensor | number> {
  const t = (shape: number[], data: number[]): Tensor => ({ shape, data: Float64Array.from(data) });
  return { v: t([3], n.slice(0, 3)), u: t([3], n.slice(3, 6)), W: t([3, 3], n.slice(6, 15)), M: t([3, 2], n.slice(15, 21)), w: t([2], n.slice(21, 23)), a };
}

describe('derive of random vector formulas: every printed Jacobian is accepted by check as jacobian.<x>', () => {
  it(
    'vector formulas of vectors and a scalar (products, broadcasting, softmax, an array of scalars)',
    () => {
      const vec = fc.letrec<{ e: string }>((tie) => ({
        e: fc.oneof(
          { depthSize: 'small' },
          fc.constantFrom('v', 'u', '(W*v)', "(W'*u)", '(v .* u)', '(a*v)', '(M*w)', '(v / a)'),
          fc.tuple(fc.nat(UNARY_T.length - 1), tie('e')).map(([k, e]) => UNARY_T[k](e)),
          fc.tuple(fc.constantFrom('+', '-', '.*'), tie('e'), tie('e')).map(([op, a, b]) => `(${a} ${op} ${b})`),
          fc.tuple(tie('e')).map(([a]) => `softmax(${a})`),
          fc.tuple(tie('e')).map(([a]) => `(${a} * sum(${a}))`),
        ),
      })).e;
      const top = fc.oneof(
        vec,
        vec.map((e) => `[sum(${e}), a^2, norm(${e})]`),
      );
      const vals = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 24, maxLength: 24 });
      fc.assert(
        fc.property(top, vals, (formula, n) => {
          // a is kept off 0 (v / a)
          const at = sweepValues(n, 0.5 + Math.abs(n[23]));
          // the matrices are held fixed: a Jacobian is taken with respect to scalars and vectors
          const full = `${formula} + 0*(sum(v) + sum(u) + sum(w) + a)`;
          const wrt = ['v', 'u', 'w', 'a'];
          let d: ReturnType<typeof derive>;
          try {
            d = derive(full, { at, wrt, simplifyBudgetMs: 60_000 });
          } catch (e) {
            // only a limit or a point outside the domain
            expect(e instanceof AgError && ['limit', 'domain', 'nonfinite'].includes(e.code), `${full}: derive refused: ${String(e)}`).toBe(true);
            return;
          }
          expect(d.check.passed, `${full}: derive's own cross-check`).toBe(true);
          const r = gradcheck(full, at, { wrt, expect: { jacobian: d.derivatives } });
          // a point where f itself is not finite (W*v.^2 + 1 = 0) judges nothing
          if (r.failures.length > 0 && r.failures.every((f) => f.kind === 'nonfinite')) return;
          expect(r.passed, `${full}: ${JSON.stringify(d.derivatives)} → ${r.failures.map((f) => f.message).join('; ')}`).toBe(true);
        }),
        { numRuns: Math.ceil(RUNS * 0.03), seed: 20261209 },
      );
      // each run derives, simplifies and cross-checks: about a second on a loaded machine
    },
    Math.max(60_000, RUNS * 120),
  );
});

describe('the check at points of every scale: no false failures (issue 13)', () => {
  // each coordinate ±10^u, u uniform in [-9, 7]: tiny, ordinary and huge in one formula
  const scaled = fc.tuple(fc.double({ min: -9, max: 7, noNaN: true }), fc.boolean()).map(([u, neg]) => (neg ? -1 : 1) * 10 ** u);
  for (const engine of ['js', 'native'] as const) {
    it(`random smooth formulas, ${engine} engine: autodiff is the truth, so a failed entry is a bug of the check`, () => {
      let judged = 0;
      let points = 0;
      fc.assert(
        fc.property(scalarFormula(['x', 'y', 'z']), scaled, scaled, scaled, (f, x, y, z) => {
          const formula = `${f} + 0*(x + y + z)`;
          const r = grad(formula, { x, y, z }, { edges: false, engine });
          // an overflow or a singular point is a true finding, not a false one
          const grads = [...Object.values(r.gradient), ...Object.values(r.forward ?? {})];
          if (!Number.isFinite(r.value) || grads.some((g) => !Number.isFinite(g as number))) return;
          points++;
          const bad = r.check!.entries.filter((e) => e.status === 'fail' || e.status === 'nonfinite');
          expect(bad, `${formula} at x=${x}, y=${y}, z=${z}`).toEqual([]);
          judged += r.check!.entries.filter((e) => e.status === 'pass').length;
        }),
        { numRuns: Math.ceil(RUNS * 0.6), seed: 13_2026 },
      );
      // the check must still judge: most entries of these smooth formulas pass, not "cannot judge"
      expect(judged).toBeGreaterThan(points * 3 * 0.8);
    });
  }
});

describe('the parser and builder on random and mutated text: only clean errors', () => {
  const ALPHABET = 'xyz0123456789.+-*/^()[],;:=<>!?\'"ab sinlogexpsumW '.split('');
  it('random strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ALPHABET), { maxLength: 30 }).map((a) => a.join('')),
        (text) => {
          try {
            grad(
              text,
              {
                x: 0.5,
                y: -0.25,
                z: 1.5,
                W: [
                  [1, 2],
                  [3, 4],
                ],
                a: 2,
                b: [1, 2],
              },
              { edges: true },
            );
          } catch (e) {
            expect(e, `${JSON.stringify(text)} threw ${String(e)}`).toBeInstanceOf(AgError);
            const ag = e as AgError;
            expect(ag.message.length).toBeGreaterThan(0);
            expect(ag.message).not.toMatch(/\n/);
            if (ag.span) {
              expect(ag.span.start).toBeGreaterThanOrEqual(0);
              expect(ag.span.end).toBeLessThanOrEqual((ag.source ?? text).length);
            }
          }
        },
      ),
      { numRuns: Math.ceil(RUNS * 0.4), seed: 7 },
    );
  });

  it('mutated lecture formulas', () => {
    const seeds = [
      '(x+y)*sin(x)',
      'q = x + y; f = q*z',
      '2*(x*y + max(z, x))',
      '1/(1+exp(-(x*y + z)))',
      'sum((W*b).^2)',
      'sigma(t) = 1/(1+exp(-t)); sigma(x)',
      'x > 0 ? x^2 : -x',
      'b[2]*W[1,2]',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(40), fc.constantFrom(...ALPHABET), fc.boolean()), { minLength: 1, maxLength: 4 }),
        (seed, edits) => {
          let text = seed;
          for (const [pos, ch, insert] of edits) {
            const p = pos % (text.length + 1);
            text = insert ? text.slice(0, p) + ch + text.slice(p) : text.slice(0, p) + text.slice(p + 1);
          }
          try {
            grad(
              text,
              {
                x: 0.5,
                y: -0.25,
                z: 1.5,
                W: [
                  [1, 2],
                  [3, 4],
                ],
                b: [1, 2],
              },
              { edges: true },
            );
          } catch (e) {
            expect(e, `${JSON.stringify(text)} threw ${String(e)}`).toBeInstanceOf(AgError);
          }
        },
      ),
      { numRuns: Math.ceil(RUNS * 0.4), seed: 11 },
    );
  });
});

describe('the real CLI on random text: exit 0, 1 or 2, never a crash', () => {
  it('random formulas and values', () => {
    const ALPHABET = 'xy0123456789.+-*/^()[],;:=<>!?\'"sinlogexpsum '.split('');
    const texts = fc.sample(
      fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 20 }).map((a) => a.join('')),
      { numRuns: Math.min(100, Math.max(12, Math.ceil(RUNS / 40))), seed: 99 },
    );
    for (const text of texts) {
      for (const args of [
        ['grad', text, '--at', 'x=0.5,y=2'],
        ['grad', 'x*y', '--at', text],
      ]) {
        const r = cli(args);
        expect([0, 1, 2], `${JSON.stringify(args)}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr, JSON.stringify(args)).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
        if (r.code === 2) expect(r.stderr, JSON.stringify(args)).toMatch(/^error: /);
      }
    }
  }, 300_000);
});
