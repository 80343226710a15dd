import { existsSync } from 'node:fs';
import { builderOf, type ArgsOf } from './options.js';
import type { CaseSpec } from '../homework/cases/load.js';
import type { FileError } from '../homework/cases/run.js';
import { AgError, type ErrorCode } from '../core/errors.js';
import { splitTopLevel } from '../core/parse/values.js';
import { evaluateValue } from '../core/values.js';
import { Rng } from '../core/random.js';
import { formatError } from '../report/errors.js';
import { assertNotInput } from '../core/io/write.js';
import { reportersText } from '../report/reporters.js';
import { emitReport, reporterOption } from './report.js';
import type { Limits } from '../core/limits.js';
import {
  colors,
  EXIT_USAGE,
  JSON_OPTION,
  inputFiles,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  positiveNumber,
  readFormula,
  run,
  writeOut,
} from './common.js';

export const command = 'check [inputs..]';
export const describe =
  'gradient checks from case files (YAML/JSON) or one formula: autodiff against finite differences, and against expected values or hand-derived formulas';

export const positionals = {
  inputs: { type: 'string', array: true, describe: 'case files or folders (*.yaml, *.yml, *.json; - reads one from standard input), or one formula to check' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  at: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: "a formula's values, as for grad (name=value,..., randn(3,4) redrawn at every point); without --at, values are drawn at random",
  },
  range: { type: 'string', array: true, requiresArg: true, describe: "where a formula's random values come from: name=[low,high],... (default [-3,3])" },
  expect: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: "an expected partial derivative: name=number or formula (a hand-derived answer); jacobian.name=… a vector formula's Jacobian; repeatable",
  },
  'expect-value': { type: 'string', requiresArg: true, describe: 'the expected value of the formula (a number or a formula)' },
  wrt: { type: 'string', array: true, describe: 'check only these variables (comma-separated)' },
  samples: {
    type: 'number',
    describe: "random evaluation points per case where values are random (default 5; a case's samples: wins; not grad's --sample: entries)",
  },
  points: { type: 'number', hidden: true, describe: 'the old name of --samples' },
  'min-digits': { type: 'number', describe: "the fewest significant digits a number answer is judged at (default 2; a case's min_digits: wins)" },
  seed: { type: 'number', default: 42, describe: "seed of random points and values (a case's seed: wins)" },
  rtol: { type: 'number', describe: "relative tolerance (default 1e-5; a case's rtol: wins)" },
  atol: { type: 'number', describe: "absolute tolerance (default 1e-7; a case's atol: wins)" },
  eps: { type: 'number', describe: 'relative finite-difference step (default cbrt(machine ε))' },
  method: { choices: ['central', 'richardson'] as const, describe: "finite-difference method (default central; a case's method: wins)" },
  order: {
    choices: [1, 2] as const,
    describe: "2: also check second derivatives — Hessian-vector products against differences of the gradient along random directions (a case's order: wins)",
  },
  engine: { choices: ['auto', 'js', 'native'] as const, default: 'auto' as const, describe: 'which engine runs the tapes' },
  reporter: reporterOption('cases', `report format: ${reportersText('cases')}`),
  output: { alias: 'o', type: 'string', requiresArg: true, describe: 'write the report to this file; the table still goes to the terminal' },
  shard: { type: 'string', requiresArg: true, describe: 'run part i of n (i/n): a deterministic split of all cases, for parallel CI jobs' },
  jobs: {
    alias: 'j',
    type: 'number',
    describe:
      'threads at most (default: one per core, up to 8); workers start only when the cases left would take long enough to pay for them, and the report is the same for any number',
  },
  json: { ...JSON_OPTION, describe: 'the same as --reporter json' },
  'allow-files': { type: 'boolean', default: false, describe: 'let case files name any file with @file (by default only files in their own folder tree)' },
  'max-rtol': { type: 'number', requiresArg: true, describe: 'the largest rtol a case file may set (default 0.1)' },
  'max-atol': { type: 'number', requiresArg: true, describe: 'the largest atol a case file may set (default 0.01)' },
} as const;

