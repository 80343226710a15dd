import { workerData } from 'node:worker_threads';
import { postResult, type ThreadJob } from '../../../core/thread-budget.js';
import { simplifyExpr } from './simplify.js';

/**
 * The simplify worker (bundled on its own as dist/simplify-worker.cjs): simplifies the
 * expressions it is given one after another, posting each result as soon as it has it,
 * so that whatever finished before the budget ran out is kept when the thread is
 * stopped (see budget.ts, thread-budget.ts).
 */
export interface SimplifyJob extends ThreadJob {
  exprs: string[];
  /** the expressions have matrices in them (simplifyExpr's option) */
  matrices?: boolean;
}

export interface SimplifyResult {
  i: number;
  out?: string;
  error?: string;
}

const job = workerData as SimplifyJob | null;
if (job) {
  job.exprs.forEach((e, i) => {
    let msg: SimplifyResult;
    try {
      msg = { i, out: simplifyExpr(e, { matrices: job.matrices }) };
    } catch (err) {
      msg = { i, error: (err as Error).message };
    }
    postResult(job, msg);
  });
}
