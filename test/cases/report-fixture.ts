import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaseFile } from '../../src/homework/cases/load.js';
import { runCase, summarize, type CheckReport } from '../../src/homework/cases/run.js';
import { ROOT } from '../helpers.js';

/** A report over the homework set, the broken CI cases and one unreadable file, as the reporters get it. */
export function fixtureReport(): { report: CheckReport; files: Record<string, string[]> } {
  const paths = ['fixtures/homework/exercises.yaml', 'fixtures/ci/broken/cases.yaml', 'fixtures/homework/tensors.yaml'];
  const cases = paths.flatMap((p) => loadCaseFile(p).cases).map((c) => runCase(c));
  const report = summarize(paths, [{ file: 'fixtures/missing.yaml', code: 'io', message: 'fixtures/missing.yaml: cannot read it: no such file' }], cases, 123);
  const files = Object.fromEntries(paths.map((p) => [p, readFileSync(join(ROOT, p), 'utf8').split('\n')]));
  return { report, files };
}
