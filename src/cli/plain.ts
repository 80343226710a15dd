import type { Argv } from 'yargs';
import type { CommandSpec, OptionSpec, OptionTable } from './options.js';

/**
 * A command line read without yargs, for start-up (bench/cold-start.mjs): building
 * yargs and its parse cost more than the rest of a one-off `grad` together. The option
 * table is each command's own (./options.ts), the one its yargs builder is made from.
 * Only a *plain* command line is read here: words that yargs reads one way only (a known `--flag`,
 * `--flag=value`, `--no-flag` for a boolean, values that do not start with `-`, exactly
 * the positionals the command takes, values within their `choices`). Anything else
 * (`--help`, `-o`, `--`, an unknown or repeated flag, a missing value, a word that starts
 * with `-`, …) returns null and goes to yargs, which gives its own help, errors and
 * readings. test/cli/plain.test.ts holds the two readings equal.
 */

/** What a command module gives yargs (src/cli/*.ts): its builder is made from its tables (./options.ts). */
export interface CommandModuleLike extends Pick<CommandSpec, 'positionals' | 'options'> {
  command: string;
  builder: (y: Argv) => unknown;
  handler: (args: never) => unknown;
}

/** The fields of an option read here (any other makes the command not plain). */
const UNDERSTOOD = new Set(['type', 'array', 'default', 'choices', 'requiresArg', 'alias', 'coerce', 'describe', 'group', 'hidden']);

interface Table {
  /** required `<name>`s, then at most one `[name..]` */
  positionals: { name: string; variadic: boolean }[];
  options: Map<string, OptionSpec>;
  plain: boolean;
}

const tables = new WeakMap<CommandModuleLike, Table>();

/** The option table of a command, as it declares it (the same table its yargs builder is made from), plus the options every command has. */
export function tableOf(mod: CommandModuleLike, globals: OptionTable): Table {
  let table = tables.get(mod);
  if (table) return table;
  const options = new Map<string, OptionSpec>();
  let plain = true;
  for (const [name, spec] of [...Object.entries(mod.options), ...Object.entries(globals)]) {
    if (options.has(name) || Object.keys(spec).some((k) => !UNDERSTOOD.has(k))) plain = false;
    options.set(name, spec);
  }
  const positionalSpecs = new Map(Object.entries(mod.positionals));
  const positionals: Table['positionals'] = [];
  for (const word of mod.command.split(' ').slice(1)) {
    const m = /^(?:<([\w-]+)>|\[([\w-]+)\.\.\])$/.exec(word);
    if (!m || positionals.some((p) => p.variadic)) plain = false;
    else positionals.push({ name: m[1] ?? m[2], variadic: m[2] !== undefined });
  }
  // a positional is a string (or strings) and nothing more
  for (const [name, spec] of positionalSpecs) {
    const p = positionals.find((q) => q.name === name);
    if (!p || spec.type !== 'string' || Boolean(spec.array) !== p.variadic || Object.keys(spec).some((k) => !['type', 'array', 'describe'].includes(k)))
      plain = false;
  }
  for (const spec of options.values()) {
    if (spec.type === 'boolean' && (spec.array || spec.choices)) plain = false;
  }
  table = { positionals, options, plain };
  tables.set(mod, table);
  return table;
}

/** yargs's camel-case expansion of a flag's name. */
const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A value as yargs reads it for this option, or undefined where yargs could read it otherwise. */
function valueFor(spec: OptionSpec, text: string): unknown {
  let v: unknown;
  if (spec.type === 'number') v = Number(text);
  else if (spec.type === 'string') v = text;
  // no type: yargs turns number-like words into numbers; a plain word stays a word
  else if (/^[A-Za-z_][\w-]*$/.test(text)) v = text;
  else return undefined;
  if (spec.choices && !spec.choices.includes(v)) return undefined;
  return v;
}

/**
 * The command and its arguments, as yargs would give them to its handler, when the
 * command line is plain (see above); null otherwise.
 */
export function readPlain<M extends CommandModuleLike>(
  argv: readonly string[],
  modules: readonly M[],
  globals: OptionTable,
  scriptName: string,
): { module: M; args: Record<string, unknown> } | null {
  const [name, ...rest] = argv;
  const mod = modules.find((m) => m.command.split(' ')[0] === name);
  if (!mod) return null;
  const { positionals, options, plain } = tableOf(mod, globals);
  if (!plain) return null;
  const given = new Map<string, unknown>();
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i];
    if (!word.startsWith('-')) {
      words.push(word);
      continue;
    }
    const m = /^--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?:=([\s\S]*))?$/.exec(word);
    if (!m) return null;
    const [, flag, inline] = m;
    const spec = options.get(flag);
    if (!spec) {
      const negated = /^no-(.+)$/.exec(flag)?.[1];
      const of = negated === undefined ? undefined : options.get(negated);
      if (negated === undefined || of?.type !== 'boolean' || inline !== undefined || given.has(negated)) return null;
      given.set(negated, false);
      continue;
    }
    if (given.has(flag) && !spec.array) return null;
    if (spec.type === 'boolean') {
      // `--json false` and `--json=false` are yargs's to read
      if (inline !== undefined || /^(true|false)$/.test(rest[i + 1] ?? '')) return null;
      given.set(flag, true);
      continue;
    }
    const texts: string[] = [];
    if (inline !== undefined) {
      // yargs takes quotes off a value after `=`, and reads an array's empty `--at=` as no value
      if (inline === '' || /^["']|["']$/.test(inline)) return null;
      texts.push(inline);
    }
    // an array takes every word up to the next flag; any other option one word
    while (i + 1 < rest.length && !rest[i + 1].startsWith('-') && (spec.array || texts.length === 0)) texts.push(rest[++i]);
    if (texts.length === 0) return null;
    const values = texts.map((t) => valueFor(spec, t));
    if (values.includes(undefined)) return null;
    given.set(flag, spec.array ? [...((given.get(flag) as unknown[] | undefined) ?? []), ...values] : values[0]);
  }
  const required = positionals.filter((p) => !p.variadic).length;
  const variadic = positionals.some((p) => p.variadic);
  if (words.length < required || (!variadic && words.length > required)) return null;

  const args: Record<string, unknown> = { _: [name] };
  const set = (key: string, spec: OptionSpec, value: unknown) => {
    const aliases = spec.alias === undefined ? [] : typeof spec.alias === 'string' ? [spec.alias] : spec.alias;
    for (const k of [key, ...aliases]) {
      args[k] = value;
      args[camel(k)] = value;
    }
  };
  positionals.forEach((p, i) => set(p.name, {}, p.variadic ? words.slice(i) : words[i]));
  for (const [key, spec] of options) {
    if (!given.has(key) && spec.default === undefined) continue;
    const value = given.has(key) ? given.get(key) : spec.default;
    set(key, spec, spec.coerce ? spec.coerce(value as never) : value);
  }
  args.$0 = scriptName;
  return { module: mod, args };
}
