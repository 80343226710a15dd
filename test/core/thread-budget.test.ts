import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectWithin } from '../../src/core/thread-budget.js';

const dir = mkdtempSync(join(tmpdir(), 'ag-workers-'));
const script = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
const POSTER = `const { workerData } = require('node:worker_threads');
const post = (m) => { workerData.port.postMessage(m); const c = new Int32Array(workerData.signal); Atomics.add(c, 0, 1); Atomics.notify(c, 0); };`;

// budgets of a minute: a failing worker must be reported long before it, whatever the machine's load
const MINUTE = 60_000;

describe('worker threads under a budget', () => {
  it('hands on every result a worker posts', () => {
    const got: unknown[] = [];
    const ok = collectWithin(script('ok.cjs', `${POSTER}\npost({ n: workerData.n }); post({ n: workerData.n + 1 });`), { n: 41 }, 2, MINUTE, (m) =>
      got.push(m),
    );
    expect(ok).toBe(true);
    expect(got).toEqual([{ n: 41 }, { n: 42 }]);
  });

  it('a worker that fails at load is an error at once, naming the worker, not a wait for the budget', () => {
    const t0 = performance.now();
    expect(() => collectWithin(script('broken.cjs', `require('./no-such-module.cjs');`), {}, 1, MINUTE, () => {})).toThrow(
      /broken\.cjs failed: .*no-such-module/,
    );
    expect(performance.now() - t0).toBeLessThan(MINUTE / 2);
  });

  it('a worker that throws later, after a first result, is an error too', () => {
    const got: unknown[] = [];
    const p = script('late.cjs', `${POSTER}\npost({ first: true });\nsetTimeout(() => { throw new Error('layout exploded'); }, 10);`);
    const t0 = performance.now();
    expect(() => collectWithin(p, {}, 2, MINUTE, (m) => got.push(m))).toThrow(/late\.cjs failed: layout exploded/);
    expect(got).toEqual([{ first: true }]);
    expect(performance.now() - t0).toBeLessThan(MINUTE / 2);
  });

  it('a worker that never answers is ended at its budget', () => {
    expect(collectWithin(script('slow.cjs', `setInterval(() => {}, 1000);`), {}, 1, 200, () => {})).toBe(false);
  });
});
