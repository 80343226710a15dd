import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { simplifyExpr } from './simplify.js';

/**
 * The simplify worker (bundled on its own as dist/simplify-worker.cjs): simplifies the
 * expressions it is given one after another, posting each result as soon as it has it
 * and waking the waiting thread, so that whatever finished before the budget ran out
 * is kept when the thread is stopped (see budget.ts).
 */
export interface SimplifyJob {
  exprs: string[];
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] counts results posted */
  signal: SharedArrayBuffer;
  /** the expressions have matrices in them (simplifyExpr's option) */
  matrices?: boolean;
}

const job = workerData as SimplifyJob | null;
if (job) {
  const count = new Int32Array(job.signal);
  job.exprs.forEach((e, i) => {
    let msg: { i: number; out?: string; error?: string };
    try {
      msg = { i, out: simplifyExpr(e, { matrices: job.matrices }) };
    } catch (err) {
      msg = { i, error: (err as Error).message };
    }
    job.port.postMessage(msg);
    Atomics.add(count, 0, 1);
    Atomics.notify(count, 0);
  });
}
