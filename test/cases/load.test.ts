import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseFileError, expandPaths, inlineCase, loadCaseFile, parseCases } from '../../src/homework/cases/load.js';
import { ROOT } from '../helpers.js';

/** The 1-based line of the file holding `needle` (the first from line `from`). */
function lineOf(text: string, needle: string, from = 1): number {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i].includes(needle)) return i + 1;
  throw new Error(`no line holds ${needle}`);
}

describe('case files', () => {
  it('reads the issue example with the line of every case and field', () => {
    const text = [
      '- name: backprop warm-up',
      '  f: (x + y) * z',
      '  at: { x: -2, y: 5, z: -4 }',
      '  expect:',
      '    value: -12',
      '    gradient: { x: -4, y: -4, z: 3 }',
      '- name: my derivation',
      '  f: (x + y) * sin(x)',
      '  at: random            # or ranges: { x: [-3, 3], y: [0, 1] }',
      '  samples: 5',
      '  expect:',
      '    gradient: { x: "sin(x) + (x + y)*cos(x)", y: "sin(x)" }',
      '',
    ].join('\n');
    const { cases } = parseCases(text, 'hw.yaml');
    expect(cases).toHaveLength(2);
    const [a, b] = cases;
    // numbers in answers keep the text they were written with (judged at its digits); values do not need it
    expect(a).toMatchObject({
      name: 'backprop warm-up',
      line: 1,
      f: '(x + y) * z',
      at: { x: -2, y: 5, z: -4 },
      random: false,
      expect: { value: '-12', gradient: { x: '-4', y: '-4', z: '3' } },
    });
    expect(a.pos.f).toEqual({ line: 2, col: 6 });
    expect(a.pos['expect.value'].line).toBe(5);
    expect(a.pos['expect.gradient.z'].line).toBe(6);
    expect(b).toMatchObject({ name: 'my derivation', line: 7, random: true, samples: 5 });
    expect(b.points).toBeUndefined();
    expect(b.expect!.gradient).toEqual({ x: 'sin(x) + (x + y)*cos(x)', y: 'sin(x)' });
    // quoted formulas: the column is that of the text inside the quotes
    const row = text.split('\n')[11];
    expect(b.pos['expect.gradient.x']).toEqual({ line: 12, col: row.indexOf('sin(x) +') + 1 });
    expect(b.pos['expect.gradient.y']).toEqual({ line: 12, col: row.lastIndexOf('sin(x)') + 1 });
    expect(b.problem).toBeUndefined();
  });

  it('gives the lines of block-style fields in the homework fixture', () => {
    const file = join(ROOT, 'fixtures/homework/exercises.yaml');
    const text = readFileSync(file, 'utf8');
    const { cases } = loadCaseFile(file);
    const c = cases.find((x) => x.name === 'wrong: (x+y)sin(x), product rule forgotten')!;
    expect(c.line).toBe(lineOf(text, 'product rule forgotten'));
    const x = lineOf(text, '      x: sin(x)', c.line);
    expect(c.pos['expect.gradient.x']).toEqual({ line: x, col: 10 });
    expect(c.pos['expect.gradient.y'].line).toBe(x + 1);
  });

  it('reads JSON, with lines, through the same parser', () => {
    const file = join(ROOT, 'fixtures/ci/passing/scalars.json');
    const text = readFileSync(file, 'utf8');
    const { cases } = loadCaseFile(file);
    expect(cases.map((c) => c.name)).toEqual(['sigmoid neuron', 'softplus at random points']);
    expect(cases[1].ranges).toEqual({ a: [0.5, 2], x: [-3, 3] });
    expect(cases[1].pos.ranges.line).toBe(lineOf(text, '"ranges"'));
    expect(cases[0].pos.f).toEqual({ line: lineOf(text, '"f": "sigmoid'), col: 11 });
  });

  it('fills settings from defaults:, a case’s own settings winning', () => {
    const { cases } = parseCases('defaults:\n  rtol: 0.001\n  seed: 3\ncases:\n  - f: x^2\n  - f: x^3\n    rtol: 0.1\n', 'd.yaml');
    expect(cases.map((c) => [c.rtol, c.seed, c.line])).toEqual([
      [0.001, 3, 5],
      [0.1, 3, 6],
    ]);
  });

  it('a case that is written wrong carries a problem with its field, and the others load', () => {
    const text = '- f: x^2\n  expcet: { gradient: { x: 2*x } }\n- at: { x: 1 }\n- f: x\n  ranges: { x: [3, 1] }\n- f: x\n  method: forward\n- f: x\n';
    const { cases } = parseCases(text, 'p.yaml');
    expect(cases.map((c) => c.problem?.key)).toEqual(['expcet', 'f', 'ranges.x', 'method', undefined]);
    expect(cases[0].problem).toMatchObject({ message: 'unknown key expcet:', hint: 'did you mean expect:?' });
    expect(cases[0].pos.expcet.line).toBe(2);
    expect(cases[1].problem!.message).toBe('the case has no f: (the formula to check)');
    expect(cases[2].problem!.message).toContain('[low, high] with low < high');
  });

  it('a value that is not a number, vector or matrix says what it is instead', () => {
    const why = (at: string) => parseCases(`- f: x*y\n  at: { x: ${at}, y: 1 }\n`, 'v.yaml').cases[0].problem?.message;
    expect(why('[[[1]]]')).toMatch(/not a list nested 3 levels deep \(a vector is \[1, 2\], a matrix \[\[1, 2\], \[3, 4\]\]\)$/);
    expect(why('[[[[[1]]]]]')).toMatch(/not a list nested more than 3 levels deep/);
    expect(why('[]')).toMatch(/not an empty list$/);
    expect(why('[[1], []]')).toMatch(/not a list with an empty row$/);
    expect(why('[1, { a: 2 }]')).toMatch(/not a list holding a mapping$/);
    expect(why('{ a: 1 }')).toMatch(/not a mapping$/);
    expect(why('[[1, 2], [3, 4]]')).toBeUndefined();
  });

  it('refuses files that are not case files, with file:line:col', () => {
    const bad = (text: string, file = 'bad.yaml') => {
      try {
        parseCases(text, file);
      } catch (e) {
        expect(e).toBeInstanceOf(CaseFileError);
        return (e as CaseFileError).message;
      }
      throw new Error('no error');
    };
    expect(bad('- f: x\n  at: {x: 1\n- f: y\n')).toMatch(/^bad\.yaml:3:1: the case file is not valid YAML: /);
    expect(bad('[{"f": "x"},\n {"f": "y"', 'bad.json')).toMatch(/^bad\.json:2:\d+: the case file is not valid JSON/);
    expect(bad('f: x\n')).toBe('bad.yaml:1: the file should be a list of cases, or a mapping with cases: (and optionally defaults:); unexpected f:');
    expect(bad('')).toMatch(/^bad\.yaml:1: the file holds no cases/);
    expect(bad('[]')).toBe('bad.yaml:1: the list of cases is empty');
    expect(bad('cases: 3\n')).toMatch(/^bad\.yaml:1: expected a list of cases/);
    expect(bad('defaults: { name: a }\ncases: [{f: x}]\n')).toMatch(/^bad\.yaml:1: defaults: cannot set name/);
    expect(() => loadCaseFile(join(ROOT, 'no/such/file.yaml'))).toThrow(/no\/such\/file\.yaml: cannot read it: no such file/);
  });

  it('expands folders to their case files, sorted, recursively', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-cases-'));
    mkdirSync(join(dir, 'sub'));
    for (const f of ['b.yaml', 'a.json', 'notes.txt', 'sub/c.yml']) writeFileSync(join(dir, f), '- f: x\n');
    expect(expandPaths([dir, 'missing.yaml'])).toEqual([join(dir, 'a.json'), join(dir, 'b.yaml'), join(dir, 'sub', 'c.yml'), 'missing.yaml']);
  });

  it('builds the command-line case: random without --at, fixed with it', () => {
    expect(inlineCase('x*y', { expect: { x: 'y' } })).toMatchObject({ file: '<inline>', random: true, atText: [], expect: { gradient: { x: 'y' } } });
    expect(inlineCase('x*y', { at: ['x=1,y=2'] })).toMatchObject({ random: false, atText: ['x=1,y=2'] });
    expect(inlineCase('x*y', { at: ['x=1'], ranges: { y: [0, 1] } })).toMatchObject({ random: true, ranges: { y: [0, 1] } });
  });
});
