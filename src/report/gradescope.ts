import type { GradeReport } from '../grade/grade.js';
import { toJson } from './json.js';
import { renderFeedback } from './grade.js';
import { roundPoints } from '../cases/run.js';
import { safeName, safeText } from '../safe-text.js';

/**
 * Gradescope's autograder results.json for one submission
 * (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the total `score`,
 * an `output` for the whole submission, and one test per graded part with its `score`,
 * `max_score`, `status` and the verdict as `output`.
 */
export function renderGradescope(r: GradeReport): string {
  const s = r.students[0];
  const tests = s.problems.flatMap((p) =>
    p.parts.map((x) => ({
      name: `${safeName(p.name)}: ${x.part}`,
      score: roundPoints(x.earned),
      max_score: roundPoints(x.points),
      status: x.status === 'right' ? 'passed' : 'failed',
      output: x.status === 'missing' ? 'missing: no answer given' : safeText(x.message, { max: 4000 }),
    })),
  );
  return `${toJson({ score: s.earned, output: renderFeedback(r, s), tests })}\n`;
}
