import { stringify } from 'yaml';
import type { CheckReport } from '../homework/cases/run.js';
import { caseErrorText, location } from './check-table.js';
import { safeName, safeText } from '../core/safe-text.js';

/**
 * TAP version 13: the plan, one test point per case (and per unreadable file), and
 * for each failure a YAML diagnostic block with the counterexample and where the case is.
 */
export function renderTap(report: CheckReport): string {
  const out = ['TAP version 13', `1..${report.cases.length + report.fileErrors.length}`];
  let n = 0;
  for (const r of report.cases) {
    n++;
    const title = description(r.file === '<inline>' ? r.name : `${r.name} (${location(r.file, r.line)})`);
    if (r.status === 'pass') {
      out.push(`ok ${n} - ${title}`);
      continue;
    }
    out.push(`not ok ${n} - ${title}`);
    const at = r.file === '<inline>' ? undefined : { file: r.file, line: r.status === 'fail' ? r.failures[0].line : r.error!.line };
    const diag =
      r.status === 'fail'
        ? {
            message: r.failures[0].message,
            severity: 'fail',
            f: r.f,
            failures: r.failures.map((f) => ({ entry: f.entry, message: f.message, line: f.line, point: f.point })),
            ...(at ? { at } : {}),
          }
        : { message: r.error!.message, severity: 'error', code: r.error!.code, f: r.f, detail: caseErrorText(r, r.error!), ...(at ? { at } : {}) };
    out.push(block(diag));
  }
  for (const fe of report.fileErrors) {
    n++;
    out.push(`not ok ${n} - ${description(`load ${fe.file}`)}`);
    out.push(block({ message: fe.message, severity: 'error', code: fe.code, at: { file: fe.file } }));
  }
  const s = report.summary;
  out.push(
    `# ${s.total} cases: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors${report.fileErrors.length ? `, ${report.fileErrors.length} files not read` : ''}`,
  );
  return `${out.join('\n')}\n`;
}

/** A test description on one line: `#` would start a directive, so it is escaped. */
function description(s: string): string {
  return safeName(s.replace(/\s*\n\s*/g, ' '), 200)
    .replace(/\\/g, '\\\\')
    .replace(/#/g, '\\#');
}

function block(diag: object): string {
  const body = stringify(safeStrings(diag), { lineWidth: 0, aliasDuplicateObjects: false, schema: 'json' }).trimEnd();
  return ['  ---', ...body.split('\n').map((l) => `  ${l}`), '  ...'].join('\n');
}

/** Every string of a diagnostic made terminal-safe (TAP consumers print them). */
function safeStrings(v: unknown): unknown {
  if (typeof v === 'string') return safeText(v, { max: 20_000 });
  if (Array.isArray(v)) return v.map(safeStrings);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(v)) out[k] = safeStrings((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
