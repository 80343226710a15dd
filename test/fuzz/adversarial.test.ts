import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { attack, expectNoTrace, OVERHEAD_MB } from '../security/harness.js';

/**
 * Adversarial fuzzing through the real CLI: random case files that mix YAML aliases
 * (and alias bombs), nested inline functions that double their work at every level,
 * generators of any size, single huge matrix products (in formulas, at: values and
 * answers), hostile @file references, prototype names and bidi text.
 * Every run must end within its time bound and under its memory cap, with exit 0, 1 or
 * 2 and no trace. `npm test` runs a few files; `npm run fuzz` (FUZZ_RUNS=10000) 50.
 */
const FILES = Math.max(4, Math.min(50, Math.round(Number(process.env.FUZZ_RUNS ?? 500) / 200)));
const MEMORY_GIB = 0.25;
const dir = mkdtempSync(join(tmpdir(), 'ag-fuzz-'));

function caseFile(rng: Rng): string {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const size = () => pick([1, 3, 50, 1000, 7000, 1e5, 1e9, 1e300]);
  // one expensive op: a matrix product of up to 2.7e10 multiply-adds, which --timeout must stop inside
  const product = () => {
    const n = pick([50, 700, 2000, 3000]);
    return `ones(${n},${n})*ones(${n},${n})`;
  };
  const lines: string[] = [];
  // an alias bomb some of the time, small or large
  const bombDepth = rng.next() < 0.3 ? 2 + rng.int(8) : 0;
  if (bombDepth) {
    lines.push('defs:', '  - &a0 [1, 2, 3]');
    for (let i = 1; i <= bombDepth; i++) lines.push(`  - &a${i} [${Array.from({ length: 6 }, () => `*a${i - 1}`).join(', ')}]`);
  }
  lines.push('cases:');
  const n = 1 + rng.int(5);
  for (let c = 0; c < n; c++) {
    const depth = 1 + rng.int(40);
    const defs = ['f1(t)=t*t', ...Array.from({ length: depth - 1 }, (_, i) => `f${i + 2}(t)=f${i + 1}(t)+f${i + 1}(t)`)].join('; ');
    const f = pick([
      `${defs}; f${depth}(x)`,
      `x*sum(${pick(['zeros', 'ones', 'randn', 'eye'])}(${size()}${rng.next() < 0.5 ? `, ${size()}` : ''}))`,
      `__proto__ * constructor + sin(x)`,
      `x*sum(${product()})`,
      `${'-'.repeat(rng.int(400))}x`,
      `x^2`,
    ]);
    lines.push(`  - name: ${JSON.stringify(pick(['plain', 'evil\u202Egnp', '__proto__', 'x'.repeat(rng.int(3000))]))}`);
    lines.push(`    f: ${JSON.stringify(f)}`);
    const at = pick([
      '',
      `    at: { x: 1.5, __proto__: 2, constructor: 3 }`,
      `    at: { x: "randn(${size()}, ${size()})" }`,
      `    at: { x: "sum(${product()})" }`,
      `    at: "${pick(['@/etc/passwd', '@../../etc/passwd', '@/dev/zero', '@nowhere.json'])}"`,
      bombDepth ? `    at: { x: *a${bombDepth} }` : '',
    ]);
    if (at) lines.push(at);
    if (rng.next() < 0.3) lines.push(`    ${pick(['rtol', 'atol', 'eps'])}: ${pick(['.inf', '.nan', '0', '-1', '1e9', '0.001'])}`);
    if (rng.next() < 0.3)
      lines.push(
        `    expect: { gradient: { x: ${JSON.stringify(pick(['2*x', `sum(ones(${size()}))`, `${defs}; f${depth}(x)`, `2*x + 0*sum(${product()})`]))} } }`,
      );
  }
  return `${lines.join('\n')}\n`;
}

describe('adversarial case files through the real CLI', () => {
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 7));
  for (let k = 0; k < FILES; k++) {
    const text = caseFile(rng);
    it(`case file ${k + 1}: ends in time, under the memory cap, cleanly`, () => {
      const f = join(dir, `fuzz-${k}.yaml`);
      writeFileSync(f, text);
      const r = attack(['check', f, '--timeout', '5', '--max-memory', String(MEMORY_GIB), '--reporter', k % 2 ? 'json' : 'table'], { timeoutMs: 90_000 });
      expect(r.signal, r.stderr).toBeNull();
      expect([0, 1, 2]).toContain(r.code);
      expectNoTrace(r);
      expect(r.stdout + r.stderr).not.toMatch(/root:x:0:0/);
      expect(r.peakMB).toBeLessThan(MEMORY_GIB * 1024 + OVERHEAD_MB);
      expect(r.ms).toBeLessThan(60_000);
    }, 120_000);
  }
});
