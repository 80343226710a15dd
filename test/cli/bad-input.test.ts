import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers.js';

/**
 * The bad-input catalogue: every entry goes through the real CLI and must exit 2 with
 * one clear line of message (a caret under the offending span where there is one), no
 * stack trace, nothing on stdout — and with --json, nothing on stdout but the error.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-bad-'));
const file = (name: string, content: string | Buffer) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const deep = `${'('.repeat(10_000)}x${')'.repeat(10_000)}`;
const huge = file('huge.txt', `${'x+'.repeat(1_000_000)}x`);
const longOk = file('long.txt', `${'x+'.repeat(20_000)}x`);

interface Bad {
  name: string;
  args: string[];
  message: RegExp;
  /** the caret line expected under the source line (exact), or true for "some caret" */
  caret?: string | true;
  hint?: RegExp;
}

const at = (v: string) => ['--at', v];
const catalogue: Bad[] = [
  { name: 'empty formula', args: ['grad', '', ...at('x=1')], message: /the formula is empty/ },
  { name: 'blank formula', args: ['grad', '   ', ...at('x=1')], message: /the formula is empty/ },
  { name: 'unclosed parenthesis', args: ['grad', '(x+1', ...at('x=1')], message: /parenthesis \) expected/i, caret: true, hint: /1 bracket is not closed/ },
  { name: 'extra closing parenthesis', args: ['grad', 'x+1)', ...at('x=1')], message: /unexpected/i, caret: '     ^' },
  { name: 'unclosed call', args: ['grad', 'sin(x', ...at('x=1')], message: /expected/i, caret: true },
  {
    name: 'unknown function with a suggestion',
    args: ['grad', 'sinn(x)', ...at('x=1')],
    message: /unknown function sinn/,
    caret: '  ^^^^',
    hint: /did you mean sin\?/,
  },
  {
    name: 'unknown function without a suggestion',
    args: ['grad', 'x + frobnicate(x)', ...at('x=1')],
    message: /unknown function frobnicate/,
    caret: '      ^^^^^^^^^^',
  },
  { name: 'missing value', args: ['grad', 'x*y', ...at('x=1')], message: /no value for the variable y/, caret: '    ^', hint: /--at y=/ },
  { name: 'no --at at all', args: ['grad', 'x^2'], message: /no value for the variable x/, caret: '  ^' },
  { name: 'too few arguments', args: ['grad', 'atan2(x)', ...at('x=1')], message: /atan2 takes 2 arguments, not 1/, caret: true },
  { name: 'too many arguments', args: ['grad', 'sin(x, x)', ...at('x=1')], message: /sin takes 1 argument, not 2/, caret: true },
  {
    name: 'shape mismatch',
    args: ['grad', 'sum(W*x)', ...at('W=[[1,2,3],[4,5,6]], x=[1,2]')],
    message: /\[2,3\] \* \[2\] — inner dimensions differ/,
    caret: '       ^',
  },
  { name: 'broadcast mismatch', args: ['grad', 'sum(x + y)', ...at('x=[1,2], y=[1,2,3]')], message: /do not broadcast/, caret: '        ^' },
  { name: 'power of a matrix', args: ['grad', 'sum(W^2)', ...at('W=[[1,2],[3,4]]')], message: /\^ is for scalars/, hint: /\.\^/ },
  { name: 'index out of range', args: ['grad', 'v[4]', ...at('v=[1,2,3]')], message: /index 4 is out of range for v \(1 to 3/, caret: '    ^' },
  { name: 'index zero', args: ['grad', 'v[0]', ...at('v=[1,2,3]')], message: /index 0 is out of range/ },
  { name: 'non-integer index', args: ['grad', 'v[1.5]', ...at('v=[1,2,3]')], message: /an index must be an integer, not 1.5/, caret: '    ^^^' },
  { name: 'wrong number of indices', args: ['grad', 'A[1]', ...at('A=[[1,2],[3,4]]')], message: /takes 2 indices, not 1/ },
  {
    name: 'index computed by a function',
    args: ['grad', 'v[sin(x)]', ...at('v=[1,2,3],x=1')],
    message: /an index must be a number, a given integer variable, or arithmetic on those/,
    caret: '    ^^^^^^',
  },
  { name: 'empty range', args: ['grad', 'sum(v[3:1])', ...at('v=[1,2,3]')], message: /the range 3:1 is empty/ },
  { name: 'a string', args: ['grad', '"hello"', ...at('x=1')], message: /strings are only allowed as a norm kind/, caret: true },
  { name: 'a unit', args: ['grad', '5 cm', ...at('x=1')], message: /no value for the variable cm/, hint: /units are not supported/ },
  { name: 'a matrix of strings', args: ['grad', 'sum(["a", "b"])', ...at('x=1')], message: /strings are only allowed/ },
  // a step may shadow a constant or a formula function (micrograd's e, CS231n's dot), never a name of the language or of mathjs's code
  { name: 'assignment to the imaginary unit', args: ['grad', 'i = 3; i*x', ...at('x=1')], message: /cannot assign to i: it is a built-in name/, caret: '  ^' },
  { name: 'assignment to a code function', args: ['grad', 'evaluate = 2; evaluate*x', ...at('x=1')], message: /cannot assign to evaluate/ },
  { name: 'a recursive definition', args: ['grad', 'f(t) = f(t) + 1; f(x)', ...at('x=1')], message: /f calls itself/, caret: true },
  { name: 'import', args: ['grad', 'import("fs")', ...at('x=1')], message: /import\(\.\.\.\) is not allowed in a formula/, caret: '  ^^^^^^' },
  { name: 'evaluate', args: ['grad', 'evaluate("1+1") + x', ...at('x=1')], message: /evaluate\(\.\.\.\) is not allowed/ },
  { name: 'createUnit', args: ['grad', 'createUnit("foo") + x', ...at('x=1')], message: /createUnit\(\.\.\.\) is not allowed/ },
  { name: 'parse', args: ['grad', 'parse("x") + x', ...at('x=1')], message: /parse\(\.\.\.\) is not allowed/ },
  { name: 'property access', args: ['grad', 'x.constructor', ...at('x=1')], message: /property access/, caret: true },
  { name: 'an object', args: ['grad', '{a: x}', ...at('x=1')], message: /objects are not allowed/ },
  { name: 'factorial', args: ['grad', 'x!', ...at('x=3')], message: /operator ! is not supported/ },
  { name: 'chained comparison', args: ['grad', 'x < y < 2 ? x : y', ...at('x=1,y=1.5')], message: /chained comparisons/ },
  { name: 'unsupported norm order', args: ['grad', 'norm(v, 3)', ...at('v=[1,2]')], message: /norm order 3 is not supported/, hint: /"fro"/ },
  { name: 'unknown norm kind', args: ['grad', 'norm(v, "nuc")', ...at('v=[1,2]')], message: /unknown norm kind "nuc"/ },
  { name: 'a bad dimension', args: ['grad', 'sum(W, 3)', ...at('W=[[1,2],[3,4]]')], message: /the dimension must be 1 or 2/ },
  { name: 'random values inside a formula', args: ['grad', 'sum(randn(3) .* v)', ...at('v=[1,2,3]')], message: /randn makes random values; use it in --at/ },
  { name: 'only a definition', args: ['grad', 'f(t) = t^2', ...at('x=1')], message: /computes nothing/ },
  { name: 'no variables', args: ['grad', '2 + 3'], message: /no variables to differentiate/ },
  { name: 'a vector-valued formula', args: ['grad', 'x*[1,2]', ...at('x=1')], message: /grad needs a scalar/, hint: /jacobian/ },
  {
    name: '10,000-deep nesting',
    args: ['grad', deep, ...at('x=1')],
    message: /nests at least 10001 levels deep \(brackets 10000 deep\); the limit is 200/,
    caret: true,
  },
  { name: 'a 1,000,000-term formula', args: ['grad', `@${huge}`, ...at('x=1')], message: /characters long; the limit is 100000/ },
  { name: 'a long chain over the graph-node limit', args: ['grad', `@${longOk}`, ...at('x=1'), '--max-nodes', '1000'], message: /more than 1000 nodes/ },
  { name: 'malformed --at: no value', args: ['grad', 'x^2', ...at('x=')], message: /no value after x=/, caret: true },
  { name: 'malformed --at: ==', args: ['grad', 'x^2', ...at('x==1')], message: /--at x/ },
  { name: 'malformed --at: no name', args: ['grad', 'x^2', ...at('=1')], message: /a value needs a name before =/ },
  { name: 'malformed --at: unclosed bracket', args: ['grad', 'sum(x)', ...at('x=[1,')], message: /--at x/, caret: true },
  { name: 'malformed --at: not name=value', args: ['grad', 'x^2', ...at('x')], message: /expected name=value/ },
  { name: 'NaN as a value', args: ['grad', 'x^2', ...at('x=NaN')], message: /NaN/ },
  { name: 'Infinity as a value', args: ['grad', 'x^2', ...at('x=Infinity')], message: /Infinity is not a finite number|finite/ },
  { name: 'a value that is a variable', args: ['grad', 'x^2', ...at('x=y')], message: /a value cannot use the variable y/ },
  { name: 'malformed JSON file', args: ['grad', 'x^2', '--at', `@${file('bad.json', '{"x": 1,')}`], message: /is not valid JSON/ },
  { name: 'JSON that is not an object', args: ['grad', 'x^2', '--at', `@${file('arr.json', '[1,2]')}`], message: /must hold an object/ },
  { name: 'ragged JSON matrix', args: ['grad', 'sum(W)', '--at', `@${file('ragged.json', '{"W": [[1,2],[3]]}')}`], message: /same, non-zero length/ },
  { name: 'a missing JSON file', args: ['grad', 'x^2', '--at', `@${join(dir, 'nope.json')}`], message: /cannot read .*no such file/ },
  { name: 'malformed .npy file', args: ['grad', 'sum(W)', '--at', `W=@${file('bad.npy', 'NUMPYnope')}`], message: /not a \.npy file/ },
  { name: 'an unknown flag', args: ['grad', 'x^2', ...at('x=1'), '--frobnicate'], message: /Unknown argument: frobnicate/ },
  { name: 'a bad --digits', args: ['grad', 'x^2', ...at('x=1'), '--digits', '0'], message: /--digits must be an integer from 1 to 17/ },
  { name: 'a bad --engine', args: ['grad', 'x^2', ...at('x=1'), '--engine', 'gpu'], message: /Invalid values/ },
  { name: '--wrt a variable that is not there', args: ['grad', 'x^2', ...at('x=1'), '--wrt', 'z'], message: /--wrt z: there is no variable z/ },
  { name: 'a negative tolerance', args: ['grad', 'x^2', ...at('x=1'), '--rtol', '-1'], message: /--rtol must be a non-negative number/ },
  { name: 'an unknown command', args: ['gradd', 'x^2'], message: /^error: unknown command gradd$/, hint: /hint: did you mean grad\?/ },
];

describe('bad input: exit 2, one clear message, a caret, no stack trace', () => {
  it('has at least 40 entries', () => expect(catalogue.length).toBeGreaterThanOrEqual(40));

  for (const bad of catalogue) {
    it(bad.name, () => {
      const r = cli(bad.args);
      expect(r.code, r.stderr + r.stdout).toBe(2);
      expect(r.stdout, 'nothing half-written on stdout').toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(bad.message);
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(r.stderr).not.toMatch(/internal error/);
      if (bad.caret === true) expect(r.stderr).toMatch(/^\s*\^+/m);
      else if (bad.caret !== undefined) expect(lines[2]).toBe(bad.caret);
      if (bad.hint) expect(r.stderr).toMatch(bad.hint);
      expect(lines.length).toBeLessThanOrEqual(4);
    });
  }

  it('with --json, stdout holds only the error object', () => {
    for (const bad of catalogue.slice(0, 12)) {
      const r = cli([...bad.args, '--json']);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(Object.keys(doc)).toEqual(['error']);
      expect(doc.error.message).toMatch(bad.message);
      expect(r.stderr).toBe('');
    }
  });
});
