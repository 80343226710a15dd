import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { builderOf, type ArgsOf } from './options.js';
import {
  BUILD_COMMAND,
  BUILD_NEEDS,
  libcHere,
  loadNative,
  packageRoot,
  PREBUILD_NAME,
  PREBUILD_V3_NAME,
  type NativeCandidate,
  type NativeSource,
} from '../core/engine/native.js';
import { OPS } from '../core/ops/index.js';
import { colors, emit, EXIT_OK, JSON_OPTION, jsonOr, run } from './common.js';

export const command = 'doctor';
export const describe = 'which engine runs formulas here: the native addon (prebuilt or built here; its BLAS, threads, compiler) or why not';

export const positionals = {} as const;

export const options = {
  json: JSON_OPTION,
} as const;

const examples = [['$0 doctor', 'is the native engine built, and with which BLAS?']] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options>;

export interface DoctorReport {
  /** what `--engine auto` uses for a formula whose ops the native engine covers */
  engine: 'native' | 'js';
  /** why not native (absent when native) */
  reason?: string;
  /** where the native engine came from: AUTOGRAD_NATIVE_PATH, the prebuild for this platform, or a local build */
  source: NativeSource | null;
  addon: string;
  /** every addon the loader looked at, in its order, and why each one not loaded was skipped */
  candidates: NativeCandidate[];
  /** this machine as the prebuilds are named: linux-x64 */
  platform: string;
  /** the C library here: `glibc 2.36`, `not glibc` (Linux without glibc), null elsewhere */
  libc: string | null;
  /** every prebuild the package carries, what it needs, and whether it is the one used here */
  prebuilds: PrebuildReport[];
  blas: string | null;
  /** the CBLAS library file, or why the built-in kernel runs */
  blasFrom: string | null;
  threads: number | null;
  blasThreads: number | null;
  /** products of moderate size on the built-in AVX-512 kernel (AUTOGRAD_AVX512=0: BLAS's) */
  avx512Products: boolean | null;
  compiler: string | null;
  buildType: string | null;
  buildSystem: string | null;
  sanitizers: string | null;
  /** the N-API version the addon was built for */
  napiAddon: number | null;
  ops: { table: number; native: number; missing: string[] };
  node: string;
  napi: string;
}

export interface PrebuildReport {
  /** platform-arch */
  target: string;
  /** the CPU level it is built for beyond the architecture's baseline (x86-64-v3), or null */
  cpu: string | null;
  path: string;
  /** the newest glibc it asks for (`glibc 2.17`), null when it asks for none (not Linux) */
  needs: string | null;
  /** `loaded`, `not used: <why>`, or `for another machine` */
  use: string;
}

/** The newest glibc version a Linux .node asks for, read from its symbol versions (GLIBC_2.17). */
export function glibcNeeded(path: string): string | null {
  let newest: number[] | null = null;
  for (const m of readFileSync(path, 'latin1').matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)) {
    const v = m[1].split('.').map(Number);
    if (!newest || compareVersions(v, newest) > 0) newest = v;
  }
  return newest ? `glibc ${newest.join('.')}` : null;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** The package's prebuilds/<platform-arch>/ folders, this machine's first; in each the baseline build, then the x86-64-v3 one. */
function prebuildsReport(platform: string, candidates: NativeCandidate[], loaded: string): PrebuildReport[] {
  const dir = join(packageRoot(), 'prebuilds');
  const targets = existsSync(dir) ? readdirSync(dir) : [];
  targets.sort((a, b) => Number(b === platform) - Number(a === platform) || a.localeCompare(b));
  const files = targets.flatMap((target) =>
    [
      { target, cpu: null, path: join(dir, target, PREBUILD_NAME) },
      { target, cpu: 'x86-64-v3', path: join(dir, target, PREBUILD_V3_NAME) },
    ].filter((f) => existsSync(f.path)),
  );
  return files.map(({ target, cpu, path }) => {
    const mine = candidates.find((c) => c.source.startsWith('prebuild') && c.path === path);
    const use = target !== platform ? 'for another machine' : path === loaded ? 'loaded' : `not used: ${mine?.skipped || 'another build was loaded'}`;
    return { target, cpu, path, needs: target.startsWith('linux-') ? glibcNeeded(path) : null, use };
  });
}

