import { workerData } from 'node:worker_threads';
import { AgError } from '../../core/errors.js';
import { postResult, type ThreadJob } from '../../core/thread-budget.js';
import { drawHere } from './draw.js';

/**
 * The drawing worker (bundled on its own as dist/draw-worker.cjs): lays out one graph
 * and draws it, then posts the picture or why it could not (picture.ts ends the thread
 * at the run's deadline).
 */
export interface DrawJob extends ThreadJob {
  dot: string;
  format: 'svg' | 'png';
  /** the deadline, Date.now() milliseconds (Infinity: none) */
  endsAt: number;
  /** bytes the drawing may hold (--max-memory) */
  maxMemory?: number;
}

export interface DrawResult {
  out?: string | Uint8Array;
  /** an AgError's code, message and hint cross as they are; anything else is a message */
  error?: { code?: string; message: string; hint?: string };
}

const job = workerData as DrawJob | null;
if (job) {
  drawHere(job.dot, job.format, { maxMemory: job.maxMemory, late: () => Date.now() > job.endsAt }).then(
    (out) => postResult(job, { out } satisfies DrawResult),
    (e: unknown) =>
      postResult(job, {
        error: e instanceof AgError ? { code: e.code, message: e.message, hint: e.hint } : { message: e instanceof Error ? e.message : String(e) },
      } satisfies DrawResult),
  );
}
