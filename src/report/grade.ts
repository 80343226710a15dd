import { Chalk, type ChalkInstance } from 'chalk';
import type { GradeReport, PartResult, ProblemResult, StudentResult } from '../homework/grade/grade.js';
import { safeName, safeText } from '../core/safe-text.js';
import { wrapProse } from './layout.js';
import { pointsText, scoreText } from './score.js';

const plain = new Chalk({ level: 0 });

/** ✓ right, ✗ wrong, – missing, ! could not be judged */
const MARK: Record<PartResult['status'], string> = { right: '✓', wrong: '✗', missing: '–', error: '!' };

function mark(p: PartResult, c: ChalkInstance): string {
  const m = MARK[p.status];
  return p.status === 'right' ? c.green(m) : p.status === 'missing' ? c.yellow(m) : c.red(m);
}

const score = (earned: number, max: number) => scoreText({ earned, max });

/**
 * The terminal view of `grade`: one line per student with the score, and beneath it what
 * was not right. With a width (the terminal's), long lines wrap at spaces under their own indent.
 */
export function renderGradeTable(r: GradeReport, o: { color?: ChalkInstance; width?: number } = {}): string {
  const c = o.color ?? plain;
  const out: string[] = [];
  out.push(
    `${c.bold(safeName(r.title, 120))}  ${c.dim(`(${safeName(r.key, 160)}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}, ${score(r.max, r.max).replace(/^.* of /, '')})`)}`,
  );
  for (const w of r.warnings) out.push(`${c.yellow('warning:')} ${safeText(w, { max: 2000 })}`);
  out.push('');
  for (const s of r.students) {
    const head = s.refused.length ? c.red('refused') : s.earned === s.max ? c.green(score(s.earned, s.max)) : score(s.earned, s.max);
    out.push(`${c.bold(safeName(s.student))}  ${c.dim(safeName(s.file, 160))}  ${head}${s.refused.length ? c.dim(`  (${score(s.earned, s.max)})`) : ''}`);
    for (const why of s.refused) out.push(`    ${c.red('!')} ${safeText(why, { max: 2000 })}`);
    if (!s.refused.length) {
      for (const p of s.problems) {
        const notRight = p.parts.filter((x) => x.status !== 'right');
        if (!notRight.length) continue;
        const whole = wholeProblem(p);
        out.push(`  ${safeName(p.name)}  ${c.dim(score(p.earned, p.points))}${whole ? `  ${mark(p.parts[0], c)} ${safeText(whole, { max: 2000 })}` : ''}`);
        if (!whole) for (const x of notRight) out.push(`    ${mark(x, c)} ${x.part}  ${safeText(x.message, { max: 2000 })}`);
      }
    }
    for (const n of s.notes) out.push(`    ${c.dim(`note: ${safeText(n, { max: 400 })}`)}`);
  }
  out.push('');
  out.push(gradeSummary(r, c));
  const width = o.width;
  if (width === undefined) return out.join('\n');
  return out.map((line) => wrapProse(line, width, /^ */.exec(line)![0].length + 2)).join('\n');
}

/** What happened to a whole problem, when every part shares it: not answered, or not graded for one reason. */
function wholeProblem(p: ProblemResult): string | undefined {
  const [first] = p.parts;
  if (p.parts.length < 2 || first.status === 'right' || first.status === 'wrong') return undefined;
  if (!p.parts.every((x) => x.status === first.status && x.message === first.message)) return undefined;
  return first.status === 'missing' ? 'not answered' : first.message;
}

/** `✓ 3 submissions graded: mean 13.17 of 24 points (0.42 s)` */
export function gradeSummary(r: GradeReport, c: ChalkInstance = plain): string {
  const n = r.students.length;
  const refused = r.students.filter((s) => s.refused.length).length;
  const mean = n ? r.students.reduce((a, s) => a + s.earned, 0) / n : 0;
  const unread = r.fileErrors.length ? `, ${r.fileErrors.length} file${r.fileErrors.length === 1 ? '' : 's'} not read` : '';
  const head = r.fileErrors.length ? c.red.bold('✗') : c.green.bold('✓');
  return `${head} ${n} submission${n === 1 ? '' : 's'} graded${refused ? ` (${refused} refused)` : ''}${unread}: mean ${score(mean, r.max)} ${c.dim(`(${(r.ms / 1000).toFixed(2)} s)`)}`;
}

function partLine(x: PartResult): string {
  const worth = `${pointsText(x.earned)}/${pointsText(x.points)}`;
  return `  ${MARK[x.status]} ${x.part} (${worth}): ${x.status === 'missing' ? 'missing — no answer given' : safeText(x.message, { max: 4000 })}`;
}

function problemBlock(p: ProblemResult): string[] {
  return [`${safeName(p.name)}: ${score(p.earned, p.points)}`, ...(p.policy ? [`  graded by the key's policy: ${p.policy}`] : []), ...p.parts.map(partLine)];
}

/** One student's feedback: every part's verdict, the counterexample of a wrong one, what is missing. Plain text. */
export function renderFeedback(r: GradeReport, s: StudentResult): string {
  const out = [
    `${safeName(r.title, 120)} — feedback for ${safeName(s.student)}`,
    `submission: ${safeName(s.file, 160)}`,
    `score: ${score(s.earned, s.max)}`,
    '',
  ];
  if (s.refused.length) {
    out.push('This submission was not graded. A submission holds answers only (numbers and formulas); how they are judged is set by the answer key:');
    for (const why of s.refused) out.push(`  ! ${safeText(why, { max: 2000 })}`);
    out.push('');
  }
  for (const p of s.problems) out.push(...problemBlock(p), '');
  const missing = s.problems.flatMap((p) => p.parts.filter((x) => x.status === 'missing').map((x) => `${p.name}.${x.part}`));
  if (missing.length && !s.refused.length) out.push(`missing: ${missing.map((m) => safeName(m)).join(', ')}`, '');
  for (const n of s.notes) out.push(`note: ${safeText(n, { max: 400 })}`);
  out.push('✓ right  ✗ wrong  – missing  ! could not be judged');
  return `${out.join('\n')}\n`;
}
