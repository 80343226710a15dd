import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS, loadCommands, yargsCli } from '../../src/cli/main.js';
import { readPlain, tableOf, type CommandModuleLike } from '../../src/cli/plain.js';

/**
 * A plain command line is read without yargs (src/cli/plain.ts, start-up); whenever that
 * reading answers, it must be what yargs gives the same command's handler. yargs runs
 * here with the real builders and handlers that only keep their arguments.
 */
const MODULES: readonly CommandModuleLike[] = await loadCommands();

async function viaYargs(argv: string[]): Promise<Record<string, unknown> | { failed: string }> {
  let got: Record<string, unknown> | { failed: string } = { failed: 'no handler ran' };
  const keep = MODULES.map((m) => ({ ...m, handler: (a: Record<string, unknown>) => void (got = { ...a }) }));
  try {
    await (await yargsCli(argv, keep, false))
      .exitProcess(false)
      // yargs calls every fail handler, the CLI's (which exits) last: stop before it
      .fail((msg, err) => {
        throw new Error(`yargs failed: ${msg ?? err?.message}`);
      })
      .parseAsync();
  } catch (e) {
    return { failed: (e as Error).message };
  }
  return got;
}

function plain(argv: string[]) {
  return readPlain(argv, MODULES, GLOBAL_OPTIONS, 'autograd-cli');
}

async function same(argv: string[]): Promise<boolean> {
  const p = plain(argv);
  if (!p) return false;
  expect(p.module.command.split(' ')[0]).toBe(argv[0]);
  expect(p.args, JSON.stringify(argv)).toEqual(await viaYargs(argv));
  return true;
}

