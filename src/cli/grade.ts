import { mkdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { builderOf, type ArgsOf } from './options.js';
import type { FileError } from '../homework/cases/run.js';
import { AgError, type ErrorCode } from '../core/errors.js';
import { assertNotInput, writeAtomic } from '../core/io/write.js';
import { formatError } from '../report/errors.js';
import { reportersText } from '../report/reporters.js';
import { emitReport, reporterOption } from './report.js';
import { safeName, safeText } from '../core/safe-text.js';
import { colors, EXIT_OK, EXIT_USAGE, JSON_OPTION, LIMIT_OPTIONS, type LimitArgs, limitsOf, positiveNumber, reporterOf, run } from './common.js';

export const command = 'grade <key> [submissions..]';
export const describe = 'grade student submissions against an answer key: points per problem, a gradebook, feedback per student';

export const positionals = {
  key: { type: 'string', describe: 'the answer key (YAML/JSON): title and problems' },
  submissions: { type: 'string', array: true, describe: 'submission files, or folders of them (*.yaml, *.yml, *.json); - reads one from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  gradebook: { type: 'string', requiresArg: true, describe: 'write the gradebook as CSV: one row per student, a column per problem, total, maximum' },
  feedback: { type: 'string', requiresArg: true, describe: 'write one feedback file per student into this folder' },
  reporter: reporterOption('grades', reportersText('grades', ', or ')),
  output: { alias: 'o', type: 'string', requiresArg: true, describe: 'write the report to this file; the table still goes to the terminal' },
  json: { ...JSON_OPTION, describe: 'the same as --reporter json' },
  seed: { type: 'number', default: 42, describe: "seed of the key's random points (a problem's seed: wins)" },
  engine: { choices: ['auto', 'js', 'native'] as const, default: 'auto' as const, describe: 'which engine runs the tapes' },
  'allow-files': { type: 'boolean', default: false, describe: 'let the key name any file with @file (by default only files in its own folder tree)' },
  'max-rtol': { type: 'number', requiresArg: true, describe: 'the largest rtol the key may set (default 0.1)' },
  'max-atol': { type: 'number', requiresArg: true, describe: 'the largest atol the key may set (default 0.01)' },
} as const;

const examples = [
  ['$0 grade key.yaml submissions/ --gradebook grades.csv --feedback feedback/', 'grade a folder of submissions'],
  ['$0 grade key.yaml /autograder/submission/ --reporter gradescope -o /autograder/results/results.json', 'as a Gradescope autograder'],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const t0 = performance.now();
    const [{ findFiles, CaseFileError }, { loadKey }, { loadSubmission }, grading, { renderFeedback }, { renderGradebook }, { feedbackNames }] =
      await Promise.all([
        import('../homework/cases/load.js'),
        import('../homework/grade/key.js'),
        import('../homework/grade/submission.js'),
        import('../homework/grade/grade.js'),
        import('../report/grade.js'),
        import('../report/gradebook.js'),
        import('../homework/grade/names.js'),
      ]);
    const reporter = reporterOf(args);
    const limits = limitsOf(args, 'each');
    const key = args.key!;
    const walkErrors: { file: string; message: string }[] = [];
    const paths = args.submissions ?? [];
    if (!paths.length)
      throw new AgError('usage', 'name the submissions to grade (files or folders) after the key', { hint: 'autograd-cli grade key.yaml submissions/' });
    const same = sameFile(key);
    const found = findFiles(paths, walkErrors).filter(({ file: f }) => !same(f) && !(args.output && sameFile(args.output)(f)));
    const files = found.map((f) => f.file);
    // Gradescope: a student's upload that is not one answer file still gets a result (score 0, and why), never "autograder failed"
    const gradescope = reporter === 'gradescope';
    let notGraded: string | undefined;
    if (gradescope && files.length !== 1) {
      const names = files.map((f) => safeName(relative(paths[0] ?? '.', f) || basename(f), 40));
      notGraded =
        files.length === 0
          ? 'no answer file was found. Upload one file with your answers (.yaml, .yml or .json).'
          : `it has ${files.length} answer files (${names.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}). Upload exactly one file with all your answers.`;
      process.stderr.write(
        `${formatError(new AgError('usage', `--reporter gradescope grades one submission; ${files.length === 0 ? 'none was found' : `found ${files.length}`}`, { hint: 'Gradescope runs the autograder once per submission: autograd-cli grade key.yaml /autograder/submission/ --reporter gradescope -o /autograder/results/results.json' }), colors(args, process.stderr))}\n`,
      );
    }
    // nothing written may replace an input: refused before any work
    const inputs = [key, ...files];
    if (args.output) assertNotInput(args.output, inputs);
    if (args.gradebook) assertNotInput(args.gradebook, inputs, '--gradebook');

    let k;
    try {
      k = loadKey(key, { limits });
    } catch (e) {
      throw e instanceof CaseFileError ? new AgError(e.code, e.message, { source: e.source, span: e.span, hint: e.hint }) : e;
    }
    const options = {
      seed: args.seed,
      engine: args.engine,
      limits,
      allowFiles: args.allowFiles,
      maxRtol: positiveNumber('max-rtol', args.maxRtol),
      maxAtol: positiveNumber('max-atol', args.maxAtol),
    };
    const prepared = grading.prepareKey(k, options);
    const fileErrors: FileError[] = walkErrors.map((w) => ({ file: w.file, code: 'io', message: `${w.file}: ${w.message}` }));
    const students = [];
    let failure: unknown;
    for (const { file, tree } of notGraded === undefined ? found : []) {
      let sub;
      try {
        sub = loadSubmission(file, { limits, tree });
      } catch (e) {
        if (!(e instanceof CaseFileError)) throw e;
        fileErrors.push({
          file,
          code: e.code,
          message: e.message,
          ...(e.source !== undefined ? { source: e.source } : {}),
          ...(e.span ? { span: e.span } : {}),
        });
        if (gradescope) {
          const why = e.message.startsWith(file) ? e.message.slice(file.length).replace(/^(?::\d+)*: (?:cannot read it: )?/, '') : e.message;
          const where = e.line !== undefined ? ` (line ${e.line}${e.col !== undefined ? `, column ${e.col}` : ''})` : '';
          notGraded = `your answer file ${safeName(basename(file), 40)} could not be read${where}: ${safeText(why, { max: 400, oneLine: true })}. Fix it and submit again.`;
        }
        continue;
      }
      try {
        students.push(grading.gradeSubmission(prepared.problems, sub, options));
      } catch (e) {
        if (!gradescope) throw e;
        // the result is written first; the failure is the run's (exit 2, its message on stderr for the instructor)
        failure = e;
        notGraded = 'the autograder could not grade it (a problem in the autograder, not in your answers). Your instructor can see the details.';
      }
    }
    const report = grading.gradeReport(k, prepared.problems, students, fileErrors, prepared.warnings, performance.now() - t0);

    const err = colors(args, process.stderr);
    for (const fe of fileErrors)
      process.stderr.write(`${formatError(new AgError(fe.code as ErrorCode, fe.message, { source: fe.source, span: fe.span }), err)}\n`);
    let code = fileErrors.length || notGraded !== undefined ? EXIT_USAGE : EXIT_OK;
    // a gradebook or feedback that cannot be written is the run's failure: the grades are what it is for
    const write = (path: string, text: string, durable = true) => {
      try {
        writeAtomic(path, text, { durable });
      } catch (e) {
        if (!(e instanceof AgError)) throw e;
        process.stderr.write(`${formatError(e, err)}\n`);
        code = EXIT_USAGE;
      }
    };
    if (args.gradebook) write(args.gradebook, renderGradebook(report));
    if (args.feedback) {
      const dir = args.feedback;
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new AgError('io', `--feedback ${dir}: cannot make the folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const names = feedbackNames(students.map((s) => s.student));
      students.forEach((s, i) => {
        const path = join(dir, names[i]);
        try {
          assertNotInput(path, inputs, '--feedback');
        } catch (e) {
          process.stderr.write(`${formatError(e as AgError, err)}\n`);
          code = EXIT_USAGE;
          return;
        }
        // feedback files can be made again: one fsync each would cost more than the grading (300 files: 1.3 s)
        write(path, renderFeedback(report, s), false);
      });
    }
    await emitReport('grades', report, args, {
      notGraded,
      notWritten: (e) => {
        process.stderr.write(`${formatError(e, err)}\n`);
        code = EXIT_USAGE;
      },
    });
    if (failure !== undefined) throw failure;
    return code;
  });
}

/** Whether a path is the same file as `a` (by device and inode, so another spelling or a link is caught). */
function sameFile(a: string): (b: string) => boolean {
  let st: { dev: number; ino: number } | undefined;
  try {
    st = statSync(a);
  } catch {
    st = undefined;
  }
  return (b) => {
    if (!st) return false;
    try {
      const o = statSync(b);
      return o.dev === st.dev && o.ino === st.ino;
    } catch {
      return false;
    }
  };
}
