import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliJson, ROOT } from '../helpers.js';

interface Fixture {
  name: string;
  formula: string;
  at: string;
  wrt?: string;
  value?: number;
  gradient: Record<string, number | number[] | number[][]>;
  edges?: { from: string; to: string; local: string; localValue: number; upstream: number; downstream: number }[];
  localValues?: Record<string, number>;
}

const load = (name: string): Fixture[] => JSON.parse(readFileSync(join(ROOT, 'fixtures/lectures', name), 'utf8'));
// the scalar lectures, and the tensor ones whose gradients were derived by hand in closed form
const fixtures: Fixture[] = [...load('scalar.json'), ...load('tensors.json')];

/** Equal to the last few bits: the lecture numbers must come out exactly. */
function close(got: unknown, want: unknown, what: string) {
  if (Array.isArray(want)) {
    expect(Array.isArray(got), what).toBe(true);
    expect((got as unknown[]).length, what).toBe(want.length);
    want.forEach((w, i) => close((got as unknown[])[i], w, `${what}[${i + 1}]`));
    return;
  }
  const g = got as number;
  const w = want as number;
  expect(Math.abs(g - w), `${what}: got ${g}, want ${w}`).toBeLessThanOrEqual(4e-15 * Math.max(1, Math.abs(w)));
}

describe('lecture examples through the real CLI', () => {
  for (const f of fixtures) {
    it(f.name, () => {
      const args = ['grad', f.formula, '--at', f.at];
      if (f.wrt) args.push('--wrt', f.wrt);
      const { code, json } = cliJson(args);
      expect(code, JSON.stringify(json.error ?? json.check)).toBe(0);
      if (f.value !== undefined) close(json.value, f.value, 'value');
      for (const [k, v] of Object.entries(f.gradient)) {
        close(json.gradient[k], v, `∂f/∂${k} (reverse)`);
        close(json.forward[k], v, `∂f/∂${k} (forward)`);
        expect(json.check.variables[k].passed).toBe(true);
      }
      expect(Object.keys(json.gradient).sort()).toEqual(Object.keys(f.gradient).sort());
      for (const e of f.edges ?? []) {
        const got = json.edges.find((x: any) => x.fromLabel === e.from && x.toLabel === e.to);
        expect(got, `edge ${e.from} → ${e.to}`).toBeTruthy();
        expect(got.local).toBe(e.local);
        close(got.localValue, e.localValue, 'local value');
        close(got.upstream, e.upstream, 'upstream');
        close(got.downstream, e.downstream, 'downstream');
      }
      for (const [op, v] of Object.entries(f.localValues ?? {})) {
        const node = json.nodes.find((n: any) => n.label === op);
        const edge = json.edges.find((x: any) => x.to === node.id && x.localValue !== 0 && x.local !== '0');
        expect(edge, `an edge into ${op}`).toBeTruthy();
        const lv = json.edges.filter((x: any) => x.to === node.id).map((x: any) => x.localValue);
        expect(
          lv.some((x: number) => Math.abs(x - v) < 1e-12),
          `${op} local values ${lv} include ${v}`,
        ).toBe(true);
      }
    });
  }
});
