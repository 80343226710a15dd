import { describe, expect, it } from 'vitest';
import { grad, type GradResult } from '../../src/subjects/formula/grad.js';
import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { nativeEngine } from '../native/harness.js';

/**
 * Random formulas end to end: the whole pipeline (value, reverse and forward gradients,
 * every node's value and adjoint, every edge, the finite-difference check) through the
 * native engine and through the TypeScript engine must agree. Formulas mix scalars,
 * vectors and matrices: broadcasting, products, reductions, softmax, indexing, array
 * literals, kinks (relu, abs, max, conditionals) and rounding.
 *
 * Tolerance: 1e-9 relative to max(1, |a|, |b|). Each op agrees to 1e-12 (native.test.ts);
 * through a chain of ops the last-bit differences of two libms (V8's fdlibm port and
 * glibc) are amplified by the chain's condition number, so end to end is looser.
 */
const RUNS = Number(process.env.NATIVE_FORMULA_RUNS ?? 300);

type Kind = 's' | 'v4' | 'v3' | 'm34' | 'm43' | 'm33';
const VARS: Record<Kind, string[]> = { s: ['s', 't'], v4: ['v'], v3: ['u'], m34: ['A'], m43: ['B'], m33: ['C'] };

class Gen {
  constructor(private rng: Rng) {}
  pick<T>(xs: T[]): T {
    return xs[this.rng.int(xs.length)];
  }
  num(): string {
    const v = (this.rng.next() * 4 - 2).toFixed(2);
    return v.startsWith('-') ? `(${v})` : v;
  }
  /** an expression of the given kind */
  e(k: Kind, depth: number): string {
    if (depth <= 0 || this.rng.next() < 0.2) return k === 's' && this.rng.next() < 0.3 ? this.num() : this.pick(VARS[k]);
    const d = depth - 1;
    const sub = (kk: Kind = k) => this.e(kk, d);
    const ew = k !== 's';
    const choices: (() => string)[] = [
      // elementwise, the same kind
      () => `${this.pick(['sin', 'cos', 'tanh', 'sigmoid', 'softplus', 'relu', 'abs', 'atan', 'asinh', 'square'])}(${sub()})`,
      () => `exp(${sub()} / 4)`,
      () => `sqrt(${sub()}${ew ? '.^' : '^'}2 + 1)`,
      () => `log(${sub()}${ew ? '.^' : '^'}2 + 1)`,
      () => `cube(${sub()} / 3)`,
      () => `(${sub()} ${this.pick(['+', '-', ew ? '.*' : '*'])} ${sub()})`,
      () => `${sub()} ${ew ? './' : '/'} (${sub()}${ew ? '.^' : '^'}2 + 1)`,
      () => `(${sub()}${ew ? '.^' : '^'}2 + 1)${ew ? '.^' : '^'}(${this.num()})`,
      () => `${this.pick(['max', 'min', 'hypot'])}(${sub()}, ${sub()})`,
      () => `atan2(${sub()}, ${sub()}${ew ? '.^' : '^'}2 + 1)`,
      () => `(${sub('s')} > ${sub('s')} ? ${sub()} : ${sub()})`,
      () => `${this.pick(['floor', 'round', 'sign'])}(${sub()}) ${ew ? '.*' : '*'} ${sub()}`,
    ];
    // broadcasting a scalar into a tensor
    if (ew)
      choices.push(
        () => `(${sub('s')} ${this.pick(['+', '*', '-'])} ${sub()})`,
        () => `${sub()} ${this.pick(['.*', '+'])} ${sub('s')}`,
      );
    switch (k) {
      case 's':
        choices.push(
          () => `${this.pick(['sum', 'mean', 'max', 'min', 'norm', 'logsumexp'])}(${sub(this.pick(['v4', 'v3']))})`,
          () => `${this.pick(['sum', 'mean', 'max', 'min'])}(${sub(this.pick(['m34', 'm33']))})`,
          () => `norm(${sub('v4')}, ${this.pick(['1', '2', 'Infinity'])})`,
          () => `norm(${sub('m34')}, "fro")`,
          () => `prod(${sub('v3')} / 4 + 1)`,
          () => `dot(${sub('v4')}, ${sub('v4')})`,
          () => `trace(${sub('m33')})`,
          () => `${sub('v4')}' * ${sub('v4')}`,
          () => `${sub('v4')}[${1 + this.rng.int(4)}]`,
          () => `${sub('m34')}[${1 + this.rng.int(3)}, ${1 + this.rng.int(4)}]`,
          () => `sum(softmax(${sub('v3')}) .* ${sub('v3')})`,
          () => `sum(logsoftmax(${sub('m34')}) .* ${sub('m34')})`,
        );
        break;
      case 'v4':
        choices.push(
          () => `${sub('m34')}' * ${sub('v3')}`,
          () => `${sub('m43')} * ${sub('v3')}`,
          // a reduction keeps its dimension ([1,4], [3,1]): the index makes it the vector again
          () => `sum(${sub('m34')}, 1)[1, :]`,
          () => `softmax(${sub('v4')})`,
          () => `[${sub('s')}, ${sub('s')}, ${sub('s')}, ${sub('s')}]`,
        );
        break;
      case 'v3':
        choices.push(
          () => `${sub('m34')} * ${sub('v4')}`,
          () => `sum(${sub('m34')}, 2)[:, 1]`,
          () => `logsumexp(${sub('m34')})[:, 1]`,
          () => `diag(${sub('m33')})`,
          () => `prod(${sub('m34')} / 4 + 1, 2)[:, 1]`,
          () => `mean(${sub('m43')}, 1)[1, :]`,
        );
        break;
      case 'm34':
        choices.push(
          () => `${sub('m33')} * ${sub('m34')}`,
          () => `${sub('m43')}'`,
          () => `(${sub('m34')} + ${sub('v4')})`,
          () => `softmax(${sub('m34')})`,
        );
        break;
      case 'm43':
        choices.push(
          () => `${sub('m34')}'`,
          () => `${sub('m43')} * ${sub('m33')}`,
        );
        break;
      case 'm33':
        choices.push(
          () => `${sub('m34')} * ${sub('m43')}`,
          () => `diag(${sub('v3')})`,
          () => `[${sub('v3')}, ${sub('v3')}, ${sub('v3')}]`,
        );
        break;
    }
    // parenthesised, so a following ' or operator applies to the whole
    return `(${this.pick(choices)()})`;
  }
}

