import type { GradeReport } from '../homework/grade/grade.js';
import { toJson } from './json.js';
import { renderFeedback } from './grade.js';
import { roundPoints } from '../homework/cases/run.js';
import { safeName, safeText } from '../core/safe-text.js';
import { scoreText } from './score.js';

/**
 * Gradescope's autograder results.json for one submission
 * (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the total `score`,
 * an `output` for the whole submission, and one test per graded part with its `score`,
 * `max_score`, `status` and the verdict as `output`.
 *
 * Everything is plain text (`output_format`, `test_output_format`, `test_name_format`):
 * Gradescope's default, simple_format, renders HTML, and names and formulas come from
 * students. Each problem's tests carry the key's `visibility:`, the whole result the
 * key's own. A submission that could not be graded still gets a result: score 0, every
 * test failed, and `notGraded` (why, in the student's words) as the output.
 */
export function renderGradescope(r: GradeReport, o: { notGraded?: string } = {}): string {
  const s = o.notGraded === undefined ? r.students[0] : undefined;
  const tests = r.problems.flatMap((p) => {
    const graded = s?.problems.find((q) => q.name === p.name);
    const share = p.points / p.parts.length;
    return p.parts.map((part) => {
      const x = graded?.parts.find((y) => y.part === part);
      return {
        name: `${safeName(p.name)}: ${part}`,
        score: roundPoints(x?.earned ?? 0),
        max_score: roundPoints(x?.points ?? share),
        status: x?.status === 'right' ? 'passed' : 'failed',
        output: !x ? 'not graded: see the message above' : x.status === 'missing' ? 'missing: no answer given' : safeText(x.message, { max: 4000 }),
        ...(p.visibility ? { visibility: p.visibility } : {}),
      };
    });
  });
  const output = s
    ? renderFeedback(r, s)
    : `${r.title}\nscore: ${scoreText({ earned: 0, max: r.max })}\n\nYour submission was not graded: ${o.notGraded ?? 'no answer file was read'}\n`;
  return `${toJson({ score: s?.earned ?? 0, output, output_format: 'text', test_output_format: 'text', test_name_format: 'text', ...(r.visibility ? { visibility: r.visibility } : {}), tests })}\n`;
}
