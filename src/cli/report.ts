import { AgError } from '../core/errors.js';
import { appendText } from '../core/io/write.js';
import { loadAppendix, loadReporter, reportersFor, type ReportKind, type ReportKinds, type ReporterName } from '../report/reporters.js';
import { colors, emit, reporterOf, terminalWidth, type CommonArgs } from './common.js';

/** `--reporter` of a command whose results are of this kind: the registry's reporters for it (src/report/reporters.ts). */
export function reporterOption<K extends ReportKind>(kind: K, describe: string) {
  return { choices: reportersFor(kind), default: 'table' as ReporterName, describe } as const;
}

/**
 * A report through the one output path: the reporter asked for (`--reporter`, or json for
 * `--json`) to standard output, or to `-o` while the terminal shows the table; and what
 * the reporter appends to a file its environment variable names (GitHub's job summary).
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
  const env = process.env;
  emit(!args.output && name === 'table' ? shown() : render(result, { notGraded: o.notGraded, env }), { output: args.output, shown, notWritten: o.notWritten });
  // GitHub's job summary: appended to, as every step of the job does
  const appendix = await loadAppendix(name, kind, env);
  if (!appendix) return;
  try {
    appendText(appendix.file, appendix.render(result, { env }));
  } catch (e) {
    if (!(e instanceof AgError)) throw e;
    o.notWritten(e);
  }
}
