import type { CaseResult, CheckReport } from '../homework/cases/run.js';
import { caseErrorText, location } from './check-table.js';
import { safeText } from '../core/safe-text.js';

/**
 * JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters): one
 * <testsuite> per case file, one <testcase> per case with the file and line of the
 * case, a <failure> whose message is the counterexample, an <error> for a case that
 * could not run, and a suite with one <error> for a file that could not be read.
 */
export function renderJunit(report: CheckReport): string {
  const suites: string[] = [];
  for (const file of report.files) {
    const cases = report.cases.filter((c) => c.file === file);
    suites.push(
      suite(
        suiteName(file),
        file,
        cases.map(testcase),
        count(cases),
        cases.reduce((s, c) => s + c.ms, 0),
      ),
    );
  }
  for (const fe of report.fileErrors) {
    const text = fe.source !== undefined ? `${fe.message}\n${fe.source}` : fe.message;
    const tc = `    <testcase name="${attr(`load ${fe.file}`)}" classname="${attr(fe.file)}" file="${attr(fe.file)}" time="0">\n      <error message="${attr(fe.message)}" type="${attr(fe.code)}">${text_(text)}</error>\n    </testcase>`;
    suites.push(suite(fe.file, fe.file, [tc], { tests: 1, failures: 0, errors: 1 }, 0));
  }
  const s = report.summary;
  const errors = s.errors + report.fileErrors.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="autograd-cli check" tests="${s.total + report.fileErrors.length}" failures="${s.failed}" errors="${errors}" time="${secs(s.ms)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function suiteName(file: string): string {
  return file === '<inline>' ? 'command line' : file;
}

function count(cases: CaseResult[]) {
  return { tests: cases.length, failures: cases.filter((c) => c.status === 'fail').length, errors: cases.filter((c) => c.status === 'error').length };
}

function suite(name: string, file: string, cases: string[], n: { tests: number; failures: number; errors: number }, ms: number): string {
  const fileAttr = file === '<inline>' ? '' : ` file="${attr(file)}"`;
  return [
    `  <testsuite name="${attr(name)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="0" time="${secs(ms)}"${fileAttr}>`,
    ...cases,
    '  </testsuite>',
  ].join('\n');
}

function testcase(r: CaseResult): string {
  const where = r.file === '<inline>' ? '' : ` file="${attr(r.file)}" line="${r.line}"`;
  const open = `    <testcase name="${attr(r.name)}" classname="${attr(suiteName(r.file))}"${where} time="${secs(r.ms)}"`;
  const body: string[] = [];
  if (r.status === 'fail') {
    const first = r.failures[0];
    const details = r.failures.map((f) => `${f.message}${location(r.file, f.line) ? ` (${location(r.file, f.line)})` : ''}`).join('\n');
    body.push(`      <failure message="${attr(first.message)}" type="${attr(first.kind)}">${text_(`f = ${r.f}\n${details}`)}</failure>`);
  } else if (r.status === 'error') {
    body.push(`      <error message="${attr(r.error!.message)}" type="${attr(r.error!.code)}">${text_(caseErrorText(r, r.error!))}</error>`);
  }
  if (r.warnings.length) body.push(`      <system-out>${text_(r.warnings.map((w) => `warning: ${w}`).join('\n'))}</system-out>`);
  return body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

// XML 1.0 allows tab, newline, carriage return and characters from U+0020; anything else is dropped
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text_(s: string): string {
  // terminal-safe first (CI logs show these), then what XML cannot hold is dropped and markup escaped
  return safeText(s, { max: 20_000 }).replace(INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text_(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
