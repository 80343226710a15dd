import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, expectNoTrace, expectRefused, OVERHEAD_MB, SLOW_MS, SLOW_TEST_MS } from './harness.js';

/**
 * Class 2: memory bounded in fact. With --max-memory M, the measured peak resident set
 * of the child stays under M plus a fixed overhead (OVERHEAD_MB: Node, V8, the parsed
 * formula and tape objects) — for runs just under the limit, which must run, and just
 * over it, which must be refused before anything large exists.
 */
const M = 0.25; // GiB
const limitMB = M * 1024;
const dir = mkdtempSync(join(tmpdir(), 'ag-mem-'));
// these tests are about memory, not time: the run's --timeout, the child's bound and vitest's are all far off,
// so a loaded machine (the default 60 s --timeout was reached at load average 6) cannot fail them on the clock
const SLOW = ['--timeout', String(SLOW_MS / 1000)];
const slow = { timeoutMs: SLOW_MS };

describe('memory is bounded in fact', { timeout: SLOW_TEST_MS }, () => {
  for (const engine of ['native', 'js']) {
    it(`a gradient run just under --max-memory ${M} GiB (${engine} engine) stays under the limit + ${OVERHEAD_MB} MB`, () => {
      // the check runs (its buffers count), with few sampled entries: each of its evaluations is a pass over 2M entries
      const r = attack(
        [
          'grad',
          'sum(W.^2)',
          '--at',
          'W=randn(1200,1200)',
          '--max-memory',
          String(M),
          '--edges',
          'none',
          '--engine',
          engine,
          '--directions',
          '1',
          '--sample',
          '4',
          ...SLOW,
        ],
        slow,
      );
      expect([0, 1]).toContain(r.code);
      expectNoTrace(r);
      console.log(`grad W 1200×1200 (${engine}): peak RSS ${r.peakMB.toFixed(0)} MB, limit ${limitMB} MB`);
      expect(r.peakMB).toBeLessThan(limitMB + OVERHEAD_MB);
    });
  }

  it('just over the limit: refused at once, with a small peak', () => {
    const r = attack(['grad', 'sum(W.^2)', '--at', 'W=randn(1500,1500)', '--max-memory', String(M), '--edges', 'none', ...SLOW], slow);
    expectRefused(r, /--max-memory/, { maxMB: 200, maxCpuMs: 10_000 });
  });

  it('the issue’s ones(7000,7000) in a case file, with the defaults: refused under 2 GiB + overhead', () => {
    const f = join(dir, 'big.yaml');
    writeFileSync(f, '- f: sum(W.^2)\n  at: { W: "ones(7000,7000)" }\n');
    const r = attack(['check', f, ...SLOW], slow);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/--max-memory/);
    expect(r.peakMB).toBeLessThan(2048 + OVERHEAD_MB);
  });

  it('check with values near the limit in several cases: each case under the limit', () => {
    const f = join(dir, 'near.yaml');
    writeFileSync(f, Array.from({ length: 3 }, () => '- f: sum(W.^2)\n  at: { W: "randn(1000,1000)" }\n  samples: 1\n').join(''));
    const r = attack(['check', f, '--max-memory', String(M), ...SLOW], slow);
    expect([0, 1]).toContain(r.code);
    expectNoTrace(r);
    expect(r.peakMB).toBeLessThan(limitMB + OVERHEAD_MB);
  });

  it('a value file over the limit is refused before it is read', () => {
    const big = join(dir, 'big.npy');
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (6000, 6000), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = Buffer.from(`${header}${' '.repeat(pad)}\n`, 'latin1');
    const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, h.length & 255, h.length >> 8]);
    writeFileSync(big, Buffer.concat([pre, h]));
    // a sparse file of 288 MB: the size alone says it is too large
    writeFileSync(big, Buffer.alloc(1), { flag: 'a' });
    const r = attack(['grad', 'sum(W)', '--at', `W=@${big}`, '--max-memory', String(M), ...SLOW], slow);
    expectRefused(r, /--max-memory|--max-file-size|fewer than/, { maxMB: 200 });
  });
});
