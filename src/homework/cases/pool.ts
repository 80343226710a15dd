import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../../core/thread-budget.js';
import type { CaseSpec } from './load.js';
import { runCase, type CaseResult, type RunOptions } from './run.js';
import type { Batch } from './worker.js';

/** `--jobs` when not given: one thread per core, at most 8. */
export function defaultJobs(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * What a worker thread costs before it pays: loading its bundle and warming up (the
 * measured range is in docs/performance.md, "--jobs, the crossover").
 */
export const WORKER_START_MS = 300;
/** Workers start only when the work left would take the main thread this many worker starts. */
const PAYS_OFF = 4;
/** The main thread's first cases run while V8 compiles: they are not timed for the estimate. */
const WARM_MS = 50;
/** The main thread times this much warm work before it estimates what is left. */
const MEASURE_MS = 100;
/**
 * Below this share of a core for the main thread alone, the machine is busy: a worker would
 * compete with it for the same CPU and only add its start-up (docs/performance.md, "--jobs,
 * the crossover").
 */
const BUSY_SHARE = 0.85;
/** Work a worker gets per message, so messages stay few and the end of the run stays short. */
const BATCH_MS = 40;

/** Set `stopped` (on SIGINT) to end a run after the cases in progress; the results hold the finished ones. */
export interface StopSignal {
  stopped: boolean;
}

/**
 * Run cases on up to `jobs` threads, never slower than one: the main thread runs the
 * cases in order from the front, timing them; once it can estimate the work left, and
 * only when that work would take it at least PAYS_OFF worker starts, it starts up to
 * `jobs − 1` worker threads, which take batches from the same queue (two in flight
 * each, so a worker never waits for the main thread between cases). Every result goes
 * back to its case's place, so results (and reports) are in the order of `cases` for any
 * number of jobs. A worker that dies loses nothing: its batch runs on the main thread.
 * Without the worker bundle (running from source) everything runs on the main thread.
 */
export async function runCases(
  cases: CaseSpec[],
  options: RunOptions,
  jobs: number,
  stop: StopSignal = { stopped: false },
): Promise<{ results: CaseResult[]; note?: string; interrupted: boolean; workers: number }> {
  const script = jobs > 1 && cases.length > 1 ? workerScript('check-worker.cjs') : null;
  const note =
    jobs > 1 && cases.length > 1 && !script ? 'the worker bundle dist/check-worker.cjs is missing (npm run build); ran the cases in one thread' : undefined;
  const results: CaseResult[] = new Array(cases.length);
  /** cases a lost worker was holding: the main thread runs them first */
  const retry: number[] = [];
  let next = 0;
  let mainMs = 0;
  let warmMs = 0;
  let warmRuns = 0;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  const workers: Worker[] = [];
  const idle: Promise<void>[] = [];
  const take = (n: number): number[] => {
    const ids: number[] = [];
    while (ids.length < n && next < cases.length) ids.push(next++);
    return ids;
  };
  const startWorker = (batch: number) => {
    const w = new Worker(script!);
    workers.push(w);
    const inFlight = new Set<number>();
    idle.push(
      new Promise<void>((resolve) => {
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          retry.push(...inFlight);
          inFlight.clear();
          void w.terminate();
          resolve();
        };
        const send = () => {
          const ids = stop.stopped ? [] : take(batch);
          if (!ids.length) return false;
          for (const id of ids) inFlight.add(id);
          const b: Batch = { ids, cases: ids.map((i) => cases[i]), options };
          w.postMessage(b);
          return true;
        };
        w.on('message', (m: { ids: number[]; results: CaseResult[] }) => {
          m.ids.forEach((id, k) => {
            results[id] = m.results[k];
            inFlight.delete(id);
          });
          if (!send() && inFlight.size === 0) finish();
        });
        w.on('error', finish);
        w.on('exit', finish);
        // two batches in flight: one runs while the next waits
        if (!send() || !send()) {
          if (inFlight.size === 0) finish();
        }
      }),
    );
  };
  let decided = !script;
  // tests start workers at once, to exercise them on a run too short to pay for them
  if (script && process.env.AUTOGRAD_POOL_EAGER === '1') {
    decided = true;
    for (let k = 0; k < jobs - 1; k++) startWorker(4);
  }
  for (;;) {
    // back to the event loop between cases: workers' messages, and a SIGINT handler
    await new Promise((r) => setImmediate(r));
    if (stop.stopped) break;
    const id = retry.length ? retry.shift()! : next < cases.length ? next++ : -1;
    if (id < 0) {
      if (!workers.length || (await Promise.race([Promise.all(idle).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]))) {
        if (!retry.length) break;
      }
      continue;
    }
    const t0 = performance.now();
    results[id] = runCase(cases[id], options);
    const ms = performance.now() - t0;
    mainMs += ms;
    if (mainMs - ms < WARM_MS) {
      // still warming up: the estimate and the CPU share start after this case
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
    } else {
      warmMs += ms;
      warmRuns++;
    }
    if (!decided && warmMs >= MEASURE_MS) {
      decided = true;
      const perCase = warmMs / warmRuns;
      const left = perCase * (cases.length - next);
      const used = process.cpuUsage(cpu0);
      const share = (used.user + used.system) / 1000 / (performance.now() - wall0);
      const idle = availableParallelism() - loadavg()[0];
      const free = share >= BUSY_SHARE && idle > 0.5;
      const n = free ? Math.min(jobs - 1, Math.max(0, Math.floor(idle)), Math.floor(left / (PAYS_OFF * WORKER_START_MS))) : 0;
      const batch = Math.max(1, Math.min(64, Math.ceil(BATCH_MS / perCase)));
      for (let k = 0; k < n; k++) startWorker(batch);
    }
  }
  for (const w of workers) void w.terminate();
  await Promise.all(idle);
  const interrupted = stop.stopped;
  return { results: interrupted ? results.filter(Boolean) : results, note, interrupted, workers: workers.length };
}
