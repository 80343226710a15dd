import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers.js';

/**
 * The SVG/PNG renderers (@viz-js/viz, @resvg/resvg-js: 9 MB) load only when a picture is
 * drawn, and then in the drawing worker: a probe preloaded into every thread reports each
 * require() of theirs, and in which thread.
 */
const PROBE = `
const Module = require('node:module');
const { isMainThread } = require('node:worker_threads');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^@(viz-js|resvg)\\//.test(request)) require('node:fs').writeSync(2, 'renderer loaded in ' + (isMainThread ? 'main' : 'worker') + ': ' + request + '\\n');
  return load.call(this, request, ...rest);
};
`;
const probe = join(mkdtempSync(join(tmpdir(), 'ag-lazy-')), 'probe.cjs');
writeFileSync(probe, PROBE);

function loaded(args: string[]): { main: number; workers: number; code: number | null } {
  const r = spawnSync(process.execPath, ['-r', probe, BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const count = (thread: string) => [...r.stderr.matchAll(new RegExp(`^renderer loaded in ${thread}: `, 'gm'))].length;
  return { main: count('main'), workers: count('worker'), code: r.status };
}

describe('the picture renderers load only to draw a picture', () => {
  it('grad, check, graph (text), doctor: not loaded in any thread', () => {
    for (const args of [['grad', 'x^2', '--at', 'x=1'], ['check', 'fixtures/ci/passing/'], ['graph', 'x^2', '--at', 'x=1'], ['doctor']]) {
      const r = loaded(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.main, args.join(' ')).toBe(0);
      expect(r.workers, args.join(' ')).toBe(0);
    }
  });

  it('graph -f svg: loaded in the drawing worker, never in the main thread', () => {
    const r = loaded(['graph', 'x^2', '--at', 'x=1', '-f', 'svg']);
    expect(r.code).toBe(0);
    expect(r.main).toBe(0);
    expect(r.workers).toBeGreaterThan(0);
  });
});