export function doctorReport(): DoctorReport {
  const s = loadNative({ notice: false });
  const table = [...OPS.keys()];
  const nativeOps = s.engine ? s.engine.ops : new Set<string>();
  const missing = s.engine ? table.filter((op) => !nativeOps.has(op)) : [];
  const i = s.info;
  return {
    engine: s.engine ? 'native' : 'js',
    ...(s.engine ? {} : { reason: s.reason }),
    source: s.source ?? null,
    addon: s.path,
    candidates: s.candidates,
    platform: `${process.platform}-${process.arch}`,
    libc: libcHere(),
    prebuilds: prebuildsReport(`${process.platform}-${process.arch}`, s.candidates, s.engine ? s.path : ''),
    blas: i?.blas ?? null,
    blasFrom: i?.blasFrom ?? null,
    threads: i?.threads ?? null,
    blasThreads: i?.blasThreads ?? null,
    avx512Products: i ? i.avx512Products === true : null,
    compiler: i?.compiler ?? null,
    buildType: i?.buildType ?? null,
    buildSystem: i?.buildSystem ?? null,
    sanitizers: i ? i.sanitizers || 'none' : null,
    napiAddon: i?.napiVersion ?? null,
    ops: { table: table.length, native: nativeOps.size, missing },
    node: process.version,
    napi: process.versions.napi ?? '?',
  };
}

export async function handler(args: Args): Promise<void> {
  await run(args, () => {
    const r = doctorReport();
    emit(
      jsonOr(
        args,
        () => r,
        () => doctorText(r, colors(args)),
      ),
    );
    return EXIT_OK;
  });
}

/** The report for a person: one line per thing, what to do when the addon is missing. */
function doctorText(r: ReturnType<typeof doctorReport>, c: ChalkInstance): string {
  const line = (k: string, v: string) => `${c.bold(k.padEnd(11))} ${v}`;
  const out = [
    line(
      'engine',
      r.engine === 'native' ? c.green('native') + c.dim(' (--engine auto uses it for every formula whose ops it covers)') : `${c.yellow('js')} — ${r.reason}`,
    ),
    line('addon', r.source ? `${r.addon} ${c.dim(`(${r.source})`)}` : r.addon),
    ...r.candidates.filter((k) => k.skipped && r.engine === 'native').map((k) => line('', c.dim(`not used: ${k.source} ${k.path}: ${k.skipped}`))),
    line(
      'prebuilds',
      r.prebuilds.length
        ? r.prebuilds
            .map((p) => `${p.target}${p.cpu ? ` ${p.cpu}` : ''}${p.needs ? ` (needs ${p.needs})` : ''}: ${p.use === 'loaded' ? c.green(p.use) : c.dim(p.use)}`)
            .join('; ')
        : c.dim(`none in this package (none for ${r.platform})`),
    ),
  ];
  if (r.libc) out.push(line('C library', r.libc));
  if (r.engine === 'native') {
    out.push(
      // blasFrom may quote AUTOGRAD_BLAS: control characters escaped, so it stays one line
      line(
        'BLAS',
        `${r.blas ?? '?'} ${c.dim((r.blas === 'built-in kernel' ? `(${r.blasFrom})` : `from ${r.blasFrom}`).replace(/[\x00-\x1f\x7f]/g, (ch) => JSON.stringify(ch).slice(1, -1)))}`,
      ),
      ...(r.avx512Products
        ? [line('products', 'up to 2^24 multiply-adds on the built-in AVX-512 kernel, larger ones on BLAS (AUTOGRAD_AVX512=0: all on BLAS)')]
        : []),
      line('threads', `${r.threads} for the finite-difference loop; BLAS ${r.blasThreads}`),
      line('compiler', r.compiler ?? '?'),
      line('build', `${r.buildType} (${r.buildSystem}, N-API ${r.napiAddon})${r.sanitizers !== 'none' ? `, sanitizers: ${r.sanitizers}` : ''}`),
      line(
        'ops',
        r.ops.missing.length ? `${r.ops.native} native of ${r.ops.table}; missing: ${r.ops.missing.join(', ')}` : `all ${r.ops.table} ops of the table`,
      ),
    );
  } else if (!process.env.AUTOGRAD_NATIVE_PATH && r.candidates.every((k) => k.skipped !== 'AUTOGRAD_NATIVE=0')) {
    out.push(line('build it', `${BUILD_COMMAND()} ${c.dim(`(${BUILD_NEEDS})`)}`));
  }
  out.push(line('node', `${r.node} (N-API ${r.napi})`));
  return out.join('\n');
}
