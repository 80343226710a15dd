import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The picture renderers (@viz-js/viz, @resvg/resvg-js) are loaded only when a picture is
 * drawn. Where they cannot be loaded (a broken install; resvg has no build for the
 * machine) a picture is one line naming the package and what still works, exit 2, no
 * file written, and everything else runs: the built CLI copied beside no node_modules.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-renderers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
mkdirSync(join(dir, 'node_modules'));
const run = (args: string[]) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'autograd-cli.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('pictures without their renderer packages', () => {
  for (const format of ['svg', 'png', 'html'] as const) {
    it(`graph --format ${format}: one line naming @viz-js/viz, exit 2, nothing written`, () => {
      const out = join(dir, `g.${format}`);
      const r = run(['graph', 'x*y', '--at', 'x=1,y=2', '--format', format, '-o', out]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        /^error: an SVG picture needs the package @viz-js\/viz, which cannot be loaded here \(not installed, or no build of it for [\w-]+\)\n {2}hint: /,
      );
      expect(r.stderr).not.toMatch(/internal error|this is a bug|\n\s+at /);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('everything but a picture works: grad and the ascii graph', () => {
    const g = run(['grad', 'x*y', '--at', 'x=1,y=2', '--json']);
    expect(g.status, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).gradient).toEqual({ x: 2, y: 1 });
    const a = run(['graph', 'x*y', '--at', 'x=1,y=2']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toContain('x*y');
  });
});