function values(rng: Rng): Record<string, Tensor> {
  const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  return { s: t([]), t: t([]), v: t([4]), u: t([3]), A: t([3, 4]), B: t([4, 3]), C: t([3, 3]) };
}

function agree(a: number, b: number, rel: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Every number of two results, paired by path; the first pair that disagrees. */
function firstDifference(a: unknown, b: unknown, rel: number, path = ''): string | null {
  if (typeof a === 'number' && typeof b === 'number') return agree(a, b, rel) ? null : `${path}: native ${a}, js ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: lengths ${a.length} and ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], rel, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rel, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${String(a)} and ${String(b)}`;
}

/** The parts of a result both engines must agree on (the engine name aside). */
const comparable = (r: GradResult) => ({
  value: r.value,
  gradient: r.gradient,
  forward: r.forward,
  nodes: r.nodes.map((n) => ({ value: n.value, grad: n.grad })),
  edges: r.edges.map((e) => ({ from: e.from, to: e.to, localValue: e.localValue, upstream: e.upstream, downstream: e.downstream })),
});

describe('native = js on random formulas, end to end', () => {
  it(`${RUNS} random formulas over scalars, vectors and matrices`, () => {
    nativeEngine();
    const rng = new Rng(2024);
    const gen = new Gen(rng);
    let checked = 0;
    for (let run = 0; run < RUNS; run++) {
      const formula = `${gen.e('s', 4)} + 0*(s + t + sum(v) + sum(u) + sum(A) + sum(B) + sum(C))`;
      const vals = values(rng);
      const js = grad(formula, vals, { engine: 'js', edges: true });
      const nat = grad(formula, vals, { engine: 'native', edges: true });
      expect(nat.engine).toBe('native');
      const d = firstDifference(comparable(nat), comparable(js), 1e-9);
      if (d) expect.fail(`${formula}\n${d}`);
      // the check: the same verdict; entries judged the same way except where a step sits on a kink
      expect(nat.check?.passed, formula).toBe(js.check?.passed);
      nat.check!.entries.forEach((e, k) => {
        const j = js.check!.entries[k];
        expect(e.entry).toBe(j.entry);
        if (e.status !== j.status) expect([e.status, j.status].sort(), `${formula} ${e.entry}`).toContain('kink');
        else if (e.status === 'pass') expect(agree(e.fd, j.fd, 1e-6), `${formula} ${e.entry}: fd ${e.fd} vs ${j.fd}`).toBe(true);
      });
      checked++;
    }
    expect(checked).toBe(RUNS);
  });
});
