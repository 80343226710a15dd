import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protectFormulas, SHORT_FLAGS } from '../../src/cli/main.js';
import { cli, cliJson, ROOT } from '../helpers.js';

/**
 * Issue 13 items 3 and 7 at the command line: a formula that starts with `-` is a
 * formula (also after `--`), `sum(v, 1)` of a vector works, the nesting limit counts
 * levels in one unit, and no variable disappears from the result.
 */
describe('a formula starting with - is an argument, not a flag', () => {
  for (const f of ['-x*y', '-x', '-x-y', '-sin(x)*y', '-2*x*y', '-.5*x*y']) {
    it(`grad "${f}" --at x=1.5,y=2, and after --`, () => {
      const a = cliJson(['grad', f, '--at', 'x=1.5,y=2', '--no-check']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.json.formula).toBe(f);
      // --json before the --: after it, every word is an operand
      const b = cli(['grad', '--at', 'x=1.5,y=2', '--no-check', '--json', '--', f]);
      expect(b.code, b.stderr).toBe(0);
      expect(JSON.parse(b.stdout).formula).toBe(f);
      expect(JSON.parse(b.stdout).value).toBe(a.json.value);
    });
  }

  it('-x*y gives the value and gradient of -x*y', () => {
    const r = cliJson(['grad', '-x*y', '--at', 'x=1.5,y=2']);
    expect(r.json.value).toBe(-3);
    expect(r.json.gradient).toEqual({ x: -2, y: -1.5 });
  });

  it('after --, check takes a formula starting with - too; a global flag before the command stays a flag', () => {
    expect(cli(['check', '--at', 'x=1,y=2', '--', '-x*y']).code).toBe(0);
    expect(cli(['--no-color', 'grad', '--at', 'x=1,y=2', '--', '-x*y']).stdout).toMatch(/value\s+-2/);
  });

  it('after --, a flag is an operand (POSIX): a clear usage error, exit 2', () => {
    const r = cli(['grad', '--', 'x*y', '--at', 'x=1,y=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown arguments: --at/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('flags, negative numbers and -x=… are left to the parser', () => {
    expect(protectFormulas(['grad', 'x', '-h'])).toEqual(['grad', 'x', '-h']);
    expect(protectFormulas(['check', 'a.yaml', '-j', '2', '-o', 'r.json'])).toEqual(['check', 'a.yaml', '-j', '2', '-o', 'r.json']);
    expect(protectFormulas(['grad', 'x', '--atol', '-1', '--rtol', '-1e-3'])).toEqual(['grad', 'x', '--atol', '-1', '--rtol', '-1e-3']);
    expect(protectFormulas(['grad', '-x=1'])).toEqual(['grad', '-x=1']);
    // a marked formula is not the same string: yargs reads it as a value
    expect(protectFormulas(['grad', '-x'])[1]).not.toBe('-x');
    expect(protectFormulas(['grad', '-x'])[1].endsWith('-x')).toBe(true);
  });

  it('SHORT_FLAGS lists every one-letter alias of the commands', () => {
    const dir = join(ROOT, 'src', 'cli');
    const aliases = new Set<string>(['h']);
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/alias: '([A-Za-z])'/g)) aliases.add(m[1]);
    }
    expect([...SHORT_FLAGS].sort()).toEqual([...aliases].sort());
  });
});

