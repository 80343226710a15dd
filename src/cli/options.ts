import type { Argv, ArgumentsCamelCase, InferredOptionTypes, Options } from 'yargs';

/**
 * A command's arguments as data: its positionals, its options (one table: name, type,
 * choices, default, describe, requiresArg, array, …) and its examples. Both readers are
 * made from it: the yargs builder (`builderOf`, for help, errors and every reading) and
 * the plain reader (./plain.ts, start-up). Nothing here loads yargs.
 */

/** An option (or a positional) as a command declares it: the fields yargs and the plain reader read. */
export interface OptionSpec {
  type?: 'string' | 'number' | 'boolean';
  array?: boolean;
  default?: unknown;
  choices?: readonly unknown[];
  requiresArg?: boolean;
  alias?: string | readonly string[];
  coerce?: (v: never) => unknown;
  describe?: string;
  group?: string;
  hidden?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What a command declares: its positionals (in the order `command` names them), its options, its examples. */
export interface CommandSpec {
  positionals: OptionTable;
  options: OptionTable;
  examples: readonly (readonly [string, string])[];
}

/**
 * The yargs builder of a command: the options of a group (the limits) first, then the
 * positionals, then the other options in the table's order — the order --help lists them in.
 */
export function builderOf(spec: CommandSpec): (y: Argv) => Argv {
  return (y) => {
    const entries = Object.entries(spec.options);
    let out = y;
    for (const [name, o] of entries) if (o.group) out = out.option(name, o as never);
    for (const [name, o] of Object.entries(spec.positionals)) out = out.positional(name, o as never);
    for (const [name, o] of entries) if (!o.group) out = out.option(name, o as never);
    for (const [cmd, what] of spec.examples) out = out.example(cmd, what);
    return out;
  };
}

/** The arguments a command's handler gets, from its tables. */
export type ArgsOf<P extends Record<string, Options>, O extends Record<string, Options>> = Mutable<
  ArgumentsCamelCase<InferredOptionTypes<P> & InferredOptionTypes<O>>
>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
