import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import { splitTopLevel } from '../../src/core/parse/values.js';
import { parseAt } from '../../src/core/values.js';

describe('--at values', () => {
  it('splits at top-level commas only', () => {
    expect(splitTopLevel('W=[[1,2],[3,4]], x=[1,-1],y=randn(2,3)').map((p) => p.text)).toEqual(['W=[[1,2],[3,4]]', 'x=[1,-1]', 'y=randn(2,3)']);
  });

  it('evaluates constant expressions with our own engine', () => {
    const v = parseAt(['x=pi, y=2*pi/3', 'z=sqrt(2), w=-2, e2=e^2'], { seed: 1 });
    expect(v.x.data[0]).toBe(Math.PI);
    expect(v.y.data[0]).toBeCloseTo((2 * Math.PI) / 3, 15);
    expect(v.z.data[0]).toBe(Math.SQRT2);
    expect(v.w.data[0]).toBe(-2);
    expect(v.e2.data[0]).toBeCloseTo(Math.E ** 2, 14);
  });

  it('vectors, matrices and generators with their shapes', () => {
    const v = parseAt(['A=[[1,2,3],[4,5,6]], b=[1,2], I=eye(3), Z=zeros(2,2), O=ones(3), R=randn(4,5), U=rand(3)'], { seed: 3 });
    expect(v.A.shape).toEqual([2, 3]);
    expect(Array.from(v.A.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(v.b.shape).toEqual([2]);
    expect(Array.from(v.I.data)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(v.Z.data)).toEqual([0, 0, 0, 0]);
    expect(v.O.shape).toEqual([3]);
    expect(v.R.shape).toEqual([4, 5]);
    expect(v.U.data.every((x) => x >= 0 && x < 1)).toBe(true);
    // normal samples: mean near 0 and variance near 1 over many draws
    const big = parseAt(['G=randn(200,200)'], { seed: 9 }).G.data;
    const mean = big.reduce((a, x) => a + x, 0) / big.length;
    const varc = big.reduce((a, x) => a + (x - mean) ** 2, 0) / big.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(varc - 1)).toBeLessThan(0.03);
  });

  it('errors point into the --at text', () => {
    try {
      parseAt(['x=1, y=[1,'], { seed: 1 });
      expect.unreachable();
    } catch (e) {
      const ag = e as AgError;
      expect(ag).toBeInstanceOf(AgError);
      expect(ag.source).toBe('x=1, y=[1,');
      expect(ag.message).toMatch(/^--at y: /);
      expect(ag.span!.start).toBeGreaterThanOrEqual(7);
    }
  });
});
