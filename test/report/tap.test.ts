import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTap } from '../../src/report/tap.js';
import { fixtureReport } from '../cases/report-fixture.js';

describe('TAP reporter', () => {
  const { report, files } = fixtureReport();
  const tap = renderTap(report);
  const lines = tap.trimEnd().split('\n');

  it('is TAP version 13 with a plan that matches the test points, numbered in order', () => {
    expect(lines[0]).toBe('TAP version 13');
    const plan = /^1\.\.(\d+)$/.exec(lines[1]);
    expect(plan).not.toBeNull();
    const points = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
    expect(points.length).toBe(Number(plan![1]));
    expect(points.length).toBe(report.cases.length + report.fileErrors.length);
    points.forEach((l, i) => expect(l).toMatch(new RegExp(`^(not )?ok ${i + 1} - `)));
    expect(points.filter((l) => l.startsWith('not ok')).length).toBe(11 + 7 + 1);
  });

  it('follows each failure with a YAML block: the counterexample and where it is', () => {
    const blocks: { head: string; diag: any }[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] !== '  ---') continue;
      const end = lines.indexOf('  ...', i);
      blocks.push({
        head: lines[i - 1],
        diag: parseYaml(
          lines
            .slice(i + 1, end)
            .map((l) => l.slice(2))
            .join('\n'),
        ),
      });
      i = end;
    }
    expect(blocks.length).toBe(19);
    expect(blocks.every((b) => b.head.startsWith('not ok'))).toBe(true);
    const wrong = blocks.find((b) => b.head.includes('wrong: (x+y)sin(x)'))!;
    expect(wrong.diag.message).toBe(
      'the gradients at a fork were not added: your ∂f/∂x is only the share through the edge x → x + y; it also feeds sin(x), and the shares of all its branches add up — your ∂f/∂x = 0.8415 at x=1, y=0; the true value is 1.382 (finite differences agree: 1.382); off by 39%, beyond rtol 1e-5, atol 1e-7',
    );
    expect(wrong.diag.severity).toBe('fail');
    expect(files[wrong.diag.at.file][wrong.diag.at.line - 1]).toContain('x: sin(x)');
    const err = blocks.find((b) => b.head.includes('misspelt function'))!;
    expect(err.diag).toMatchObject({ severity: 'error', code: 'unknown-function', at: { file: 'fixtures/ci/broken/cases.yaml', line: 10 } });
    expect(err.diag.detail).toContain('^^^^');
  });

  it('escapes # in descriptions, so a name is never read as a directive', () => {
    const { report: r } = fixtureReport();
    r.cases[0] = { ...r.cases[0], name: 'case # TODO not really' };
    expect(renderTap(r)).toContain('ok 1 - case \\# TODO not really');
  });
});
