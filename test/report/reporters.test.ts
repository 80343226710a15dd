import { describe, expect, it } from 'vitest';
import { loadCommand } from '../../src/cli/main.js';
import { renderCheckTable } from '../../src/report/check-table.js';
import { renderJunit } from '../../src/report/junit.js';
import { toJson } from '../../src/report/json.js';
import { loadReporter, REPORTERS, reportersFor, reportersText, type ReporterEntry, type ReportKind, type ReporterName } from '../../src/report/reporters.js';
import { fixtureReport } from '../cases/report-fixture.js';

/** The reporter registry (src/report/reporters.ts): the one list the commands read. */
describe('the reporter registry', () => {
  it('every kind an entry declares loads a renderer', async () => {
    for (const [name, entry] of Object.entries(REPORTERS) as [ReporterName, ReporterEntry][]) {
      const kinds = Object.keys(entry.kinds) as ReportKind[];
      expect(kinds.length, name).toBeGreaterThan(0);
      for (const kind of kinds) expect(typeof (await loadReporter(name, kind)), `${name} ${kind}`).toBe('function');
    }
  });

  it('a reporter asked for a kind it does not render is refused', async () => {
    await expect(loadReporter('gradescope', 'cases')).rejects.toThrow(/does not render cases/);
    await expect(loadReporter('junit', 'grades')).rejects.toThrow(/does not render grades/);
  });

  it("each command offers exactly the registry's reporters for its kind, in the map's order", async () => {
    expect(reportersFor('cases')).toEqual(['table', 'json', 'junit', 'tap', 'github']);
    expect(reportersFor('function')).toEqual(['table', 'json', 'junit', 'tap', 'github']);
    expect(reportersFor('grades')).toEqual(['table', 'json', 'gradescope']);
    for (const [command, kind] of [
      ['check', 'cases'],
      ['gradcheck', 'function'],
      ['grade', 'grades'],
    ] as const) {
      const mod = await loadCommand(command);
      expect((mod.options as Record<string, { choices?: readonly unknown[] }>).reporter.choices, command).toEqual(reportersFor(kind));
    }
    expect(reportersText('grades', ', or ')).toBe('table (terminal), json, or gradescope (results.json for one submission)');
  });

  it("renders what the reporters' own modules render", async () => {
    const { report } = fixtureReport();
    expect((await loadReporter('junit', 'cases'))(report, {})).toBe(renderJunit(report));
    expect((await loadReporter('json', 'cases'))(report, {})).toBe(`${toJson(report)}\n`);
    expect((await loadReporter('table', 'cases'))(report, {})).toBe(`${renderCheckTable(report)}\n`);
  });
});
