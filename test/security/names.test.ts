import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grad } from '../../src/subjects/formula/grad.js';
import { parseAt } from '../../src/core/values.js';
import { attack } from './harness.js';

/** Class 7: names are data, never prototype lookups. */
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const dir = mkdtempSync(join(tmpdir(), 'ag-names-'));

describe('names are data', () => {
  it('each works as a variable in --at, the formula and the JSON output', () => {
    const formula = NAMES.join(' * ');
    const at = NAMES.map((n, i) => `${n}=${i + 2}`).join(',');
    const r = attack(['grad', formula, '--at', at, '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(Object.keys(d.gradient).sort()).toEqual([...NAMES].sort());
    expect(Object.keys(d.point).sort()).toEqual([...NAMES].sort());
    expect(d.gradient.__proto__).toBe(3 * 4 * 5 * 6);
    expect(d.value).toBe(2 * 3 * 4 * 5 * 6);
  });

  it('a value given for an unused __proto__ is a warning, never silently dropped', () => {
    const r = grad('x^2', parseAt(['x=1,__proto__=5'], { seed: 1 }));
    expect(r.warnings.map((w) => w.message)).toContain('a value was given for __proto__, which the formula does not use');
    const t = attack(['grad', 'toString + 1', '--at', 'x=1']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/no value for the variable toString/);
    expect(t.stderr).not.toMatch(/constant|function/);
  });

  it('in case files: at:, expect.gradient and value files keep every name', () => {
    const vals = join(dir, 'v.json');
    writeFileSync(vals, '{"constructor": 2, "__proto__": 3}');
    const f = join(dir, 'names.yaml');
    writeFileSync(
      f,
      [
        '- f: constructor * __proto__',
        '  at: { constructor: 2, __proto__: 3 }',
        '  expect: { gradient: { __proto__: 2, constructor: 3 } }',
        '- f: constructor * __proto__',
        '  at: "@v.json"',
        '  expect: { gradient: { __proto__: 5, constructor: 3 } }',
        '',
      ].join('\n'),
    );
    const r = attack(['check', f, '--reporter', 'json']);
    const cases = JSON.parse(r.stdout).cases;
    expect(cases[0].status).toBe('pass');
    expect(cases[0].expected.sort()).toEqual(['gradient.__proto__', 'gradient.constructor']);
    expect(cases[1].status).toBe('fail');
    expect(cases[1].failures[0].entry).toBe('∂f/∂__proto__');
  });
});
