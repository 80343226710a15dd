import { describe, expect, it } from 'vitest';
import { FORMULA_FUNCTIONS, isFunctionName, OPS, PRINTERS, type FormulaFunction } from '../../src/core/ops/index.js';
import { grad, prepare, toTensors } from '../../src/subjects/formula/grad.js';
import { scalar } from '../../src/core/tensor.js';

/** The table of formula functions: the one place a function name's meaning is written. */
describe('formula functions', () => {
  it('names only ops of the op table, lowered or printed', () => {
    for (const f of FORMULA_FUNCTIONS.values()) {
      // an entry without a lowering of its own is its op; one with a lowering names its op when it has one
      if (!f.lower || f.op !== undefined) expect(OPS.has(f.op ?? ''), `${f.name} lowers to ${f.op}`).toBe(true);
      for (const op of Object.keys(f.print ?? {})) expect(OPS.has(op), `${f.name} prints ${op}`).toBe(true);
    }
    for (const op of PRINTERS.keys()) expect(OPS.has(op)).toBe(true);
  });

  it('is what a formula may call', () => {
    for (const name of FORMULA_FUNCTIONS.keys()) expect(isFunctionName(name), name).toBe(true);
    // an op that is a function of its own name lowers to itself, unless its entry says otherwise
    expect(FORMULA_FUNCTIONS.get('sin')).toMatchObject({ op: 'sin' });
    expect(FORMULA_FUNCTIONS.get('sin')?.lower).toBeUndefined();
    expect(FORMULA_FUNCTIONS.get('dotPow')).toMatchObject({ op: 'pow' });
    expect(FORMULA_FUNCTIONS.get('dotPow')?.lower).toBeUndefined();
    // the irregular ones carry their lowering: one function shared by sum, mean and prod
    expect(typeof FORMULA_FUNCTIONS.get('sum')?.lower).toBe('function');
    expect(FORMULA_FUNCTIONS.get('mean')?.lower).toBe(FORMULA_FUNCTIONS.get('sum')?.lower);
    expect(isFunctionName('matmul')).toBe(false);
    expect(isFunctionName('select')).toBe(false);
  });

  it('a new function is one entry: parsed, its arity checked, lowered, differentiated, suggested', () => {
    const table = FORMULA_FUNCTIONS as Map<string, FormulaFunction>;
    // cube(x) = x .^ 3, by a lowering of its own
    table.set('cube', { name: 'cube', arity: [1, 1], lower: (c) => c.write('pow', [c.arg(0), c.constant(scalar(3))]) });
    try {
      const at = toTensors({ x: 2, v: [1, -2] });
      const r = grad('cube(x) + sum(cube(v))', at, { check: false, forwardMode: false, edges: false });
      expect(r.value).toBe(8 + 1 - 8);
      expect(r.gradient.x).toBe(12);
      expect(r.gradient.v).toEqual([3, 12]);
      expect(prepare('cube(x)', at).nodes.map((n) => n.op)).toEqual(['input', 'const', 'pow']);
      expect(() => prepare('cube(x, x)', at)).toThrow(/cube takes 1 argument, not 2/);
      expect(() => prepare('cub(x)', at)).toThrow(expect.objectContaining({ hint: 'did you mean cube?' }));
    } finally {
      table.delete('cube');
    }
    expect(isFunctionName('cube')).toBe(false);
  });

  it('prints each op at most once', () => {
    const seen = new Map<string, string>();
    for (const f of FORMULA_FUNCTIONS.values()) {
      for (const op of Object.keys(f.print ?? {})) {
        expect(seen.get(op), `${op} printed by ${seen.get(op)} and ${f.name}`).toBeUndefined();
        seen.set(op, f.name);
      }
    }
  });
});
