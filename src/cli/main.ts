import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { packageRoot } from '../core/engine/native.js';
import { AgError } from '../core/errors.js';
import { closest } from '../core/graph/suggest.js';
import { EXIT_USAGE, terminalWidth, writeError } from './common.js';
import { readPlain, type CommandModuleLike } from './plain.js';
import type { OptionSpec } from './options.js';

/** Marks an argument that starts with `-` but is a formula, not a flag (removed again by middleware). */
const MARK = '\u2063';

/** The one-letter flags of every command (`-h`, `-o` …): a token starting with one of them is left to yargs. */
export const SHORT_FLAGS = new Set(['h', 'o', 'j', 'f']);

/**
 * A formula that starts with `-` (`-log(x)`, `-x*y`, `-x`) looks like a flag to any
 * argument parser; a token that starts with `-` but cannot be a flag (a character no flag
 * has, or a letter that is no one-letter flag) gets an invisible mark in front, which
 * `unmark` takes off once yargs has parsed. Negative numbers and `-x=…` stay as they are.
 * After `--` every token is an operand (POSIX): each is marked and moved to just after the
 * command's name, where yargs reads positionals (`--at` takes every word up to the next flag).
 * A token that itself starts with the mark is marked once more, so `unmark` gives it back
 * as typed (a formula that starts with U+2063 reads as the plain reader reads it).
 */
export function protectFormulas(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const before = (end < 0 ? argv : argv.slice(0, end)).map((a) => (looksLikeFormula(a) || a.startsWith(MARK) ? MARK + a : a));
  if (end < 0) return before;
  const operands = argv.slice(end + 1).map((a) => (a.startsWith('-') || a.startsWith(MARK) ? MARK + a : a));
  const cmd = before.findIndex((a) => COMMANDS.includes(a));
  return cmd < 0 ? [...before, ...operands] : [...before.slice(0, cmd + 1), ...operands, ...before.slice(cmd + 1)];
}

function looksLikeFormula(a: string): boolean {
  // a lone `-` (the formula from standard input) would otherwise reach us as ''
  if (a === '-') return true;
  if (!/^-[^-]/.test(a) || a.includes('=') || /^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(a)) return false;
  return /[^A-Za-z0-9-]/.test(a.slice(1)) || !SHORT_FLAGS.has(a[1]);
}

function unmark(argv: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(argv)) {
    if (typeof v === 'string' && v.startsWith(MARK)) argv[k] = v.slice(MARK.length);
    else if (Array.isArray(v)) argv[k] = v.map((x) => (typeof x === 'string' && x.startsWith(MARK) ? x.slice(MARK.length) : x));
  }
}

/**
 * The commands, in --help's order: one list for yargs and for the unknown-command hint.
 * Each command's module (and what it imports) is loaded when it runs: a one-off `grad`
 * initialises no other command's code (start-up, bench/cold-start.mjs).
 */
const COMMAND_LOADERS: Record<string, () => Promise<CommandModuleLike>> = {
  grad: () => import('./grad.js'),
  graph: () => import('./graph.js'),
  derive: () => import('./derive.js'),
  jacobian: () => import('./jacobian.js'),
  hessian: () => import('./hessian.js'),
  check: () => import('./check.js'),
  gradcheck: () => import('./gradcheck.js'),
  grade: () => import('./grade.js'),
  doctor: () => import('./doctor.js'),
};
/** The commands, as typed (this list answers before yargs parses). */
const COMMANDS = Object.keys(COMMAND_LOADERS);

/** A command's module, by the name it is typed as. */
export async function loadCommand(name: string): Promise<CommandModuleLike> {
  const mod = await COMMAND_LOADERS[name]();
  if (mod.command.split(' ')[0] !== name) throw new Error(`src/cli/${name}.ts defines the command ${mod.command}`);
  return mod;
}

/** Every command's module, in --help's order. */
export const loadCommands = () => Promise.all(COMMANDS.map(loadCommand));

/** The version of this package, written into the bundle by the build (scripts/build.mjs). */
declare const __AUTOGRAD_VERSION__: string | undefined;

