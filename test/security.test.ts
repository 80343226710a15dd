import { describe, expect, it } from 'vitest';
import { AgError } from '../src/core/errors.js';
import { grad } from '../src/subjects/formula/grad.js';
import { parseAt } from '../src/core/values.js';

/** No user text reaches mathjs's evaluator: the dangerous names are refused in formulas and in values. */
const ATTEMPTS = [
  'import({x: 1}, {override: true})',
  'createUnit("foo")',
  'evaluate("1+1")',
  'parse("x")',
  'simplify("x+x")',
  'derivative("x^2", "x")',
  'compile("x")',
  'x.constructor',
  'x["constructor"]',
  'f = x.constructor; f',
  'config({number: "BigNumber"})',
];

describe('security', () => {
  for (const text of ATTEMPTS) {
    it(`formula: ${text}`, () => {
      expect(() => grad(text, { x: 1 })).toThrow(AgError);
    });
    it(`value: ${text}`, () => {
      expect(() => parseAt([`y=${text}`], { seed: 1 })).toThrow(AgError);
    });
  }
});
