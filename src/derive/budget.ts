import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { checkDeadlineNow, remainingMs } from '../limits.js';
import { simplifyExpr } from './simplify.js';

/**
 * mathjs `simplify` under a time budget. One rule application of mathjs's simplify can
 * take minutes on a product of a dozen factors (it tries every split of an n-ary
 * product), and there is no point inside it where a deadline could be checked; so it
 * runs on a worker thread that is stopped when the budget runs out. That is the one
 * place a thread is killed rather than asked to stop: the work is a third party's,
 * pure, and holds nothing of ours. The caller waits synchronously (derive is a
 * synchronous API), keeps every result that arrived in time, and shows the others
 * as accumulated (correct, unsimplified) with a note.
 */

/** Default budget for all of a derive's simplifications. */
export const SIMPLIFY_BUDGET_MS = 4000;

export interface Simplified {
  /** simplified text, or null where the budget ran out first */
  out: (string | null)[];
  /** per expression: why simplify failed (it threw), or null */
  errors: (string | null)[];
  /** the budget ran out before every expression was simplified */
  timedOut: boolean;
}

/** The worker bundle beside the CLI and library bundles (scripts/build.mjs); null when running from source. */
function workerScript(): string | null {
  try {
    const path = fileURLToPath(new URL('./simplify-worker.cjs', import.meta.url));
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Simplify `exprs` within `budgetMs` (and the run's deadline); `matrices`: keep matrix products in order (see simplifyExpr). */
export function simplifyWithin(exprs: string[], budgetMs = SIMPLIFY_BUDGET_MS, simplify?: (e: string, o?: { matrices?: boolean }) => string, o: { matrices?: boolean } = {}): Simplified {
  const out: (string | null)[] = exprs.map(() => null);
  const errors: (string | null)[] = exprs.map(() => null);
  const budget = Math.min(budgetMs, remainingMs());
  const script = simplify ? null : workerScript();
  if (!script) {
    // a custom simplifier (tests), or no worker bundle (running from source): here, between deadline checks
    const t0 = performance.now();
    for (let i = 0; i < exprs.length; i++) {
      if (performance.now() - t0 > budget) return { out, errors, timedOut: true };
      checkDeadlineNow();
      try {
        out[i] = (simplify ?? simplifyExpr)(exprs[i], o);
      } catch (e) {
        errors[i] = (e as Error).message;
      }
    }
    return { out, errors, timedOut: false };
  }
  const signal = new SharedArrayBuffer(4);
  const count = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(script, { workerData: { exprs, port: port2, signal, matrices: o.matrices === true }, transferList: [port2] });
  const end = performance.now() + budget;
  let received = 0;
  try {
    while (received < exprs.length) {
      const left = end - performance.now();
      if (left <= 0) break;
      Atomics.wait(count, 0, received, left);
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) {
        const msg = m.message as { i: number; out?: string; error?: string };
        if (msg.out !== undefined) out[msg.i] = msg.out;
        else errors[msg.i] = msg.error ?? 'failed';
        received++;
      }
    }
  } finally {
    void worker.terminate();
    worker.unref();
    port1.close();
  }
  return { out, errors, timedOut: received < exprs.length };
}
