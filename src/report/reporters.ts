import type { ChalkInstance } from 'chalk';
import type { CheckReport } from '../homework/cases/run.js';
import type { GradeReport } from '../homework/grade/grade.js';
import type { FunctionGradcheckResult } from '../api/gradcheck.js';

/**
 * The reporters, as data (vitest's ReportersMap is the model): a name, what it is in
 * --help, and for each kind of result it can render, a loader of its renderer. A
 * command asks this map which reporters it offers (`reportersFor`) and for the one
 * asked (`loadReporter`); it never switches on a name. Renderers load when used, off
 * start-up. Adding a reporter: its module in src/report/, one entry here (docs/reporters.md).
 */

/** A function's check with what a report says about it (gradcheck). */
export interface FunctionReport {
  result: FunctionGradcheckResult;
  /** the code checked, as named on the command line */
  label: string;
  /** performance.now() when the run started: a case's time */
  started: number;
}

/** What each kind of result is: cases (check), a function's check (gradcheck), grades (grade). */
export interface ReportKinds {
  cases: CheckReport;
  function: FunctionReport;
  grades: GradeReport;
}
export type ReportKind = keyof ReportKinds;

/** How a report is rendered: colour and width for a terminal (none for a file or pipe). */
export interface RenderOptions {
  color?: ChalkInstance;
  width?: number;
  /** grades: why the one submission was not graded (Gradescope) */
  notGraded?: string;
  /** the environment the report is for (the CI's variables: GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY) */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A renderer: the whole report as text, ending in a newline. */
export type Render<K extends ReportKind> = (result: ReportKinds[K], o: RenderOptions) => string;

export interface ReporterEntry {
  /** what --help says after the name, if anything: `junit (JUnit XML)` */
  label?: string;
  /** the kinds it renders, each with a loader of its renderer */
  kinds: { [K in ReportKind]?: () => Promise<Render<K>> };
  /** what it also appends to the file an environment variable names, when set (GitHub's job summary), per kind */
  appendTo?: { variable: string; kinds: { [K in ReportKind]?: () => Promise<Render<K>> } };
}

/** One JSON document: the result as it is (a function's check without the report's own fields). */
const json = async (): Promise<Render<'cases' | 'grades'>> => {
  const { toJson } = await import('./json.js');
  return (r) => `${toJson(r)}\n`;
};
const functionJson = async (): Promise<Render<'function'>> => {
  const { toJson } = await import('./json.js');
  return (r) => `${toJson(r.result)}\n`;
};

/** A reporter of cases renders a function's check too: as one case (its failures with the mistakes named). */
const asCases = (load: () => Promise<(r: CheckReport, o?: RenderOptions) => string>) => async (): Promise<Render<'function'>> => {
  const [render, { functionAsCases }] = await Promise.all([load(), import('./function-cases.js')]);
  return (r, o) => render(functionAsCases(r.result, r.label, r.started), o);
};

const junit = () => import('./junit.js').then((m) => m.renderJunit);
const tap = () => import('./tap.js').then((m) => m.renderTap);
/** The GitHub renderers read where they run (GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY) from the environment they are given. */
const githubWith = (which: 'renderGithub' | 'renderGithubSummary') => () =>
  import('./github.js').then(
    (m) =>
      (r: CheckReport, o: RenderOptions = {}) =>
        m[which](r, githubOptions(o)),
  );
const github = githubWith('renderGithub');
const githubSummary = githubWith('renderGithubSummary');
const githubOptions = (o: RenderOptions) => ({ workspace: o.env?.GITHUB_WORKSPACE || undefined, summary: Boolean(o.env?.GITHUB_STEP_SUMMARY) });

export const REPORTERS = {
  table: {
    label: 'terminal',
    kinds: {
      cases: async () => {
        const { renderCheckTable } = await import('./check-table.js');
        return (r, o) => `${renderCheckTable(r, { color: o.color })}\n`;
      },
      function: async () => {
        const { renderFunctionCheck } = await import('./gradcheck.js');
        return (r, o) => `${renderFunctionCheck(r.result, { color: o.color, label: r.label })}\n`;
      },
      grades: async () => {
        const { renderGradeTable } = await import('./grade.js');
        return (r, o) => `${renderGradeTable(r, { color: o.color, width: o.width })}\n`;
      },
    },
  },
  json: { kinds: { cases: json, function: functionJson, grades: json } },
  junit: { label: 'JUnit XML', kinds: { cases: junit, function: asCases(junit) } },
  tap: { label: 'TAP 13', kinds: { cases: tap, function: asCases(tap) } },
  github: {
    label: 'Actions annotations',
    kinds: { cases: github, function: asCases(github) },
    appendTo: { variable: 'GITHUB_STEP_SUMMARY', kinds: { cases: githubSummary, function: asCases(githubSummary) } },
  },
  gradescope: {
    label: 'results.json for one submission',
    kinds: {
      grades: async () => {
        const { renderGradescope } = await import('./gradescope.js');
        return (r, o) => renderGradescope(r, { notGraded: o.notGraded });
      },
    },
  },
} as const satisfies Record<string, ReporterEntry>;
export type ReporterName = keyof typeof REPORTERS;

/** The reporters that render a kind of result, in the map's order. */
export function reportersFor(kind: ReportKind): ReporterName[] {
  return (Object.keys(REPORTERS) as ReporterName[]).filter((n) => kind in (REPORTERS[n] as ReporterEntry).kinds);
}

/** `table (terminal), json, junit (JUnit XML), …`: the reporters of a kind as --help lists them. */
export function reportersText(kind: ReportKind, last = ', '): string {
  const names = reportersFor(kind).map((n) => {
    const label = (REPORTERS[n] as ReporterEntry).label;
    return label ? `${n} (${label})` : n;
  });
  return names.length > 1 ? `${names.slice(0, -1).join(', ')}${last}${names[names.length - 1]}` : names.join('');
}

/** What a reporter also appends to a file named by the environment (the file, and its renderer loaded now), when that variable is set. */
export async function loadAppendix<K extends ReportKind>(
  name: ReporterName,
  kind: K,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ file: string; render: Render<K> } | null> {
  const to = (REPORTERS[name] as ReporterEntry).appendTo;
  const load = to?.kinds[kind] as (() => Promise<Render<K>>) | undefined;
  const file = to ? env[to.variable] : undefined;
  return load && file ? { file, render: await load() } : null;
}

/** The renderer of one reporter for one kind of result (loaded now); a reporter that does not render that kind is a usage error of the caller. */
export async function loadReporter<K extends ReportKind>(name: ReporterName, kind: K): Promise<Render<K>> {
  const load = (REPORTERS[name] as ReporterEntry).kinds[kind] as (() => Promise<Render<K>>) | undefined;
  if (!load) throw new Error(`the ${name} reporter does not render ${kind}`);
  return load();
}
