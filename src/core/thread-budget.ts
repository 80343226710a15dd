import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

/**
 * Work that cannot look at a deadline (mathjs simplify, a Graphviz layout: a third
 * party's code, pure, holding nothing of ours) runs on a worker thread that is
 * terminated when its time is up. That is the one place a thread is killed rather than
 * asked to stop. The caller waits synchronously and keeps every result posted in time.
 */

/** What every such worker is given besides its own data: where to post, and a counter to wake the waiting thread. */
export interface ThreadJob {
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] counts results posted */
  signal: SharedArrayBuffer;
}

/** A worker bundle beside the CLI and library bundles (scripts/build.mjs); null when running from source. */
export function workerScript(file: string): string | null {
  try {
    const path = fileURLToPath(new URL(`./${file}`, import.meta.url));
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/**
 * The worker's entry: the script is loaded inside a try, and an exception that escapes it
 * later is caught, so a worker that fails (at load, or on the way) says so at once
 * instead of leaving the waiting thread asleep until its budget is spent.
 */
const ENTRY = `
const { workerData } = require('node:worker_threads');
const fail = (e) => {
  try { workerData.port.postMessage({ workerFailed: String((e && e.message) || e).slice(0, 300) }); } catch {}
  const count = new Int32Array(workerData.signal);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
};
process.on('uncaughtException', fail);
try { require(workerData.script); } catch (e) { fail(e); }
`;

/** What a worker that failed posts instead of its results. */
interface WorkerFailed {
  workerFailed: string;
}

/**
 * Run `script` with `data` on a worker thread and hand each of the `expected` results it
 * posts to `onResult`, for at most `budgetMs` (Infinity: until done); the thread is
 * ended either way. True when every result arrived in time; a worker that failed is an
 * Error naming it (an internal fault, not the user's input).
 */
export function collectWithin<M>(script: string, data: object, expected: number, budgetMs: number, onResult: (m: M) => void): boolean {
  const signal = new SharedArrayBuffer(4);
  const count = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(ENTRY, { eval: true, workerData: { ...data, script, port: port2, signal }, transferList: [port2] });
  const end = performance.now() + budgetMs;
  let received = 0;
  try {
    while (received < expected) {
      const left = end - performance.now();
      if (left <= 0) break;
      Atomics.wait(count, 0, received, left);
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) {
        const failed = (m.message as Partial<WorkerFailed> | null)?.workerFailed;
        if (failed !== undefined) throw new Error(`the worker thread ${basename(script)} failed: ${failed}`);
        onResult(m.message as M);
        received++;
      }
    }
  } finally {
    void worker.terminate();
    worker.unref();
    port1.close();
  }
  return received >= expected;
}

/** In the worker: post one result and wake the waiting thread. */
export function postResult(job: ThreadJob, msg: unknown): void {
  job.port.postMessage(msg);
  const count = new Int32Array(job.signal);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
}