const examples = [
  ['$0 check fixtures/homework/', 'every case file in a folder'],
  ['$0 check cases.yaml --reporter junit -o report.xml', 'JUnit XML for CI, the table in the log'],
  ['$0 check "(x+y)*sin(x)" --expect "x=sin(x)+(x+y)*cos(x)" --expect "y=sin(x)" --samples 5', 'is my derivation right?'],
  ['$0 check "sum(log(1 + exp(-y.*(X*w))))" --at "X=randn(5,3), y=[1,-1,1,1,-1], w=[0.1,0.2,0.3]" --wrt w --order 2', 'second derivatives too (gradgradcheck)'],
  ['$0 check cases.yaml --shard 2/4 --jobs 2', 'the second quarter of the cases on two threads'],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

/** The options that apply to a formula on the command line only. */
const INLINE_ONLY = ['at', 'range', 'expect', 'expectValue', 'wrt'] as const;

/**
 * A positional argument names a case file when it exists or looks like one; otherwise it is a
 * formula. `-` is a case file from standard input, or the formula when an option of a formula
 * (--at, --expect, …) is given.
 */
function isCaseFile(p: string, args: Args): boolean {
  if (p === '-') return !INLINE_ONLY.some((k) => args[k] !== undefined);
  return /\.(ya?ml|json)$/i.test(p) || (!p.startsWith('@') && existsSync(p));
}

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const t0 = performance.now();
    // the check machinery (js-yaml, reporters, the worker pool) loads when check runs, off grad's start-up
    const [
      { CaseFileError, findFiles, inlineCase, loadCaseFile, MAX_SAMPLES, NotCaseFile },
      { defaultJobs, runCases },
      { exitCode, summarize },
      { parseShard, shardSlice },
      { renderCheckTable },
    ] = await Promise.all([
      import('../homework/cases/load.js'),
      import('../homework/cases/pool.js'),
      import('../homework/cases/run.js'),
      import('../homework/cases/shard.js'),
      import('../report/check-table.js'),
    ]);
    const jobs = args.jobs ?? defaultJobs();
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new AgError('usage', `--jobs must be a whole number from 1 to 256, not ${jobs}`);
    // --points was the number of random evaluation points before points: meant grade points
    if (args.points !== undefined && args.samples === undefined) {
      process.stderr.write(`${colors(args, process.stderr).yellow('note:')} --points is now --samples (points: in a case file are grade points)\n`);
      args.samples = args.points;
    }
    if (args.samples !== undefined && (!Number.isInteger(args.samples) || args.samples < 1 || args.samples > MAX_SAMPLES))
      throw new AgError('usage', `--samples must be a whole number from 1 to ${MAX_SAMPLES}, not ${args.samples}`);
    if (args.minDigits !== undefined && (!Number.isInteger(args.minDigits) || args.minDigits < 1 || args.minDigits > 17))
      throw new AgError('usage', `--min-digits must be a whole number from 1 to 17, not ${args.minDigits}`);
    const shard = args.shard !== undefined ? parseShard(args.shard) : undefined;
    const inputs = args.inputs ?? [];
    if (!inputs.length)
      throw new AgError('usage', 'name a case file (or folder), or give a formula', {
        hint: 'autograd-cli check cases.yaml, or autograd-cli check "(x+y)*sin(x)" --expect "y=sin(x)"',
      });
    const paths = inputs.filter((p) => isCaseFile(p, args));
    const formulas = inputs.filter((p) => !isCaseFile(p, args));
    if (inputs.filter((p) => p === '-').length > 1) throw new AgError('usage', 'standard input (-) can be read once');
    if (formulas.length > 1)
      throw new AgError(
        'usage',
        `give one formula at a time (got ${formulas.length}: ${formulas.map((f) => JSON.stringify(f)).join(', ')}); for more, write them to a case file`,
      );
    if (!formulas.length) {
      const inlineOnly = INLINE_ONLY.filter((k) => args[k] !== undefined);
      if (inlineOnly.length)
        throw new AgError('usage', `--${inlineOnly[0].replace('V', '-v')} applies to a formula on the command line; in a case file, write it in the case`);
    }

    const limits = limitsOf(args, 'each');
    const cases: CaseSpec[] = [];
    const fileErrors: FileError[] = [];
    const walkErrors: { file: string; message: string }[] = [];
    // `-`: the case file on standard input, read in its place among the others (a folder of its own: the current one)
    const found = paths.flatMap((p) => (p === '-' ? [{ file: '-', tree: '.', named: true }] : findFiles([p], walkErrors)));
    for (const w of walkErrors) fileErrors.push({ file: w.file, code: 'io', message: `${w.file}: ${w.message}` });
    // the report never goes over an input: refused before anything runs
    if (args.output) assertNotInput(args.output, [...found.map((f) => f.file), ...inputFiles(formulas, args.at ?? [])]);
    // answer keys and submissions met in a folder are not case files: skipped, with one note
    let grading = 0;
    for (const { file, ...where } of found) {
      try {
        cases.push(...loadCaseFile(file, { limits, found: where }).cases);
      } catch (e) {
        if (e instanceof NotCaseFile && !where.named) {
          grading++;
          continue;
        }
        if (!(e instanceof CaseFileError)) throw e;
        fileErrors.push({
          file,
          code: e.code,
          message: e.message,
          ...(e.line !== undefined ? { line: e.line } : {}),
          ...(e.col !== undefined ? { col: e.col } : {}),
          ...(e.source !== undefined ? { source: e.source } : {}),
          ...(e.span ? { span: e.span } : {}),
          ...(e.hint
            ? { hint: e.hint }
            : file === '-' && e.code !== 'limit' && e.code !== 'io'
              ? { hint: 'check - reads a case file; a formula from standard input takes --at, --expect or --wrt' }
              : {}),
        });
      }
    }
    if (formulas.length) {
      cases.push(
        inlineCase(readFormula(formulas[0], limits), {
          at: args.at,
          ranges: parseRanges(args.range ?? [], limits),
          ...parseExpect(args.expect ?? []),
          expectValue: args.expectValue,
          samples: args.samples,
          wrt: parseList(args.wrt),
        }),
      );
    }
    const mine = shard ? shardSlice(cases, shard) : cases;
    // Ctrl-C: the cases in progress are dropped, the finished ones summarised, exit 130
    const stop = { stopped: false };
    const onInt = () => {
      stop.stopped = true;
    };
    process.once('SIGINT', onInt);
    let ran;
    try {
      ran = await runCases(
        mine,
        {
          seed: args.seed,
          rtol: positiveNumber('rtol', args.rtol),
          atol: positiveNumber('atol', args.atol),
          eps: positiveNumber('eps', args.eps),
          method: args.method,
          samples: args.samples,
          minDigits: args.minDigits,
          order: args.order,
          engine: args.engine,
          limits,
          allowFiles: args.allowFiles,
          maxRtol: positiveNumber('max-rtol', args.maxRtol),
          maxAtol: positiveNumber('max-atol', args.maxAtol),
        },
        jobs,
        stop,
      );
    } finally {
      process.removeListener('SIGINT', onInt);
    }
    const { results, note, interrupted } = ran;
    const inRun = [...new Set(results.map((r) => r.file))];
    const report = summarize(inRun, fileErrors, results, performance.now() - t0, shard);

    const err = colors(args, process.stderr);
    for (const fe of fileErrors)
      process.stderr.write(`${formatError(new AgError(fe.code as ErrorCode, fe.message, { source: fe.source, span: fe.span, hint: fe.hint }), err)}\n`);
    if (note) process.stderr.write(`${err.yellow('note:')} ${note}\n`);
    if (grading)
      process.stderr.write(
        `${err.yellow('note:')} skipped ${grading} file${grading > 1 ? 's' : ''} in the folders that ${grading > 1 ? 'are answer keys or submissions' : 'is an answer key or a submission'}, not case files (grade them with autograd-cli grade)\n`,
      );
    if (interrupted) {
      writeOut(`${renderCheckTable(report, { color: colors(args) })}\n`);
      process.stderr.write(`${err.yellow('interrupted:')} ${results.length} of ${mine.length} cases finished; the others did not run\n`);
      return 130;
    }
    const code = fileErrors.length ? EXIT_USAGE : exitCode(report);
    // with -o the table is printed whatever happens to the file, and the exit code still says how the cases went
    await emitReport('cases', report, args, {
      notWritten: (e) => process.stderr.write(`${formatError(new AgError('io', `the report was not written: ${e.message}`), err)}\n`),
    });
    return code;
  });
}