function version(): string {
  if (typeof __AUTOGRAD_VERSION__ === 'string') return __AUTOGRAD_VERSION__;
  // running from source: our own package.json, never the one of the folder we run in
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usageError(e: AgError, wantsJson: boolean): never {
  writeError(e, { json: wantsJson });
  process.exit(EXIT_USAGE);
}

/** `autograd-cli completion [bash|zsh]`: yargs's completion script, for the shell named (default: $SHELL's). */
const COMPLETION = 'completion';
const SHELLS = ['bash', 'zsh'];

/**
 * The shell `completion` writes for: the one named, else $SHELL's. yargs picks its script
 * (and the form of its answers) by $SHELL, so this process's SHELL is set to it.
 */
function completionShell(argv: string[]): AgError | null {
  const [, shell, ...rest] = argv;
  if (rest.length || (shell !== undefined && !SHELLS.includes(shell)))
    return new AgError('usage', 'completion takes one shell, bash or zsh', {
      hint: 'autograd-cli completion bash >> ~/.bashrc, or autograd-cli completion zsh > ~/.zsh/completions/_autograd-cli',
    });
  if (shell) process.env.SHELL = `/bin/${shell}`;
  return null;
}

/** The first word, when it is neither a command nor a flag: say so before guessing. */
function unknownCommand(argv: string[]): AgError | null {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || COMMANDS.includes(first)) return null;
  if (first === COMPLETION) return completionShell(argv);
  const guess = closest(first, COMMANDS);
  return new AgError('usage', `unknown command ${first}`, {
    hint: guess ? `did you mean ${guess}? (the commands are ${COMMANDS.join(', ')})` : `the commands are ${COMMANDS.join(', ')}; see autograd-cli --help`,
  });
}

/** The options every command has (besides yargs's --help and --version). */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  color: { type: 'boolean', describe: 'force colours on or off (default: on for a terminal, off for pipes and when NO_COLOR is set and not empty)' },
};

const SCRIPT_NAME = 'autograd-cli';

/**
 * The whole command line interface as yargs reads it: usage, help, errors, every
 * reading, and `completion` (the script, which asks back with --get-yargs-completions).
 * `commands` are loadCommands()'s (tests give the same builders other handlers).
 */
export async function yargsCli(argv: string[], commands: readonly CommandModuleLike[], wantsJson = argv.includes('--json')) {
  // loaded only for a command line that is not plain (see ./plain.ts): start-up
  const { default: yargs } = await import('yargs');
  return yargs(protectFormulas(argv))
    .scriptName(SCRIPT_NAME)
    .usage(
      '$0 <command> [options]\n\nParse a formula into a computational graph, differentiate it in reverse and forward mode, explain what flows along every edge, and check it against finite differences.',
    )
    .parserConfiguration({
      'dot-notation': false,
      'parse-numbers': true,
      'parse-positional-numbers': false,
      'camel-case-expansion': true,
      'boolean-negation': true,
    })
    .middleware(unmark, true)
    .command(commands as unknown as CommandModule[])
    .completion(COMPLETION, 'print a completion script for bash or zsh: autograd-cli completion bash >> ~/.bashrc (zsh: completion zsh)')
    .options(GLOBAL_OPTIONS as Record<string, Record<string, unknown>>)
    .demandCommand(1, 'name a command, e.g. autograd-cli grad "(x+y)*sin(x)" --at x=pi,y=pi')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(version())
    .wrap(Math.min(110, terminalWidth()))
    .epilogue(
      'Exit codes: 0 success, 1 a gradient check failed, 2 bad input or usage.\nDocs: README.md. Formulas use mathjs syntax: * is the matrix product, .* ./ .^ are elementwise, indices are 1-based.',
    )
    .fail((msg, err) => {
      usageError(err instanceof AgError ? err : new AgError('usage', msg || (err ? err.message : 'bad usage'), { hint: 'see autograd-cli --help' }), wantsJson);
    });
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const wantsJson = argv.includes('--json');
  const unknown = unknownCommand(argv);
  if (unknown) usageError(unknown, wantsJson);
  // a plain command line runs without building yargs (start-up); any other goes to yargs
  const plain = COMMANDS.includes(argv[0]) ? readPlain(argv, [await loadCommand(argv[0])], GLOBAL_OPTIONS, SCRIPT_NAME) : null;
  if (plain) await plain.module.handler(plain.args as never);
  else await (await yargsCli(argv[0] === COMPLETION ? [COMPLETION] : argv, await loadCommands(), wantsJson)).parseAsync();
}
