import { describe, expect, it } from 'vitest';
import { renderGithub } from '../../src/report/github.js';
import { fixtureReport } from '../cases/report-fixture.js';

/** `::error file=F,line=L,col=C,title=T::message` → its parts, unescaped. */
function parse(line: string) {
  const m = /^::(error|warning) ([^:]*)::(.*)$/.exec(line);
  if (!m) return null;
  const un = (s: string) => s.replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
  const props = Object.fromEntries(
    m[2]
      .split(',')
      .map((p) => p.split('='))
      .map(([k, v]) => [k, un(v)]),
  );
  return { kind: m[1], props, message: un(m[3]) };
}

describe('GitHub Actions reporter', () => {
  const { report, files } = fixtureReport();
  const out = renderGithub(report).trimEnd().split('\n');
  const notes = out.map(parse).filter((x) => x !== null);

  it('annotates every failure and error, and ends with the summary', () => {
    const errors = notes.filter((n) => n.kind === 'error');
    const failures = report.cases.reduce((s, c) => s + c.failures.length, 0);
    expect(errors.length).toBe(failures + report.summary.errors + report.fileErrors.length);
    expect(out.at(-1)).toMatch(/^✗ \d+ cases: \d+ passed, 11 failed, 7 errors, 1 file not read/);
  });

  it('points each annotation at the right line of the case file', () => {
    for (const n of notes.filter((x) => x.kind === 'error' && x.props.line)) {
      const text = files[n.props.file][Number(n.props.line) - 1];
      expect(text, `${n.props.title}: ${n.message}`).toBeDefined();
      const name = n.props.title.replace('autograd-cli check: ', '');
      const c = report.cases.find((x) => x.name === name)!;
      if (c.status === 'fail') {
        // a wrong answer: the line of that answer's key
        const f = c.failures.find((x) => x.message === n.message)!;
        expect(text).toMatch(new RegExp(`\\b${f.field.split('.').at(-1)}:`));
      } else if (c.error!.field === 'f' && c.f) {
        expect(text).toMatch(/^\s*f: /);
        // the column is that of the offending token within the formula
        if (n.props.col) expect(text.slice(Number(n.props.col) - 1)).toMatch(/^(sinn|z|\*)/);
      }
    }
    const wrong = notes.find((n) => n.props.title === 'autograd-cli check: wrong: (x+y)sin(x), product rule forgotten')!;
    expect(files['fixtures/homework/exercises.yaml'][Number(wrong.props.line) - 1]).toBe('      x: sin(x)');
    expect(wrong.message).toBe(
      'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x + y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    const sinn = notes.find((n) => n.props.title === 'autograd-cli check: misspelt function')!;
    expect(sinn.props).toMatchObject({ file: 'fixtures/ci/broken/cases.yaml', line: '10', col: '16' });
  });

  it('escapes newlines, percent signs, and the separators in properties', () => {
    const { report: r } = fixtureReport();
    const i = r.cases.findIndex((c) => c.status === 'fail');
    r.cases[i] = { ...r.cases[i], name: 'a, b: c', failures: [{ ...r.cases[i].failures[0], message: '100% wrong\nsecond line' }] };
    const line = renderGithub(r)
      .split('\n')
      .find((l) => l.includes('a%2C b%3A c'))!;
    expect(line).toMatch(/title=autograd-cli check%3A a%2C b%3A c::100%25 wrong%0Asecond line$/);
    expect(line.split('\n')).toHaveLength(1);
  });
});
