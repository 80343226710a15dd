import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

describe('autograd-cli grad (the real bin)', () => {
  it('prints the lecture example: d/dx = -2π, d/dy = sin(π)', () => {
    const { code, json } = cliJson(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi']);
    expect(code).toBe(0);
    expect(json.gradient.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(json.gradient.y).toBe(Math.sin(Math.PI));
    expect(json.forward.x).toBeCloseTo(-2 * Math.PI, 12);
    expect(json.check.passed).toBe(true);
  });

  it('human output has the gradient and edge tables and a verdict', () => {
    const r = cli(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gradient/);
    expect(r.stdout).toMatch(/x\s+-6\.28319\s+-6\.28319\s+-6\.28319/);
    expect(r.stdout).toMatch(/x → sin\(x\)\s+cos\(x\)\s+-1\s+6\.28319\s+-6\.28319/);
    expect(r.stdout).toMatch(/✓ check passed/);
  });

  it('--wrt a named step: ∂f/∂q with its own finite-difference check, in the table and in --json', () => {
    const r = cli(['grad', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '--wrt', 'q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('at       q = 3, z = -4\n');
    expect(r.stdout).toMatch(/\n q\s+-4\s+-4\s+-4\s+0\s+0\s+✓\n/);
    expect(r.stdout).toMatch(/q → f\s+z\s+-4\s+1\s+-4/);
    const { code, json } = cliJson(['grad', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '--wrt', 'x,q']);
    expect(code).toBe(0);
    expect(json.variables).toEqual(['x', 'q']);
    expect(json.gradient).toEqual({ x: -4, q: -4 });
    expect(json.check.variables.q).toMatchObject({ passed: true, checked: 1 });
    expect(json.check.finiteDifference.q).toBeCloseTo(-4, 8);
    const bad = cli(['grad', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '--wrt', 'p']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --wrt p: there is no variable or named step p in the formula\n  hint: the variables are x, y, z; the named steps q, f\n');
  });

  it('unknown function: exit 2, caret under sinn, did-you-mean hint', () => {
    const r = cli(['grad', 'sinn(x) + 1', '--at', 'x=1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('unknown function sinn');
    expect(r.stderr).toContain('  sinn(x) + 1\n  ^^^^');
    expect(r.stderr).toContain('did you mean sin?');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('missing value: exit 2 naming the variable', () => {
    const r = cli(['grad', 'x*y', '--at', 'x=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no value for the variable y');
    expect(r.stderr).toContain('  x*y\n    ^');
  });
});

describe('the formula from a file or standard input', () => {
  it('reads - from standard input', () => {
    const r = cli(['grad', '-', '--at', 'x=2', '--json'], { input: 'x^3\n' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).gradient.x).toBe(12);
  });
});
