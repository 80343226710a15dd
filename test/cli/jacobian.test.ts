import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

describe('autograd-cli jacobian (the real bin)', () => {
  it('[x*y, sin(x), x+z]: the matrix, the passes of each mode, their agreement', () => {
    const r = cli(['jacobian', '[x*y, sin(x), x+z]', '--at', 'x=2,y=3,z=1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}f\[2\] +-0\.416147 +0 +0$/m);
    expect(r.stdout).toMatch(/^forward +3 \(one per input entry, n\) +\d+\.\d+ ms$/m);
    expect(r.stdout).toMatch(/^reverse +3 \(one per output entry, m\) +\d+\.\d+ ms$/m);
    expect(r.stdout).toMatch(/✓ forward = reverse \(max abs diff 0\) = finite differences/);
  });

  it('--json: the full Jacobian and pass counts n and m', () => {
    const { code, json } = cliJson(['jacobian', 'W*x', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--wrt', 'x']);
    expect(code).toBe(0);
    expect(json.jacobian).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(json.forward.passes).toBe(2);
    expect(json.reverse.passes).toBe(2);
    expect(json.check.passed).toBe(true);
  });

  it('--mode auto picks reverse for n ≫ m and says why', () => {
    const r = cli(['jacobian', 'sum(W*x)', '--at', 'W=randn(4,50), x=randn(50)', '--mode', 'auto']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/auto: reverse mode — m = 1 output entry < n = 250 input entries/);
    expect(r.stdout).not.toMatch(/^forward/m);
    expect(r.stdout).toMatch(/showing 1 of 1 rows and 8 of 250 columns/);
  });

  it('an entry at a kink is not judged, and the verdict says so', () => {
    const r = cli(['jacobian', '[relu(x), x]', '--at', 'x=0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/~ ∂f\[1\]\/∂x: autodiff 0, finite differences 0\.5; they cannot judge here: the one-sided slopes disagree/);
    expect(r.stdout).toMatch(/= finite differences for 1 of 2 entries .*; not judged: 1 entry/);
  });

  it('grad on a vector output points to jacobian', () => {
    const r = cli(['grad', '[x*y, sin(x)]', '--at', 'x=1,y=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('autograd-cli jacobian');
  });
});
