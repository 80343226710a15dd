import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

describe('autograd-cli hessian (the real bin)', () => {
  it('‖Wx‖² in x: 2WᵀW with entry names, symmetry, eigenvalues, curvature, the check', () => {
    const r = cli(['hessian', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--wrt', 'x']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Hessian ∂²f\/∂x² {2}2 × 2; 2 Hessian-vector products \(reverse over reverse\)/m);
    expect(r.stdout).toMatch(/^ {8}x\[1\] {2}x\[2\]$/m);
    expect(r.stdout).toMatch(/^ {2}x\[1\] {4}20 {4}28$/m);
    expect(r.stdout).toMatch(/^ {2}x\[2\] {4}28 {4}40$/m);
    expect(r.stdout).toMatch(/^symmetry +max \|H − Hᵀ\| = 0$/m);
    expect(r.stdout).toMatch(/^eigenvalues +0\.267863, 59\.7321$/m);
    expect(r.stdout).toMatch(/^curvature +positive definite: /m);
    expect(r.stdout).toMatch(/^✓ Hessian = finite differences of the gradient \(max rel err \S+; 8 gradient evaluations\)$/m);
  });

  it('--json: the matrix, entries, symmetry, check and eigenvalues', () => {
    const { code, json } = cliJson(['hessian', 'x^2*y + sin(x)*y^3', '--at', 'x=0.7,y=-1.3']);
    expect(code).toBe(0);
    expect(json.entries).toEqual(['x', 'y']);
    expect(json.n).toBe(2);
    expect(json.method).toBe('reverse-over-reverse');
    expect(json.hessian[0][1]).toBeCloseTo(2 * 0.7 + 3 * Math.cos(0.7) * 1.69, 12);
    expect(json.hessian[0][1]).toBe(json.hessian[1][0]);
    expect(json.check).toMatchObject({ passed: true, mode: 'full', evaluations: 8 });
    expect(json.eigen.curvature).toBe('indefinite');
    expect(json.symmetry.passed).toBe(true);
  });

  it('--hvp on the MLP (101,000 entries): one Hessian-vector product, checked along v', () => {
    const mlp = [
      'hessian',
      'sum((max(X*W1, 0)*W2 - Y).^2)',
      '--at',
      'X=randn(64,1000),W1=randn(1000,100),W2=randn(100,10),Y=randn(64,10)',
      '--wrt',
      'W1,W2',
      '--hvp',
      'W1=randn(1000,100), W2=randn(100,10)',
    ];
    const r = cli(mlp);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^value .*\(n = 101000 input entries; (native|js) engine\)$/m);
    expect(r.stdout).toMatch(/^H·v {6}W1 = \[1000×100\] ‖·‖=\d+, W2 = \[100×10\] ‖·‖=\d+ /m);
    expect(r.stdout).toMatch(/^✓ H·v = finite differences of the gradient \(max rel err \S+; 4 gradient evaluations\)$/m);
    // --json gives H·v whole (a smaller net, to keep the document small)
    const { code, json } = cliJson([
      'hessian',
      'sum((max(X*W1, 0)*W2 - Y).^2)',
      '--at',
      'X=randn(8,30),W1=randn(30,20),W2=randn(20,3),Y=randn(8,3)',
      '--wrt',
      'W1,W2',
      '--hvp',
      'W1=randn(30,20)',
    ]);
    expect(code).toBe(0);
    expect(Object.keys(json.hvp)).toEqual(['W1', 'W2']);
    expect(json.hvp.W1).toHaveLength(30);
    expect(json.hvp.W2).toHaveLength(20);
    expect(json.direction.W2).toEqual(Array.from({ length: 20 }, () => [0, 0, 0]));
    expect(json.direction.W1).toMatchObject({ shape: [30, 20] });
    expect(json.check.passed).toBe(true);
  });

  it('inputs above --max-hessian: a clear error suggesting --hvp (exit 2)', () => {
    const r = cli(['hessian', 'sum(x.^2)', '--at', 'x=randn(50)', '--max-hessian', '20']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the Hessian of 50 input entries would be 50 × 50; the limit is 20 input entries \(--max-hessian\)$/m);
    expect(r.stderr).toMatch(/hint: use --hvp x=\.\.\. for a Hessian-vector product/);
    const big = cli(['hessian', 'sum(x.^2)', '--at', 'x=randn(3000)', '--max-memory', '0.05']);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/the 3000 × 3000 Hessian would need about 206 MiB; the limit is 51\.2 MiB \(--max-memory\)/);
  });

  it('bad input: a vector formula, an unknown --hvp variable, a syntax error with a caret (exit 2, no stack)', () => {
    const vec = cli(['hessian', '[x, y]', '--at', 'x=1,y=2']);
    expect(vec.code).toBe(2);
    expect(vec.stderr).toMatch(/a Hessian needs a scalar\n {2}\[x, y\]\n {2}\^\^\^\^\^\^/);
    const hv = cli(['hessian', 'x*y', '--at', 'x=1,y=2', '--hvp', 'z=1']);
    expect(hv.code).toBe(2);
    expect(hv.stderr).toMatch(/--hvp z: there is no variable z to move/);
    const syn = cli(['hessian', 'sum(x.^2', '--at', 'x=1']);
    expect(syn.code).toBe(2);
    expect(syn.stderr).toMatch(/\^/);
    for (const r of [vec, hv, syn]) expect(r.stderr).not.toMatch(/ {4}at /);
    const json = cliJson(['hessian', 'x*y', '--at', 'x=1']);
    expect(json.code).toBe(2);
    expect(json.json.error.code).toBe('missing-value');
  });

  it('a kink is a warning, not a failure; a wrong value (NaN) exits 1', () => {
    const k = cli(['hessian', 'relu(x)^2', '--at', 'x=0']);
    expect(k.code).toBe(0);
    expect(k.stdout).toMatch(/warning: a difference step crosses a kink for x/);
    const nan = cli(['hessian', 'sqrt(x)', '--at', 'x=-1']);
    expect(nan.code).toBe(1);
  });
});
