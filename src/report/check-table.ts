import { Chalk, type ChalkInstance } from 'chalk';
import type { CaseError, CaseResult, CheckReport } from '../homework/cases/run.js';
import { AgError, type ErrorCode } from '../core/errors.js';
import { formatError } from './errors.js';
import { safeName, safeText } from '../core/safe-text.js';
import { scoreText } from './score.js';

const plain = new Chalk({ level: 0 });

/** `cases.yaml:12` (and `:col`); nothing for a command-line case. */
export function location(file: string, line: number, col?: number): string {
  if (file === '<inline>') return '';
  return `${safeName(file, 160)}:${line}${col !== undefined ? `:${col}` : ''}`;
}

/** A case's error as the terminal shows errors: location and message, the formula with a caret, the hint. */
export function caseErrorText(r: CaseResult, e: CaseError, c: ChalkInstance = plain): string {
  const at = location(r.file, e.line, e.col);
  const ag = new AgError(e.code as ErrorCode, `${at ? `${at}: ` : ''}${e.message}`, { span: e.span, source: e.source, hint: e.hint });
  return formatError(ag, c);
}

/** The human view of `check`: one line per case under its file, what went wrong beneath it, a summary. */
export function renderCheckTable(report: CheckReport, o: { color?: ChalkInstance; warnings?: boolean } = {}): string {
  const c = o.color ?? plain;
  const out: string[] = [];
  let file: string | null = null;
  const indent = (s: string, n: number) =>
    s
      .split('\n')
      .map((l) => ' '.repeat(n) + l)
      .join('\n');
  for (const r of report.cases) {
    if (r.file !== file) {
      if (file !== null) out.push('');
      file = r.file;
      out.push(c.bold(file === '<inline>' ? 'command line' : safeName(file, 160)));
    }
    const samples = r.samples ? `${r.samples} sample${r.samples > 1 ? 's' : ''}` : '';
    const score = r.status === 'pass' ? '' : scoreText(r.score);
    const pts = samples || score ? c.dim(` (${[samples, score].filter(Boolean).join('; ')})`) : '';
    const at = location(r.file, r.line);
    const name = safeName(r.name);
    if (r.status === 'pass') out.push(`  ${c.green('✓')} ${name}${pts}`);
    else if (r.status === 'fail') {
      out.push(`  ${c.red('✗')} ${name}${pts}${at ? c.dim(`  ${at}`) : ''}`);
      for (const f of r.failures)
        out.push(
          indent(
            `${c.red(f.kind === 'autodiff' || f.kind === 'second-order' || f.kind === 'nonfinite' ? '✗' : '→')} ${safeText(f.message, { max: 2000 })}${r.file !== '<inline>' && f.line !== r.line ? c.dim(`  (${location(r.file, f.line)})`) : ''}`,
            6,
          ),
        );
    } else {
      out.push(`  ${c.red('!')} ${name}${at ? c.dim(`  ${at}`) : ''}`);
      out.push(indent(caseErrorText(r, r.error!, c), 6));
    }
    if (o.warnings !== false) for (const w of r.warnings) out.push(indent(`${c.yellow('warning:')} ${safeText(w)}`, 6));
  }
  if (out.length) out.push('');
  out.push(`score: ${scoreText(report.summary.score)}`);
  out.push(summaryLine(report, c));
  return out.join('\n');
}

export function summaryLine(report: CheckReport, c: ChalkInstance = plain): string {
  const s = report.summary;
  const parts = [c.green(`${s.passed} passed`)];
  if (s.failed) parts.push(c.red(`${s.failed} failed`));
  if (s.errors) parts.push(c.red(`${s.errors} error${s.errors > 1 ? 's' : ''}`));
  if (report.fileErrors.length) parts.push(c.red(`${report.fileErrors.length} file${report.fileErrors.length > 1 ? 's' : ''} not read`));
  const shard = report.shard ? `, shard ${report.shard.index}/${report.shard.count}` : '';
  const head = s.failed || s.errors || report.fileErrors.length ? c.red.bold('✗') : c.green.bold('✓');
  return `${head} ${s.total} case${s.total === 1 ? '' : 's'}${shard}: ${parts.join(', ')} ${c.dim(`(${s.samples} sample${s.samples === 1 ? '' : 's'}, ${(s.ms / 1000).toFixed(2)} s)`)}`;
}
