import { readdirSync, readFileSync } from 'node:fs';
import { loadNative, nativeAddon } from '../../core/engine/native.js';

/**
 * No process a run started outlives it (DESIGN.md, third stage). A program under
 * `gradcheck --exec`/`--module` leads its own process group (src/subjects/code/pipe.ts); it is
 * ended with its whole tree on every way out of the run:
 *
 * - the end of the check, a protocol error, a time-out: Pipe.kill;
 * - the CLI leaving (a normal exit, process.exit, an uncaught error): the process's
 *   'exit' event, synchronous, ends every program still running;
 * - SIGINT, SIGTERM, SIGHUP to the CLI: the programs are ended, then the signal takes
 *   its usual course (or is left to the command's own handler when it has one).
 *
 * Ending a program ends its process group and, on Linux, every descendant found under it
 * in /proc (a child that moved into its own session with setsid included). A daemon that
 * left before the end (fork, setsid, fork: its parent gone, it was reparented) is caught
 * when the CLI is the child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`, through the
 * native addon, `becomeSubreaper`): orphans then come to the CLI instead of init, and
 * after each program the CLI ends whatever was reparented to it. Without the addon, on
 * macOS and on Windows, only the process group (and on Linux the tree still attached)
 * is ended; a SIGKILL to the CLI itself cannot be handled on any platform.
 */

/** What the registry can end: a running program. */
export interface Ended {
  kill(): void;
  pid(): number | undefined;
}

const live = new Set<Ended>();
/** Every program pid started in this process: libuv reaps those, never this file. */
const started = new Set<number>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let subreaper = false;
let installed = false;

function onExit(): void {
  for (const p of [...live]) p.kill();
}

function onSignal(sig: NodeJS.Signals): void {
  onExit();
  if (process.listenerCount(sig) > 1) return;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, sig);
}

/** A program started: ended with the CLI whatever way it goes. */
export function watch(p: Ended): void {
  live.add(p);
  const pid = p.pid();
  if (pid !== undefined) started.add(pid);
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** A program ended. */
export function unwatch(p: Ended): void {
  live.delete(p);
  if (live.size || !installed) return;
  installed = false;
  process.removeListener('exit', onExit);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * Make this process the child subreaper (Linux, through the native addon, which is
 * loaded for this even when the TypeScript engine runs). For the CLI only: a library
 * host keeps its own process semantics. Returns why not, or '' when it holds.
 */
export function becomeSubreaper(): string {
  if (subreaper) return '';
  if (process.platform !== 'linux') return `${process.platform} has no child subreaper: a program's process group is ended, a daemon that left it is not`;
  const a = addonForProcesses();
  if (!a?.childSubreaper) return 'the native addon is not available: a daemon that left the program is not ended';
  subreaper = a.childSubreaper();
  return subreaper ? '' : 'prctl(PR_SET_CHILD_SUBREAPER) failed';
}

function addonForProcesses(): ReturnType<typeof nativeAddon> {
  try {
    loadNative({ notice: false });
    return nativeAddon();
  } catch {
    return null;
  }
}

/** The children of `pid` (all its threads'), from /proc; null where /proc cannot tell. */
function childrenOf(pid: number): number[] | null {
  try {
    const out: number[] = [];
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    }
    return out;
  } catch {
    return scanChildren(pid);
  }
}

/** Children by ppid, scanning /proc/<n>/stat (a kernel without the children files). */
function scanChildren(pid: number): number[] | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const st = stat(Number(n));
    if (st && st.ppid === pid) out.push(Number(n));
  }
  return out;
}

/** State and parent of a process; null when it is gone. */
function stat(pid: number): { state: string; ppid: number; start: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name in (…) may hold spaces and parentheses: read after the last ')'
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 3, 4 and 22 of proc(5): state, ppid, start time (a reused pid has another)
    return { state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return null;
  }
}

function killGroupAndSelf(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone, or not a group leader
    }
  }
}

/** A process as seen once: its pid and start time, so a pid reused since is never taken for it. */
export interface Seen {
  pid: number;
  start: string;
}

/** Every process under `pid` (whatever its session), from /proc; empty where /proc cannot tell. */
export function descendants(pid: number): Seen[] {
  if (process.platform !== 'linux') return [];
  const seen = new Set<number>();
  const walk = (p: number) => {
    for (const c of childrenOf(p) ?? []) {
      if (seen.has(c) || seen.size > 10_000) continue;
      seen.add(c);
      walk(c);
    }
  };
  walk(pid);
  return [...seen].flatMap((c) => {
    const st = stat(c);
    return st ? [{ pid: c, start: st.start }] : [];
  });
}

/**
 * End a program's tree: every descendant still under it (whatever its session; `also`:
 * those found while it still ran), then its process group. Synchronous, so it also
 * serves a CLI on its way out.
 */
export function killTree(pid: number, tree = true, also: Seen[] = []): void {
  for (const c of [...(tree ? descendants(pid) : []), ...also]) if (stat(c.pid)?.start === c.start) killGroupAndSelf(c.pid);
  killGroupAndSelf(pid);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * After a program was killed: end whatever was reparented to this process (it is the
 * subreaper) and collect it, until nothing new turns up (a killed process's own children
 * come next), for at most `ms`. Programs still running are left alone. Nothing to do
 * without the subreaper.
 */
export function endOrphans(ms = 1000): void {
  if (!subreaper) return;
  const a = addonForProcesses();
  const running = new Set([...live].map((p) => p.pid()).filter((p) => p !== undefined));
  const until = performance.now() + ms;
  let quiet = 0;
  while (quiet < 3 && performance.now() < until) {
    let found = false;
    for (const c of childrenOf(process.pid) ?? []) {
      if (started.has(c) || running.has(c)) continue;
      const st = stat(c);
      if (!st) continue;
      if (st.state !== 'Z') {
        found = true;
        killTree(c);
      }
      a?.reap?.(c);
    }
    quiet = found ? 0 : quiet + 1;
    Atomics.wait(pause, 0, 0, 10);
  }
}
