import { describe, expect, it } from 'vitest';
import { FORMULA_FUNCTIONS, FUNCTIONS, OPS, PRINTERS } from '../../src/core/ops/index.js';

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

  it('is what a formula may call, with the same arities', () => {
    expect([...FUNCTIONS.keys()]).toEqual([...FORMULA_FUNCTIONS.keys()]);
    for (const [name, f] of FORMULA_FUNCTIONS) expect(FUNCTIONS.get(name)).toEqual(f.arity);
    // an op that is a function of its own name lowers to itself, unless its entry says otherwise
    expect(FORMULA_FUNCTIONS.get('sin')).toMatchObject({ op: 'sin' });
    expect(FORMULA_FUNCTIONS.get('sin')?.lower).toBeUndefined();
    expect(FORMULA_FUNCTIONS.get('dotPow')).toMatchObject({ op: 'pow' });
    expect(FORMULA_FUNCTIONS.get('dotPow')?.lower).toBeUndefined();
    // the irregular ones carry their lowering: one function shared by sum, mean and prod
    expect(typeof FORMULA_FUNCTIONS.get('sum')?.lower).toBe('function');
    expect(FORMULA_FUNCTIONS.get('mean')?.lower).toBe(FORMULA_FUNCTIONS.get('sum')?.lower);
    expect(FUNCTIONS.has('matmul')).toBe(false);
    expect(FUNCTIONS.has('select')).toBe(false);
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
