import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ROOT } from '../helpers.js';

/** The prebuilt engine for this machine, as `npm pack` ships it. */
export const PREBUILD = join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'autograd_native.napi.node');

/**
 * `npm pack` of the project into `dest`, as a user makes the tarball: the CLI must be built,
 * and the prebuild is made first when it is missing (the prepack step), never skipped.
 * The tarball's path and the files it holds.
 */
export function packTarball(dest: string): { tarball: string; files: string[] } {
  expect(existsSync(join(ROOT, 'dist', 'cli.cjs')), 'the CLI is built (npm run build)').toBe(true);
  // on linux-x64 the x86-64-v3 one too, beside it
  const variants = [['prebuild', PREBUILD]];
  if (process.platform === 'linux' && process.arch === 'x64') variants.push(['prebuild-v3', join(dirname(PREBUILD), 'autograd_native.v3.napi.node')]);
  for (const [variant, file] of variants) {
    if (existsSync(file)) continue;
    const b = spawnSync(process.execPath, ['scripts/build-native.mjs', '--variant', variant], { cwd: ROOT, encoding: 'utf8' });
    expect(b.status, `${b.stdout}${b.stderr}`).toBe(0);
  }
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: ROOT, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const info = JSON.parse(pack.stdout)[0];
  return { tarball: join(dest, info.filename), files: info.files.map((f: { path: string }) => f.path) };
}