describe('small items', () => {
  it('sum(v, 1), mean(v, 1) and prod(v, 1) of a vector are its sum, mean and product', () => {
    const r = cliJson(['grad', 'sum(v, 1) + mean(v, 1) + prod(v, 1)', '--at', 'v=[1,2,3]']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.value).toBe(6 + 2 + 6);
    [1 + 1 / 3 + 6, 1 + 1 / 3 + 3, 1 + 1 / 3 + 2].forEach((g, i) => expect(r.json.gradient.v[i]).toBeCloseTo(g, 12));
  });

  it('the nesting limit counts levels one way: x is 1, sin(x) 2, in every message', () => {
    const msg = (f: string, d: number) => cli(['grad', f, '--at', 'x=1', '--max-depth', String(d)]).stderr.split('\n')[0];
    expect(cli(['grad', 'sin(sin(x))', '--at', 'x=1', '--max-depth', '3']).code).toBe(0);
    expect(msg('sin(sin(x))', 2)).toBe('error: the formula nests at least 3 levels deep (brackets 2 deep); the limit is 2 (--max-depth)');
    expect(msg('- - x', 2)).toBe('error: the formula nests at least 3 levels deep (a chain of 2 prefix operators or ^); the limit is 2 (--max-depth)');
    expect(cli(['grad', 'x^x', '--at', 'x=1', '--max-depth', '2']).code).toBe(0);
    // the left operand of a binary operator is no level, for the parser as for the builder
    expect(cli(['grad', 'sin(x) + x', '--at', 'x=1', '--max-depth', '2']).code).toBe(0);
    expect(cli(['grad', 'sin(x)*2 + 1', '--at', 'x=1', '--max-depth', '2']).code).toBe(0);
    // the tree's count: 3 levels and no bracket (the right operand of + is a level below it)
    expect(msg('x + x*x', 2)).toBe('error: the formula nests 3 levels deep; the limit is 2 (--max-depth)');
    // an inline function's body takes the call's place: f(x) with f(a) = sin(a) is sin(x), 2 levels
    expect(cli(['grad', 'f(a) = sin(a); f(x)', '--at', 'x=1', '--max-depth', '2']).code).toBe(0);
    const expanded = cli(['grad', 'f(a) = sin(sin(a)); g(a) = f(f(a)); g(x)', '--at', 'x=1', '--max-depth', '3']);
    expect(expanded.code).toBe(2);
    expect(expanded.stderr).toMatch(
      /once its inline functions are expanded \(g → f\), the formula nests more than 3 levels deep; the limit is 3 \(--max-depth\)/,
    );
  });
});

describe('no variable disappears (the real bin)', () => {
  it('grad "f(a,b) = a; f(x, y)": y is in gradient, forward, variables and point, with a warning', () => {
    const r = cliJson(['grad', 'f(a,b) = a; f(x, y)', '--at', 'x=1.5,y=2']);
    expect(r.code).toBe(0);
    expect(r.json.variables).toEqual(['x', 'y']);
    expect(r.json.gradient).toEqual({ x: 1, y: 0 });
    expect(r.json.forward).toEqual({ x: 1, y: 0 });
    expect(r.json.point).toEqual({ x: 1.5, y: 2 });
    expect(r.json.warnings.map((w: { code: string }) => w.code)).toContain('unused-argument');
    const t = cli(['grad', 'f(a,b) = a; f(x, y)', '--at', 'x=1.5,y=2']);
    expect(t.stdout).toMatch(/ y\s+0\s+0\s+0/);
    expect(t.stdout).toMatch(/warning: f does not use its parameter b; y, passed for it, gets gradient 0 through f/);
  });

  it('grad "f(a) = 2; f(x)": the variable x with gradient 0, exit 0 (not "no variables")', () => {
    const r = cliJson(['grad', 'f(a) = 2; f(x)', '--at', 'x=1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.gradient).toEqual({ x: 0 });
  });

  it('graph, derive, jacobian and hessian show y and the note', () => {
    expect(cli(['graph', 'f(a,b) = a^2; f(x, y)', '--at', 'x=1.5,y=2']).stdout).toMatch(/note: f does not use its parameter b/);
    expect(cli(['graph', 'f(a,b) = a^2; f(x, y)', '--at', 'x=1.5,y=2', '--format', 'dot']).stdout).toMatch(/<b>y<\/b>/);
    const d = cli(['derive', 'f(a,b) = a^2; f(x, y)']);
    expect(d.stdout).toMatch(/∂f\/∂y = 0/);
    expect(d.stdout).toMatch(/note: f does not use its parameter b/);
    expect(cli(['jacobian', 'g(a,b) = [a, 2*a]; g(x, y)', '--at', 'x=1.5,y=2']).stdout).toMatch(/note: g does not use its parameter b/);
    expect(cli(['hessian', 'f(a,b) = a^2; f(x, y)', '--at', 'x=1.5,y=2']).stdout).toMatch(/x {2}2 {2}0\n {2}y {2}0 {2}0/);
  });
});
