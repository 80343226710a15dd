import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers.js';

/** Class 6: output streams behave like Unix tools: a closed pipe ends the program quietly. */
describe('output into a closed pipe', () => {
  for (const args of [
    ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi'],
    ['graph', 'sum(W*x)', '--at', 'W=randn(30,30),x=randn(30)'],
    ['check', 'fixtures/homework/exercises.yaml'],
    ['grad', 'sum(W.^2)', '--at', 'W=randn(40,40)', '--json', '--edges', 'full'],
  ]) {
    it(`${args.slice(0, 2).join(' ')} | head -1: no EPIPE trace`, () => {
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args.map((a) => `'${a}'`).join(' ')} | head -1`;
      const r = spawnSync('bash', ['-c', `set -o pipefail; ${cmd}`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toBe('');
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    });
  }
});
