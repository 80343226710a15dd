import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BIN, ROOT } from '../helpers.js';

/**
 * Attacks through the real CLI: every run is a child process with a time bound, and
 * its peak resident memory and CPU time are measured (/usr/bin/time's maximum RSS, which
 * the kernel keeps as VmHWM, and user + system time), so a test asserts what the process
 * did, not what it estimated. "Fails fast" is asserted on CPU time: a loaded machine
 * stretches wall time, not the work done; wall time is asserted only where the promise
 * is a wall-clock deadline (--timeout), with slack.
 */

export interface Attack {
  code: number;
  stdout: string;
  stderr: string;
  /** wall time, milliseconds */
  ms: number;
  /** CPU time of the child (user + system, its threads and waited-for children included), milliseconds */
  cpuMs: number;
  /** peak resident set size of the child, MiB */
  peakMB: number;
  signal: NodeJS.Signals | null;
}

/**
 * What the process may hold above --max-memory: Node and V8 (~60 MB), the parsed formula and
 * tape objects, the bundle. Node 22 and 24's V8 lets the young generation grow to several
 * times Node 20's: the same run holds 90–130 MB more there (measured on grad of a 1300×1300
 * W, both engines), which is the runtime's and counted as such.
 */
export const OVERHEAD_MB = Number(process.versions.node.split('.')[0]) >= 22 ? 420 : 300;

/**
 * The time bound of a test of another resource (memory, output size): a run that is not
 * about time gets this as its --timeout (seconds: SLOW_MS / 1000) and as its child's
 * bound, so no machine load makes it fail on the clock; vitest's bound is SLOW_TEST_MS.
 */
export const SLOW_MS = 600_000;
export const SLOW_TEST_MS = SLOW_MS + 60_000;

export function attack(args: string[], o: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): Attack {
  const dir = mkdtempSync(join(tmpdir(), 'ag-attack-'));
  const timeFile = join(dir, 'time');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, process.execPath, BIN, ...args], {
    encoding: 'utf8',
    cwd: o.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...o.env },
    input: o.input ?? '',
    timeout: o.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  let peakKB = NaN;
  let cpuMs = NaN;
  try {
    const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    peakKB = kb;
    cpuMs = (user + sys) * 1000;
  } catch {
    // killed before time wrote it: the assertions on code and time say why
  }
  rmSync(dir, { recursive: true, force: true });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms, cpuMs, peakMB: peakKB / 1024, signal: r.signal };
}

/**
 * Exit 2 (or `code`), a one-line message starting `error:` matching `message`, no stack
 * trace, and bounded work and memory: CPU time under `maxCpuMs` (default 20 s), and wall
 * time under `maxMs` only when given (a deadline's promise, with its slack).
 */
export function expectRefused(r: Attack, message: RegExp, o: { code?: number; maxMs?: number; maxCpuMs?: number; maxMB?: number } = {}): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(o.code ?? 2);
  expect(r.stderr.split('\n')[0]).toMatch(/^error: /);
  expect(r.stderr).toMatch(message);
  expectNoTrace(r);
  expect(r.cpuMs).toBeLessThan(o.maxCpuMs ?? 20_000);
  if (o.maxMs !== undefined) expect(r.ms).toBeLessThan(o.maxMs);
  expect(r.peakMB).toBeLessThan(o.maxMB ?? 400);
}

export function expectNoTrace(r: Attack): void {
  const all = r.stdout + r.stderr;
  expect(all).not.toMatch(/\n\s+at \S.*:\d+:\d+\)?\n/);
  expect(all).not.toMatch(/Unhandled|internal error|this is a bug|SIGABRT|Aborted|core dumped/i);
}

/** Processes whose command line carries `marker` (not this one): what a run of a program marked with it left. */
export function carrying(marker: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'latin1').includes(marker)) out.push(Number(n));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** No process with the marker: a process killed with SIGKILL is gone at once; a little grace for a loaded machine, never a verdict on speed (the left ones sleep 1000 s). */
export async function expectNoneLeft(marker: string, what = ''): Promise<void> {
  let left = carrying(marker);
  for (let i = 0; i < 40 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = carrying(marker);
  }
  expect(left, `${what}processes left with ${marker}`).toEqual([]);
}

/** End whatever a failed test left behind: every process carrying one of `markers`. */
export function killCarrying(markers: readonly string[]): void {
  for (const m of markers) {
    for (const pid of carrying(m)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
