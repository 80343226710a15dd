// What the benchmarks that run the real built CLI share: where it is, the command line's
// options, the machine's description (the median is bench/seeded.mjs's).
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bin = join(root, 'bin', 'autograd-cli.js');
export const args = process.argv.slice(2);

/** `--name N` as a number, or `dflt`. */
export function opt(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** `--name a,b,c` as a list, or null. */
export function list(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1].split(',').map((x) => x.trim()) : null;
}

/** Stop with a message when the CLI is not built. */
export function requireBuilt(bench) {
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) {
    process.stderr.write(`bench/${bench}: the CLI is not built; run \`npm run build\` first\n`);
    process.exit(2);
  }
}

/** The environment a child CLI runs in: no colours, no inherited Node options. */
export function childEnv() {
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  return env;
}

export const machine = () => `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${process.platform}`;
