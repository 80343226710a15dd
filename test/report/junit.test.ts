import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import { fixtureReport } from '../cases/report-fixture.js';

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('JUnit XML reporter', () => {
  const { report, files } = fixtureReport();
  const xml = renderJunit(report);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false }).parse(xml);

  it('is well-formed XML', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
  });

  it('has one testsuite per file, one testcase per case, and totals that add up', () => {
    const suites = asList(doc.testsuites.testsuite);
    expect(suites.map((s: any) => s.name)).toEqual([...Object.keys(files), 'fixtures/missing.yaml']);
    let tests = 0;
    let failures = 0;
    let errors = 0;
    for (const s of suites) {
      const cases = asList(s.testcase);
      expect(cases.length).toBe(Number(s.tests));
      expect(cases.filter((c: any) => c.failure).length).toBe(Number(s.failures));
      expect(cases.filter((c: any) => c.error).length).toBe(Number(s.errors));
      tests += Number(s.tests);
      failures += Number(s.failures);
      errors += Number(s.errors);
    }
    expect([tests, failures, errors]).toEqual([Number(doc.testsuites.tests), Number(doc.testsuites.failures), Number(doc.testsuites.errors)]);
    expect([tests, failures, errors]).toEqual([report.cases.length + 1, 11, 7 + 1]);
  });

  it('gives each testcase its file and the line of the case, and a failure whose message is the counterexample', () => {
    const suite = asList(doc.testsuites.testsuite).find((s: any) => s.name === 'fixtures/homework/exercises.yaml');
    const lines = files['fixtures/homework/exercises.yaml'];
    for (const tc of asList(suite.testcase) as any[]) {
      expect(tc.file).toBe('fixtures/homework/exercises.yaml');
      expect(lines[Number(tc.line) - 1]).toContain(`name: "${tc.name}"`);
      expect(Boolean(tc.failure)).toBe(tc.name.startsWith('wrong'));
    }
    const tc = asList(suite.testcase).find((c: any) => c.name === 'wrong: (x+y)sin(x), product rule forgotten') as any;
    expect(tc.failure.message).toBe(
      'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x + y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    expect(tc.failure.type).toBe('gradient');
    expect(tc.failure['#text']).toContain('f = (x + y) * sin(x)');
  });

  it('an error element for a case that cannot run, with the caret text', () => {
    const suite = asList(doc.testsuites.testsuite).find((s: any) => s.name === 'fixtures/ci/broken/cases.yaml');
    const tc = asList(suite.testcase).find((c: any) => c.name === 'misspelt function') as any;
    expect(tc.error.message).toBe('unknown function sinn');
    expect(tc.error.type).toBe('unknown-function');
    expect(tc.error['#text']).toContain('fixtures/ci/broken/cases.yaml:10:16: unknown function sinn\n  (x + y) * sinn(x)\n            ^^^^');
    const missing = asList(doc.testsuites.testsuite).find((s: any) => s.name === 'fixtures/missing.yaml');
    expect(missing.testcase.error.message).toBe('fixtures/missing.yaml: cannot read it: no such file');
  });

  it('escapes what XML cannot hold as it is', () => {
    const { report: r } = fixtureReport();
    r.cases[0] = { ...r.cases[0], name: 'a <b> & "c"\u0001 \'d\'' };
    const x = renderJunit(r);
    expect(XMLValidator.validate(x)).toBe(true);
    const d = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(x);
    // a control character is shown as an escape, never passed on raw
    expect(asList(asList(d.testsuites.testsuite)[0].testcase)[0].name).toBe('a <b> & "c"\\x01 \'d\'');
  });
});
