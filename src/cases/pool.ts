import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaseSpec } from './load.js';
import { runCase, type CaseResult, type RunOptions } from './run.js';
import type { Batch } from './worker.js';

/** The worker bundle sits next to the CLI and library bundles (scripts/build.mjs). */
export function workerScript(): string | null {
  try {
    const path = fileURLToPath(new URL('./check-worker.cjs', import.meta.url));
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/**
 * Run cases on `jobs` worker threads. Batches are handed out as workers free up, and
 * every result goes back to its case's place, so the results (and every report) are in
 * the order of `cases` whatever the timing. Without the worker bundle (running from
 * source), or for one job, the cases run here, one after another.
 */
/** Set `stopped` (on SIGINT) to end a run after the cases in progress; the results hold the finished ones. */
export interface StopSignal {
  stopped: boolean;
}

export async function runCases(cases: CaseSpec[], options: RunOptions, jobs: number, stop: StopSignal = { stopped: false }): Promise<{ results: CaseResult[]; note?: string; interrupted: boolean }> {
  const script = jobs > 1 && cases.length > 1 ? workerScript() : null;
  if (!script) {
    const note = jobs > 1 && cases.length > 1 ? 'the worker bundle dist/check-worker.cjs is missing (npm run build); ran the cases in one thread' : undefined;
    const results: CaseResult[] = [];
    for (const c of cases) {
      // back to the event loop between cases, so a SIGINT handler can run
      await new Promise((r) => setImmediate(r));
      if (stop.stopped) break;
      results.push(runCase(c, options));
    }
    return { results, note, interrupted: stop.stopped };
  }
  const results: CaseResult[] = new Array(cases.length);
  const n = Math.min(jobs, cases.length);
  // small enough batches to balance two slow cases, large enough to keep messages few
  const size = Math.max(1, Math.min(64, Math.ceil(cases.length / (n * 8))));
  let next = 0;
  const work = (w: Worker) =>
    new Promise<void>((resolve) => {
      let inFlight: number[] = [];
      const send = () => {
        if (next >= cases.length || stop.stopped) {
          inFlight = [];
          void w.terminate();
          resolve();
          return;
        }
        inFlight = Array.from({ length: Math.min(size, cases.length - next) }, (_, k) => next + k);
        next += inFlight.length;
        const batch: Batch = { ids: inFlight, cases: inFlight.map((i) => cases[i]), options };
        w.postMessage(batch);
      };
      w.on('message', (m: { ids: number[]; results: CaseResult[] }) => {
        m.ids.forEach((id, k) => (results[id] = m.results[k]));
        send();
      });
      // a worker that dies takes its batch with it: those cases run here instead
      const lost = () => {
        if (stop.stopped) {
          inFlight = [];
          resolve();
          return;
        }
        for (const id of inFlight) results[id] ??= runCase(cases[id], options);
        inFlight = [];
        while (next < cases.length) {
          const id = next++;
          results[id] = runCase(cases[id], options);
        }
        resolve();
      };
      w.on('error', lost);
      w.on('exit', () => {
        if (inFlight.length) lost();
      });
      send();
    });
  const workers = Array.from({ length: n }, () => new Worker(script));
  const watch = setInterval(() => {
    // interrupted: the batches in flight are dropped, the finished ones kept
    if (stop.stopped) for (const w of workers) void w.terminate();
  }, 50);
  try {
    await Promise.all(workers.map(work));
  } finally {
    clearInterval(watch);
  }
  return { results: stop.stopped ? results.filter(Boolean) : results, interrupted: stop.stopped };
}
