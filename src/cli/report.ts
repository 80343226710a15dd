import type { AgError } from '../core/errors.js';
import { loadReporter, reportersFor, type ReportKind, type ReportKinds, type ReporterName } from '../report/reporters.js';
import { colors, emit, reporterOf, terminalWidth, type CommonArgs } from './common.js';

/** `--reporter` of a command whose results are of this kind: the registry's reporters for it (src/report/reporters.ts). */
export function reporterOption<K extends ReportKind>(kind: K, describe: string) {
  return { choices: reportersFor(kind), default: 'table' as ReporterName, describe } as const;
}

/**
 * A report through the one output path: the reporter asked for (`--reporter`, or json for
 * `--json`) to standard output, or to `-o` while the terminal shows the table.
 */
export async function emitReport<K extends ReportKind>(
  kind: K,
  result: ReportKinds[K],
  args: CommonArgs & { reporter: ReporterName; output?: string },
  o: { notWritten: (e: AgError) => void; notGraded?: string },
): Promise<void> {
  const name = reporterOf(args);
  const [render, table] = await Promise.all([loadReporter(name, kind), loadReporter('table', kind)]);
  const shown = () => table(result, { color: colors(args), width: terminalWidth() });
  emit(!args.output && name === 'table' ? shown() : render(result, { notGraded: o.notGraded }), { output: args.output, shown, notWritten: o.notWritten });
}
