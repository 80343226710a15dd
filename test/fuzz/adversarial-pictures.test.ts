import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { attack, expectNoTrace, OVERHEAD_MB } from '../security/harness.js';

/**
 * Adversarial fuzzing of the surfaces that cannot look at a clock themselves: random big
 * pictures (Graphviz layout, resvg drawing) and derive's cross-check at random large
 * values. Every run ends within its deadline plus slack, under its memory cap, with exit
 * 0 or 2 and no trace; a refused picture leaves no file. `npm test` runs a few;
 * `npm run fuzz` (FUZZ_RUNS=10000) 30 of each.
 */
const RUNS = Math.max(3, Math.min(30, Math.round(Number(process.env.FUZZ_RUNS ?? 500) / 300)));
const TIMEOUT_S = 2;
/** start-up, values made under their own deadline, ending a worker, a loaded machine */
const SLACK_MS = 10_000;
const MEMORY_GIB = 0.25;
const dir = mkdtempSync(join(tmpdir(), 'ag-fuzz-pictures-'));

function bigFormula(rng: Rng): { formula: string; at: string } {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const n = pick([1, 5, 30, 100, 300]);
  const op = () => pick(['sin', 'exp', 'tanh', 'log1p']);
  const formula = pick([
    // fan-out from one input: the layout's worst case
    Array.from({ length: n }, (_, i) => `${op()}(x*${i + 1})`).join('+'),
    // a long chain
    Array.from({ length: Math.min(n, 150) }, () => op()).reduce((s, f) => `${f}(${s})`, 'x'),
    // many inputs meeting in one sum
    Array.from({ length: Math.min(n, 60) }, (_, i) => `x${i}*y${i}`).join('+'),
    // tensors: few nodes, big labels
    `sum((W*v).^2)`,
  ]);
  const vars = [...new Set(formula.match(/\b[xy]\d+\b/g) ?? [])];
  const [rows, cols] = [pick([2, 40, 300]), pick([2, 40, 300])];
  const at = formula.startsWith('sum((W') ? `W=randn(${rows},${cols}), v=randn(${cols})` : vars.length ? vars.map((v) => `${v}=0.5`).join(',') : 'x=0.5';
  return { formula, at };
}

describe('adversarial pictures and derive cross-checks through the real CLI', () => {
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 11));
  for (let k = 0; k < RUNS; k++) {
    const { formula, at } = bigFormula(rng);
    const format = ['svg', 'png', 'html'][k % 3];
    const cap = rng.next() < 0.5 ? ['--max-picture-nodes', String([10, 1000, 100_000][rng.int(3)])] : [];
    it(`picture ${k + 1} (${format}${cap.length ? `, cap ${cap[1]}` : ''}): ends in time, under the memory cap, cleanly`, () => {
      const out = join(dir, `p${k}.${format}`);
      const r = attack(['graph', formula, '--at', at, '-o', out, '--timeout', String(TIMEOUT_S), '--max-memory', String(MEMORY_GIB), ...cap], {
        timeoutMs: 90_000,
      });
      expect(r.signal, r.stderr).toBeNull();
      expect([0, 2], r.stderr).toContain(r.code);
      expectNoTrace(r);
      if (r.code === 2) {
        expect(r.stderr).toMatch(/^error: .*(--timeout|--max-picture-nodes|--max-memory|--max-entries|pixels)/);
        expect(existsSync(out)).toBe(false);
      }
      expect(r.peakMB).toBeLessThan(MEMORY_GIB * 1024 + OVERHEAD_MB);
      expect(r.ms, `${formula.slice(0, 80)} at ${at}`).toBeLessThan(2 * TIMEOUT_S * 1000 + SLACK_MS);
    }, 120_000);
  }

  for (let k = 0; k < RUNS; k++) {
    const size = [3, 300, 1500, 2500][rng.int(4)];
    it(`derive at a random ${size}×${size} W: ends in time, under the memory cap, never a bug`, () => {
      const r = attack(
        [
          'derive',
          'sum((W*x).^2)',
          '--wrt',
          'W',
          '--at',
          `W=randn(${size},${size}), x=randn(${size})`,
          '--timeout',
          String(TIMEOUT_S),
          '--max-memory',
          String(MEMORY_GIB),
          '--seed',
          String(k),
        ],
        { timeoutMs: 90_000 },
      );
      expect(r.signal, r.stderr).toBeNull();
      expect([0, 2], r.stderr).toContain(r.code);
      expectNoTrace(r);
      if (r.code === 2) expect(r.stderr).toMatch(/^error: .*(--timeout|--max-memory)/);
      expect(r.peakMB).toBeLessThan(MEMORY_GIB * 1024 + OVERHEAD_MB);
      expect(r.ms).toBeLessThan(2 * TIMEOUT_S * 1000 + SLACK_MS);
    }, 120_000);
  }
});
