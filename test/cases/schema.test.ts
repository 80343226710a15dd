import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CASE_KEYS, loadCaseFile, NotCaseFile } from '../../src/homework/cases/load.js';
import { loadKey, PROBLEM_KEYS } from '../../src/homework/grade/key.js';
import { cli, ROOT } from '../helpers.js';

/**
 * The JSON Schemas shipped for editors (schema/*.schema.json): every case file and answer
 * key among the fixtures that the loader accepts validates against them, broken ones do
 * not, and the keys they allow are the loader's own.
 */
const SCHEMA = join(ROOT, 'schema');
const caseSchema = JSON.parse(readFileSync(join(SCHEMA, 'case-file.schema.json'), 'utf8'));
const keySchema = JSON.parse(readFileSync(join(SCHEMA, 'answer-key.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(caseSchema, 'case-file.schema.json');
ajv.addSchema(keySchema, 'answer-key.schema.json');
const validCaseFile = ajv.getSchema('case-file.schema.json')!;
const validKey = ajv.getSchema('answer-key.schema.json')!;

function documents(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? documents(p) : /\.(ya?ml|json)$/.test(n) ? [p] : [];
  });
}
const data = (file: string): unknown => (file.endsWith('.json') ? JSON.parse(readFileSync(file, 'utf8')) : parse(readFileSync(file, 'utf8')));

/** What the loader makes of a fixture: a case file whose every case is well formed, an answer key, or neither. */
function kindOf(file: string): 'case file' | 'key' | null {
  try {
    return loadCaseFile(file).cases.every((c) => !c.problem) ? 'case file' : null;
  } catch (e) {
    if (!(e instanceof NotCaseFile)) return null;
  }
  try {
    loadKey(file);
    return 'key';
  } catch {
    return null;
  }
}

describe('the JSON Schemas of case files and answer keys', () => {
  const fixtures = documents(join(ROOT, 'fixtures')).map((f) => ({ f, kind: kindOf(f) }));

  it('compile under ajv in strict mode', () => {
    expect(validCaseFile.schema).toBeDefined();
    expect(validKey.schema).toBeDefined();
  });

  it('every fixture case file and answer key the loader accepts validates', () => {
    const cases = fixtures.filter((x) => x.kind === 'case file');
    const keys = fixtures.filter((x) => x.kind === 'key');
    expect(cases.length).toBeGreaterThanOrEqual(4);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const { f } of cases) expect(validCaseFile(data(f)), `${f}: ${ajv.errorsText(validCaseFile.errors)}`).toBe(true);
    for (const { f } of keys) expect(validKey(data(f)), `${f}: ${ajv.errorsText(validKey.errors)}`).toBe(true);
  });

  it('the broken fixture and broken documents are rejected', () => {
    // fixtures/ci/broken has an unknown key and answers of the wrong kind
    expect(validCaseFile(data(join(ROOT, 'fixtures/ci/broken/cases.yaml')))).toBe(false);
    // a submission is neither
    expect(validCaseFile(data(join(ROOT, 'fixtures/homework/submissions/ada.yaml')))).toBe(false);
    expect(validKey(data(join(ROOT, 'fixtures/homework/submissions/ada.yaml')))).toBe(false);
    for (const broken of [
      [],
      [{ at: { x: 1 } }],
      [{ f: 'x^2', rtl: 1e-3 }],
      [{ f: 'x^2', method: 'forward' }],
      [{ f: 'x^2', samples: 0 }],
      [{ f: 'x^2', expect: { grad: { x: 1 } } }],
      { cases: [{ f: 'x' }], extra: 1 },
      { defaults: { f: 'x' }, cases: [{ f: 'x' }] },
    ])
      expect(validCaseFile(broken), JSON.stringify(broken)).toBe(false);
    const key = data(join(ROOT, 'fixtures/homework/key.yaml')) as { problems: Record<string, unknown>[] };
    for (const change of [{ parts: ['gradient'] }, { name: 'a.b' }, { expect: { value: 1 } }, { visibility: 'soon' }])
      expect(validKey({ ...key, problems: [{ ...key.problems[0], ...change }] }), JSON.stringify(change)).toBe(false);
    expect(validKey({ ...key, problems: [] })).toBe(false);
  });

  it("allows exactly the loader's keys (a new setting goes into the schema too)", () => {
    expect(caseSchema.definitions.case.propertyNames.enum).toEqual(CASE_KEYS);
    const settings = Object.keys(caseSchema.definitions.settings.properties);
    expect([...settings].sort()).toEqual(CASE_KEYS.filter((k) => !['name', 'f', 'expect'].includes(k)).sort());
    expect(caseSchema.definitions.defaults.propertyNames.enum).toEqual(settings);
    expect(keySchema.definitions.problem.propertyNames.enum).toEqual(PROBLEM_KEYS);
  });

  it('a JSON case file or key with "$schema" is read, the key ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-schema-'));
    const cases = { $schema: '../schema/case-file.schema.json', cases: [{ f: 'x^2', at: { x: 3 }, expect: { gradient: { x: 6 } } }] };
    expect(validCaseFile(cases)).toBe(true);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
    const r = cli(['check', join(dir, 'cases.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const key = { $schema: 'answer-key.schema.json', ...(data(join(ROOT, 'fixtures/homework/key.yaml')) as object) };
    expect(validKey(key)).toBe(true);
    writeFileSync(join(dir, 'key.json'), JSON.stringify(key));
    expect(loadKey(join(dir, 'key.json')).problems.length).toBeGreaterThan(1);
    // any other unknown key is still refused
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...cases, $schemas: 'x' }));
    expect(cli(['check', join(dir, 'other.json')]).stderr).toMatch(/unexpected \$schemas:/);
  });

  it('the YAML comment editors read is a comment to the loader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-schema-'));
    writeFileSync(
      join(dir, 'cases.yaml'),
      '# yaml-language-server: $schema=../schema/case-file.schema.json\n- f: x^2\n  at: { x: 3 }\n  expect: { gradient: { x: 6 } }\n',
    );
    expect(cli(['check', join(dir, 'cases.yaml')]).code).toBe(0);
  });
});
