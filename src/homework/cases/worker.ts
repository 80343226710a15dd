import { parentPort } from 'node:worker_threads';
import type { CaseSpec } from './load.js';
import { runCase, type RunOptions } from './run.js';

/**
 * A `check --jobs N` worker (bundled on its own as dist/check-worker.cjs): runs the
 * batches of cases it is sent and answers with their results, in the order sent.
 */
export interface Batch {
  ids: number[];
  cases: CaseSpec[];
  options: RunOptions;
}

parentPort?.on('message', (b: Batch) => {
  parentPort!.postMessage({ ids: b.ids, results: b.cases.map((c) => runCase(c, b.options)) });
});
