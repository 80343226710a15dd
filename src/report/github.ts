import type { CheckReport } from '../homework/cases/run.js';
import { summaryLine } from './check-table.js';
import { safeName, safeText } from '../core/safe-text.js';

/**
 * GitHub Actions workflow commands: an `::error` annotation at the line of the case file
 * the problem is about (the wrong expected entry, the formula that does not parse), a
 * `::warning` for each warning, then a plain summary line.
 */
export function renderGithub(report: CheckReport): string {
  const out: string[] = [];
  for (const r of report.cases) {
    const title = safeName(r.name);
    if (r.status === 'fail') {
      for (const f of r.failures) out.push(command('error', r.file, f.line, undefined, title, f.message));
    } else if (r.status === 'error') {
      const e = r.error!;
      out.push(command('error', r.file, e.line, e.col, title, `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`));
    }
    for (const w of r.warnings) out.push(command('warning', r.file, r.line, undefined, title, w));
  }
  for (const fe of report.fileErrors) {
    out.push(command('error', fe.file, fe.line, fe.col, 'case file', fe.message));
  }
  out.push(summaryLine(report));
  return `${out.join('\n')}\n`;
}

function command(kind: 'error' | 'warning', file: string, line: number | undefined, col: number | undefined, title: string, message: string): string {
  const props = [
    ...(file !== '<inline>' ? [`file=${prop(file)}`, ...(line !== undefined ? [`line=${line}`] : []), ...(col !== undefined ? [`col=${col}`] : [])] : []),
    `title=${prop(`autograd-cli check: ${title}`)}`,
  ];
  return `::${kind} ${props.join(',')}::${data(message)}`;
}

// escaping as in @actions/core: data escapes % CR LF; property values also : and ,
function data(s: string): string {
  return safeText(s, { max: 20_000 }).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function prop(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
