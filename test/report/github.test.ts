import { describe, expect, it } from 'vitest';
import { basename, dirname, join } from 'node:path';
import { ANNOTATIONS_SHOWN, renderGithub, renderGithubSummary, workspacePath } from '../../src/report/github.js';
import { ROOT } from '../helpers.js';
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

/** The fixture report with its first failing case renamed and its first failure saying `message`. */
function withFailure(name: string, message: string) {
  const { report: r } = fixtureReport();
  const i = r.cases.findIndex((c) => c.status === 'fail');
  r.cases[i] = { ...r.cases[i], name, failures: [{ ...r.cases[i].failures[0], message }] };
  return r;
}

describe('GitHub Actions reporter', () => {
  const { report, files } = fixtureReport();
  const out = renderGithub(report).trimEnd().split('\n');
  const notes = out.map(parse).filter((x) => x !== null);

  it('annotates the first 10 errors (all GitHub shows in a step), lists the rest as plain lines, says how many, and ends with the summary', () => {
    const errors = notes.filter((n) => n.kind === 'error');
    const failures = report.cases.reduce((s, c) => s + c.failures.length, 0);
    const all = failures + report.summary.errors + report.fileErrors.length;
    expect(all).toBeGreaterThan(ANNOTATIONS_SHOWN);
    expect(errors.length).toBe(ANNOTATIONS_SHOWN);
    const plain = out.filter((l) => l.startsWith('error: '));
    expect(plain).toHaveLength(all - ANNOTATIONS_SHOWN);
    expect(plain.at(-1)).toBe('error: fixtures/missing.yaml:1: case file: fixtures/missing.yaml: cannot read it: no such file');
    const warnings = report.cases.reduce((s, c) => s + c.warnings.length, 0);
    expect(notes.filter((n) => n.kind === 'warning')).toHaveLength(Math.min(warnings, ANNOTATIONS_SHOWN));
    expect(out.at(-2)).toBe(
      `note: GitHub shows 10 error and 10 warning annotations per step; ${all - ANNOTATIONS_SHOWN} errors left out of the annotations (above as plain lines)`,
    );
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
      'your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    const sinn = notes.find((n) => n.props.title === 'autograd-cli check: misspelt function')!;
    expect(sinn.props).toMatchObject({ file: 'fixtures/ci/broken/cases.yaml', line: '10', col: '16' });
  });

  it('escapes newlines, percent signs, and the separators in properties', () => {
    const line = renderGithub(withFailure('a, b: c', '100% wrong\nsecond line'))
      .split('\n')
      .find((l) => l.includes('a%2C b%3A c'))!;
    expect(line).toMatch(/title=autograd-cli check%3A a%2C b%3A c::100%25 wrong%0Asecond line$/);
    expect(line.split('\n')).toHaveLength(1);
  });
});

describe('GitHub Actions reporter under working-directory: and the job summary', () => {
  const { report } = fixtureReport();
  const parent = dirname(ROOT);
  const folder = basename(ROOT);

  it('names files relative to GITHUB_WORKSPACE, the folder GitHub resolves them in', () => {
    const notes = renderGithub(report, { workspace: parent })
      .split('\n')
      .map(parse)
      .filter((x) => x !== null);
    const files = new Set(notes.map((n) => n.props.file));
    expect(files).toContain(`${folder}/fixtures/homework/exercises.yaml`);
    expect([...files].every((f) => f.startsWith(`${folder}/fixtures/`))).toBe(true);
    // a file outside the workspace keeps the name it was given
    expect(workspacePath('fixtures/a.yaml', join(ROOT, 'src'))).toBe('fixtures/a.yaml');
    expect(workspacePath(join(ROOT, 'fixtures', 'a.yaml'), ROOT)).toBe('fixtures/a.yaml');
    expect(workspacePath('fixtures/a.yaml', undefined)).toBe('fixtures/a.yaml');
  });

  it('the job summary has every failure in a table: case, entry, yours, finite differences', () => {
    const md = renderGithubSummary(report, { workspace: parent, summary: true });
    const failures = report.cases.flatMap((c) => c.failures.map((f) => ({ c, f })));
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| case |') && !l.startsWith('| could not run'));
    expect(rows).toHaveLength(failures.length + report.summary.errors + report.fileErrors.length);
    expect(md).toContain('| case | entry | yours | finite differences | what is wrong |');
    const wrong = rows.find((r) => r.includes('product rule forgotten'))!;
    const cells = wrong.split(/(?<!\\)\|/).map((x) => x.trim());
    expect(cells[2]).toBe('∂f/∂x');
    expect(cells[3]).toBe('0.841471');
    expect(cells[4]).toBe('1.38177');
    expect(cells[1]).toMatch(new RegExp(`\\(${folder}/fixtures/homework/exercises\\.yaml:\\d+\\)$`));
    // every row has the same number of cells: no | or line break of a name or message splits one
    const widths = new Set(rows.map((r) => r.split(/(?<!\\)\|/).length));
    expect(widths.size).toBeLessThanOrEqual(2);
    expect(md).toMatch(/^### autograd-cli check\n\n✗ \d+ cases: /);
  });

  it('says the job summary holds the failures left out of the annotations', () => {
    expect(renderGithub(report, { summary: true })).toMatch(/left out of the annotations \(above as plain lines, and every failure in the job summary\)/);
  });

  it('escapes what Markdown would read in names and messages', () => {
    const line = renderGithubSummary(withFailure('a | b *c* <img src=x>', 'x*y*z\nnext'))
      .split('\n')
      .find((l) => l.includes('a \\| b'))!;
    expect(line).toContain('a \\| b \\*c\\* &lt;img src=x&gt;');
    expect(line).toContain('x\\*y\\*z next |');
  });
});
