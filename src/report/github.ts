import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { CheckReport } from '../homework/cases/run.js';
import { location, summaryLine } from './check-table.js';
import { num } from '../core/number-format.js';
import { safeName, safeText } from '../core/safe-text.js';

/** Where the reporter runs on GitHub Actions: the values of GITHUB_WORKSPACE and GITHUB_STEP_SUMMARY (the CLI reads them). */
export interface GithubOptions {
  /** the checkout (GITHUB_WORKSPACE): annotations name files relative to it, as GitHub resolves them */
  workspace?: string;
  /** whether the job summary is written too (GITHUB_STEP_SUMMARY is set) */
  summary?: boolean;
}

/** GitHub shows at most this many error annotations, and as many warnings, per step; the rest it drops. */
export const ANNOTATIONS_SHOWN = 10;

interface Note {
  kind: 'error' | 'warning';
  file: string;
  line?: number;
  col?: number;
  title: string;
  message: string;
}

/**
 * GitHub Actions workflow commands: an `::error` annotation at the line of the case file
 * the problem is about (the wrong expected entry, the formula that does not parse), a
 * `::warning` for each warning, then a plain summary line. GitHub shows 10 of each kind
 * per step: the rest are plain log lines, and the last line says how many were left out.
 */
export function renderGithub(report: CheckReport, o: GithubOptions = {}): string {
  const notes = notesOf(report);
  const out: string[] = [];
  const left = { error: 0, warning: 0 };
  const shown = { error: 0, warning: 0 };
  for (const n of notes) {
    if (shown[n.kind] < ANNOTATIONS_SHOWN) {
      shown[n.kind]++;
      out.push(command(n, o.workspace));
    } else {
      left[n.kind]++;
      const at = location(n.file, n.line ?? 1, n.col);
      out.push(safeText(`${n.kind}: ${at ? `${at}: ` : ''}${n.title}: ${n.message}`, { max: 2_000, oneLine: true }));
    }
  }
  if (left.error || left.warning) {
    const what = [
      left.error ? `${left.error} error${left.error > 1 ? 's' : ''}` : '',
      left.warning ? `${left.warning} warning${left.warning > 1 ? 's' : ''}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    out.push(
      `note: GitHub shows ${ANNOTATIONS_SHOWN} error and ${ANNOTATIONS_SHOWN} warning annotations per step; ${what} left out of the annotations (above as plain lines${o.summary ? ', and every failure in the job summary' : ''})`,
    );
  }
  out.push(summaryLine(report));
  return `${out.join('\n')}\n`;
}

/** Every annotation of a report, errors in case order, then the unreadable files, warnings among them where they belong. */
function notesOf(report: CheckReport): Note[] {
  const notes: Note[] = [];
  for (const r of report.cases) {
    const title = safeName(r.name);
    if (r.status === 'fail') {
      for (const f of r.failures) notes.push({ kind: 'error', file: r.file, line: f.line, title, message: f.message });
    } else if (r.status === 'error') {
      const e = r.error!;
      notes.push({ kind: 'error', file: r.file, line: e.line, col: e.col, title, message: `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}` });
    }
    for (const w of r.warnings) notes.push({ kind: 'warning', file: r.file, line: r.line, title, message: w });
  }
  for (const fe of report.fileErrors) notes.push({ kind: 'error', file: fe.file, line: fe.line, col: fe.col, title: 'case file', message: fe.message });
  return notes;
}

/**
 * A file as GitHub names it: relative to the workspace (the checkout), with `/`; under
 * `working-directory:` the path given on the command line is relative to another folder.
 * A file outside the workspace keeps the name it was given.
 */
export function workspacePath(file: string, workspace: string | undefined): string {
  if (!workspace) return file;
  const rel = relative(resolve(workspace), resolve(file));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return file;
  return rel.split(sep).join('/');
}

/** Whether the file of a case is a file at all (not `<inline>`, the command line, nor `<stdin>`): only a file can be annotated. */
const inWorkspace = (file: string) => !/^<[a-z]+>$/.test(file);

function command(n: Note, workspace: string | undefined): string {
  const props = [
    ...(inWorkspace(n.file)
      ? [
          `file=${prop(workspacePath(n.file, workspace))}`,
          ...(n.line !== undefined ? [`line=${n.line}`] : []),
          ...(n.col !== undefined ? [`col=${n.col}`] : []),
        ]
      : []),
    `title=${prop(`autograd-cli check: ${n.title}`)}`,
  ];
  return `::${n.kind} ${props.join(',')}::${data(n.message)}`;
}

// escaping as in @actions/core: data escapes % CR LF; property values also : and ,
function data(s: string): string {
  return safeText(s, { max: 20_000 }).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function prop(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Rows the job summary lists at most (GitHub takes 1 MiB of summary per step). */
export const SUMMARY_ROWS = 1000;

/**
 * The job summary (GITHUB_STEP_SUMMARY, Markdown): the summary line, every failure in a
 * table (case, entry, yours, finite differences, what is wrong), the cases that could not
 * run and the files not read, each with its place in the workspace.
 */
export function renderGithubSummary(report: CheckReport, o: GithubOptions = {}): string {
  const where = (file: string, line?: number, col?: number) => location(inWorkspace(file) ? workspacePath(file, o.workspace) : file, line ?? 1, col);
  const out = [`### autograd-cli check`, '', cell(summaryLine(report)), ''];
  const failures = report.cases.flatMap((r) => (r.status === 'fail' ? r.failures.map((f) => ({ r, f })) : []));
  if (failures.length) {
    out.push('| case | entry | yours | finite differences | what is wrong |', '|---|---|--:|--:|---|');
    for (const { r, f } of failures.slice(0, SUMMARY_ROWS)) {
      const at = where(r.file, f.line);
      out.push(
        row([
          `${r.name}${at ? ` (${at})` : ''}`,
          f.entry,
          f.yours === undefined ? '' : num(f.yours),
          f.fd === undefined ? (f.truth === undefined ? '' : num(f.truth)) : num(f.fd),
          f.message,
        ]),
      );
    }
    if (failures.length > SUMMARY_ROWS) out.push('', `… and ${failures.length - SUMMARY_ROWS} more failures (every one is in the log)`);
    out.push('');
  }
  const errors = report.cases.filter((r) => r.status === 'error');
  if (errors.length || report.fileErrors.length) {
    out.push('| could not run | where | why |', '|---|---|---|');
    for (const r of errors.slice(0, SUMMARY_ROWS)) out.push(row([r.name, where(r.file, r.error!.line, r.error!.col), r.error!.message]));
    for (const fe of report.fileErrors.slice(0, SUMMARY_ROWS)) out.push(row(['case file', where(fe.file, fe.line, fe.col), fe.message]));
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

/** Text in a Markdown table cell: one line, no HTML, `|` and the emphasis marks escaped (`x*y*z` is a formula, not italics). */
function cell(s: string): string {
  return safeName(s.replace(/\s*\n\s*/g, ' '), 400)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\|*_\x60[\]~]/g, '\\$&');
}