describe('a plain command line is read as yargs reads it', () => {
  it('the lecture example and the usual flags of each command', async () => {
    const lines = [
      ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi'],
      ['grad', '(x+y)*sin(x)', '--at', 'x=pi', 'y=pi', '--json'],
      ['grad', '--at=x=1,y=2', '--wrt', 'x', '--no-check', '--digits', '3', 'x*y'],
      ['grad', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--wrt', 'W[1,2]', '--edges', 'full', '--method', 'richardson', '--engine', 'js'],
      ['grad', 'x^2', '--at', 'x=1', '--rtol', '1e-3', '--atol=0', '--fd-max', '10', '--seed', '7', '--color', '--max-nodes', '100'],
      ['grad', 'x^2', '--at', 'x=1', '--no-color', '--latex', '--timeout', '2.5'],
      ['graph', 'x*y', '--at', 'x=1,y=2', '--mode', 'forward', '--wrt', 'x'],
      ['derive', 'sin(x^2)', '--wrt', 'x', '--latex'],
      ['jacobian', '[x*y, sin(x)]', '--at', 'x=2,y=3', '--mode', 'auto'],
      ['hessian', 'x^2*y', '--at', 'x=1,y=2', '--no-check'],
      ['check', 'x^2', '--at', 'x=1'],
      ['check', 'a.yaml', 'b.yaml', '--reporter', 'json'],
      ['grade', 'key.yaml', 'subs', '--reporter', 'json'],
      ['grade', 'key.yaml'],
      ['doctor', '--json'],
    ];
    const read = [];
    for (const argv of lines) read.push(await same(argv));
    // grad's usual lines are all read without yargs
    expect(read.slice(0, 6)).toEqual([true, true, true, true, true, true]);
  });

  it('the yargs side of this test reports a failure instead of exiting', async () => {
    expect(await viaYargs(['grad', 'x', '--at='])).toEqual({ failed: 'yargs failed: Not enough arguments following: at' });
  });

  it('what is not plain goes to yargs', () => {
    for (const argv of [
      ['grad', '--help'],
      ['grad', 'x', '-h'],
      ['grad', '-x*y', '--at', 'x=1'],
      ['grad', 'x', '--at', 'x=1', '--', 'y'],
      ['grad', 'x', '--digits', '3', '--digits', '4'],
      ['grad', 'x', '--json', 'false'],
      ['grad', 'x', '--bogus'],
      ['grad', 'x', 'y'],
      ['grad'],
      ['grad', 'x', '--at'],
      ['grad', 'x', '--method', 'simpson'],
      ['grad', 'x', '--rtol', '-1'],
      ['grad', 'x', '--fdMax', '3'],
      ['grad', 'x', '--no-at'],
      ['grad', 'x', "--at='x=1'"],
      ['grad', 'x', '--at='],
      ['grad', 'x', '--at=', 'x=1'],
      ['--no-color', 'grad', 'x'],
      ['--version'],
      ['graph', 'x', '-o', 'g.svg'],
    ]) {
      expect(plain(argv), JSON.stringify(argv)).toBeNull();
    }
  });

  // invisible and format characters: zero-width space to RLM, word joiner to invisible plus
  // (U+2063 is the mark protectFormulas puts before a formula), BOM, soft hyphen, bidi
  // embeddings and isolates, combining marks
  const INVISIBLE = [
    '\u200B',
    '\u200C',
    '\u200D',
    '\u200E',
    '\u200F',
    '\u2060',
    '\u2061',
    '\u2062',
    '\u2063',
    '\u2064',
    '\uFEFF',
    '\u00AD',
    '\u202A',
    '\u202B',
    '\u202C',
    '\u202D',
    '\u202E',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
    '\u0301',
    '\u0323',
    '\u20DD',
  ];

  it('a formula or value that starts, ends or is made of an invisible or format character reads alike', async () => {
    for (const c of INVISIBLE) {
      for (const argv of [
        ['grad', `${c}${c}x^2`, '--at', `${c}x=1`],
        ['grad', c, `--at=x=1${c}`],
        ['derive', `${c}-x`, '--wrt', 'x'],
      ]) {
        const y = await viaYargs(argv);
        const p = plain(argv);
        if (p) expect(p.args, JSON.stringify(argv)).toEqual(y);
        // what yargs hands over is what was typed: no invisible character added or taken away
        expect(y, JSON.stringify(argv)).toMatchObject({ formula: argv[1] });
      }
    }
  });

  it('random command lines of every command: read alike, or left to yargs', async () => {
    const values = [
      'x=1',
      'x=pi,y=pi',
      'x^2',
      '(x+y)*sin(x)',
      '3',
      '0',
      '-1',
      '1e-3',
      ' 5',
      '0x10',
      'abc',
      'true',
      'false',
      '',
      'central',
      'richardson',
      'js',
      'auto',
      'none',
      'full',
      'summary',
      'forward',
      'json',
      'tap',
      '-',
      '--',
      '-h',
      '-x',
      'a.yaml',
    ];
    for (const mod of MODULES) {
      const name = mod.command.split(' ')[0];
      const flags = [...tableOf(mod, GLOBAL_OPTIONS).options.keys()];
      // a value with invisible or format characters before, inside or after it
      const value = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...values) },
        fc
          .tuple(fc.constantFrom(...INVISIBLE), fc.constantFrom(...values), fc.nat(3))
          .map(([c, v, where]) => (where === 0 ? c + v : where === 1 ? v + c : where === 2 ? `${v.slice(0, 1)}${c}${v.slice(1)}` : c)),
      );
      const word = fc.oneof(
        value,
        fc.constantFrom(...flags).map((f) => `--${f}`),
        fc.constantFrom(...flags).map((f) => `--no-${f}`),
        fc.tuple(fc.constantFrom(...flags), value).map(([f, v]) => `--${f}=${v}`),
        fc.tuple(fc.constantFrom(...INVISIBLE), fc.constantFrom(...flags)).map(([c, f]) => `${c}--${f}`),
      );
      let read = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(word, { maxLength: 6 }), async (words) => {
          if (await same([name, ...words])) read++;
        }),
        { numRuns: 150, seed: 14 },
      );
      // the property is not empty: some of the lines were read without yargs
      if (name !== 'gradcheck') expect(read, name).toBeGreaterThan(5);
    }
  }, 120_000);
});
