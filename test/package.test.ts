import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/** What `npm install` gives a user: the bin, the library bundle and its type declarations. */
describe('the package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('points at files the build made', () => {
    for (const rel of [pkg.main, pkg.types, pkg.bin['autograd-cli']]) expect(existsSync(join(ROOT, rel)), rel).toBe(true);
  });

  it('declares the library API with types', () => {
    const dts = readFileSync(join(ROOT, pkg.types), 'utf8');
    for (const name of ['grad', 'gradcheck', 'jacobian', 'compile', 'GradResult', 'AgError']) expect(dts, name).toContain(name);
    expect(readFileSync(join(ROOT, 'dist/types/subjects/formula/grad.d.ts'), 'utf8')).toMatch(/export declare function grad\(formula: string/);
  });

  it('the library bundle runs the lecture example', async () => {
    const lib = await import(join(ROOT, pkg.main));
    const r = lib.grad('(x+y)*sin(x)', { x: Math.PI, y: Math.PI }, { engine: 'js' });
    expect(r.gradient.x).toBeCloseTo(-2 * Math.PI, 12);
  });
});
