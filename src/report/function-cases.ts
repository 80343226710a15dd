import { summarize, type CaseResult, type CheckReport } from '../homework/cases/run.js';
import { failuresWithMistakes } from './gradcheck.js';
import type { FunctionGradcheckResult } from '../api/gradcheck.js';

/** A function's check as one case of a CheckReport, so the reporters of cases (JUnit, TAP, GitHub) print it, its failures with the mistakes named. */
export function functionAsCases(r: FunctionGradcheckResult, label: string, started: number): CheckReport {
  const kase: CaseResult = {
    file: '<inline>',
    index: 0,
    name: `gradcheck ${label}`,
    line: 0,
    f: label,
    status: r.passed ? 'pass' : 'fail',
    variables: Object.keys(r.point),
    samples: 1,
    score: { earned: r.passed ? 1 : 0, max: 1 },
    seed: 0,
    expected: [],
    failures: failuresWithMistakes(r).map((f) => ({
      kind: f.kind === 'nonfinite' ? 'nonfinite' : 'autodiff',
      entry: f.entry,
      message: f.message,
      field: 'f',
      line: 0,
      point: {},
      yours: f.yours,
      truth: f.truth,
      failedPoints: 1,
    })),
    warnings: r.warnings,
    ms: performance.now() - started,
  };
  return summarize(['<inline>'], [], [kase], performance.now() - started);
}
