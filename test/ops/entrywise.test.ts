import { describe, expect, it } from 'vitest';
import { EagerOps, jvpNow, vjpNow } from '../../src/core/ops/eager.js';
import { ELEMENTWISE, entrywiseRules, ruleFor, type ElementwiseDef } from '../../src/core/ops/elementwise.js';
import { scalarFormula } from '../../src/core/ops/formula.js';
import { argName } from '../../src/core/ops/types.js';
import { Rng } from '../../src/core/random.js';
import { sizeOf, type Shape, type Tensor } from '../../src/core/tensor.js';

/**
 * The TypeScript engine computes an elementwise op's vjp and jvp entry by entry from its
 * partial formulas (ops/eager.ts, formula.ts scalarFormula) instead of running the graph
 * rules through eager tensor ops. Both must give the same numbers, bit for bit: every
 * elementwise op, every arity it has (max and min with 3 and 4 arguments), broadcasting,
 * and the entries where rules differ from the obvious product: a zero upstream gradient
 * times an infinite partial, kinks (0 for abs, ties for max), NaN and ±Infinity.
 */

/** The graph rule computed through eager ops: what vjpNow does when no entrywise path applies. */
function vjpByGraph(def: ElementwiseDef, ins: Tensor[], out: Tensor, g: Tensor, need: boolean[]): (Tensor | null)[] {
  const G = new EagerOps();
  const ids = ins.map((t) => G.value(t));
  return def.vjpGraph!(G, ids, G.value(out), G.value(g), {}, need).map((c, i) => (need[i] && c !== null && c !== undefined ? G.tensor(c) : null));
}

function jvpByGraph(def: ElementwiseDef, ins: Tensor[], out: Tensor, dots: (Tensor | null)[]): Tensor | null {
  const G = new EagerOps();
  const ids = ins.map((t) => G.value(t));
  const t = def.jvpGraph!(
    G,
    ids,
    G.value(out),
    dots.map((d) => (d ? G.value(d) : null)),
    {},
  );
  return t === null ? null : G.tensor(G.broadcastTo(t, out.shape));
}

const SPECIAL = [0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, Number.NaN, 1e-300, 1e300];

function tensor(shape: Shape, rng: Rng, special: boolean): Tensor {
  const data = new Float64Array(sizeOf(shape));
  for (let k = 0; k < data.length; k++) data[k] = special && rng.next() < 0.5 ? SPECIAL[Math.floor(rng.next() * SPECIAL.length)] : rng.next() * 6 - 3;
  return { shape, data };
}

function sameBits(a: Tensor | null, b: Tensor | null): void {
  expect(a === null).toBe(b === null);
  if (!a || !b) return;
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.data).map(String)).toEqual(Array.from(b.data).map(String));
  // -0 and 0 print alike: compare signs too
  expect(Array.from(a.data).map((v) => Object.is(v, -0))).toEqual(Array.from(b.data).map((v) => Object.is(v, -0)));
}

/** Input shapes for an op of `arity` arguments: all alike, one scalar, a row against a matrix. */
function shapeSets(arity: number): Shape[][] {
  const same = (s: Shape) => Array.from({ length: arity }, () => s);
  const sets: Shape[][] = [same([]), same([4]), same([2, 3])];
  if (arity > 1) sets.push([[], ...Array.from({ length: arity - 1 }, () => [3])], [[2, 3], ...Array.from({ length: arity - 1 }, () => [1, 3])]);
  return sets;
}

describe('elementwise vjp and jvp entry by entry', () => {
  const ops = ELEMENTWISE.filter((d) => entrywiseRules(d));

  it('covers the elementwise ops', () => {
    expect(ops.length).toBeGreaterThan(40);
    expect(ops.map((d) => d.name)).toEqual(expect.arrayContaining(['multiply', 'pow', 'select', 'max', 'abs', 'gmul']));
    // every partial formula is computed entry by entry (none falls back to the eager ops)
    for (const def of ops) {
      for (const arity of [...def.rules.map((r, i) => (r ? i + 1 : 0)).filter((a) => a > 0), ...(def.variadic ? [3, 4] : [])]) {
        const rule = ruleFor(def, arity);
        const names = [...Array.from({ length: arity }, (_, j) => argName(j)), 's'];
        for (const text of rule.local) if (text !== '0' && !rule.constantOutput) expect(scalarFormula(text, names), `${def.name}: ${text}`).not.toBeNull();
      }
    }
    // a formula with anything not entry by entry is left to the eager ops
    expect(scalarFormula('sum(a)', ['a', 's'])).toBeNull();
    expect(scalarFormula('a*q', ['a', 's'])).toBeNull();
  });

  for (const def of ops) {
    it(`${def.name}: the same numbers as its graph rules`, () => {
      const rng = new Rng(7);
      const arities = def.rules.map((r, i) => (r ? i + 1 : 0)).filter((a) => a > 0);
      if (def.variadic) arities.push(3, 4);
      for (const arity of arities) {
        for (const shapes of shapeSets(arity)) {
          for (const special of [false, true]) {
            const ins = shapes.map((s) => tensor(s, rng, special));
            const shape = def.shape(
              ins.map((t) => t.shape),
              {},
            );
            const out = { shape, data: new Float64Array(sizeOf(shape)) };
            def.forward(ins, {}, out.data);
            const g = tensor(shape, rng, special);
            if (special) g.data[0] = 0;
            const need = ins.map((_, i) => i !== 1 || arity === 1 || rng.next() < 0.7);
            const fast = vjpNow(def.name, ins, out, g, {}, need);
            const slow = vjpByGraph(def, ins, out, g, need);
            fast.forEach((c, i) => sameBits(c, slow[i]));
            const dots = ins.map((t, i) => (i === 0 || rng.next() < 0.7 ? tensor(t.shape, rng, special) : null));
            sameBits(jvpNow(def.name, ins, out, dots, {}), jvpByGraph(def, ins, out, dots));
          }
        }
      }
    });
  }
});
