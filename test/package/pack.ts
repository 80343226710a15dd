import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  if (!existsSync(PREBUILD)) {
    const b = spawnSync(process.execPath, ['scripts/build-native.mjs', '--variant', 'prebuild'], { cwd: ROOT, encoding: 'utf8' });
    expect(b.status, `${b.stdout}${b.stderr}`).toBe(0);
  }
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: ROOT, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const info = JSON.parse(pack.stdout)[0];
  return { tarball: join(dest, info.filename), files: info.files.map((f: { path: string }) => f.path) };
}