/** `--range x=[-3,3],y=[0,1]` */
function parseRanges(args: string[], limits: Limits): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = Object.create(null);
  for (const arg of args) {
    for (const { text, start } of splitTopLevel(arg)) {
      const eq = text.indexOf('=');
      const name = text.slice(0, eq).trim();
      if (eq < 0 || !/^[A-Za-z_]\w*$/.test(name))
        throw new AgError('usage', `--range should be name=[low,high], not "${text}"`, { span: { start, end: start + text.length }, source: arg });
      let v;
      try {
        v = evaluateValue(text.slice(eq + 1), name, new Rng(0), arg, start + eq + 1, limits);
      } catch (e) {
        throw e instanceof AgError ? new AgError(e.code, e.message.replace(/^--at /, '--range '), { span: e.span, source: e.source, hint: e.hint }) : e;
      }
      if (v.data.length !== 2 || !(v.data[0] < v.data[1]))
        throw new AgError('usage', `--range ${name}: should be [low, high] with low < high`, {
          span: { start: start + eq + 1, end: start + text.length },
          source: arg,
        });
      out[name] = [v.data[0], v.data[1]];
    }
  }
  return out;
}

/**
 * `--expect "x=sin(x)+(x+y)*cos(x)"` (several name=formula pairs may share one --expect, separated by commas);
 * `--expect "jacobian.z=…"` a vector f's Jacobian with respect to z.
 */
function parseExpect(args: string[]): { expect?: Record<string, string>; expectJacobian?: Record<string, string> } {
  if (!args.length) return {};
  const gradient: Record<string, string> = Object.create(null);
  const jacobian: Record<string, string> = Object.create(null);
  for (const arg of args) {
    for (const { text, start } of splitTopLevel(arg)) {
      const eq = text.indexOf('=');
      const name = text.slice(0, eq).trim();
      const jac = /^jacobian\.([A-Za-z_]\w*)$/.exec(name);
      if (eq < 0 || !(jac || /^[A-Za-z_]\w*$/.test(name)) || !text.slice(eq + 1).trim()) {
        throw new AgError('usage', `--expect should be variable=answer or jacobian.variable=answer (a number or a formula), not "${text}"`, {
          span: { start, end: start + text.length },
          source: arg,
        });
      }
      if (jac) jacobian[jac[1]] = text.slice(eq + 1).trim();
      else gradient[name] = text.slice(eq + 1).trim();
    }
  }
  return {
    ...(Object.keys(gradient).length ? { expect: gradient } : {}),
    ...(Object.keys(jacobian).length ? { expectJacobian: jacobian } : {}),
  };
}
