import { checkDeadlineNow, remainingMs } from '../../../core/limits.js';
import { collectWithin, workerScript } from '../../../core/thread-budget.js';
import { simplifyExpr } from './simplify.js';
import type { SimplifyResult } from './simplify-worker.js';

/**
 * mathjs `simplify` under a time budget. One rule application of mathjs's simplify can
 * take minutes on a product of a dozen factors (it tries every split of an n-ary
 * product), and there is no point inside it where a deadline could be checked; so it
 * runs on a worker thread that is stopped when the budget runs out (thread-budget.ts).
 * The caller waits synchronously (derive is a synchronous API), keeps every result
 * that arrived in time, and shows the others as accumulated (correct, unsimplified)
 * with a note.
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

/** Simplify `exprs` within `budgetMs` (and the run's deadline); `matrices`: keep matrix products in order (see simplifyExpr). */
export function simplifyWithin(
  exprs: string[],
  budgetMs = SIMPLIFY_BUDGET_MS,
  simplify?: (e: string, o?: { matrices?: boolean }) => string,
  o: { matrices?: boolean } = {},
): Simplified {
  const out: (string | null)[] = exprs.map(() => null);
  const errors: (string | null)[] = exprs.map(() => null);
  const budget = Math.min(budgetMs, remainingMs());
  const script = simplify ? null : workerScript('simplify-worker.cjs');
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
  const done = collectWithin<SimplifyResult>(script, { exprs, matrices: o.matrices === true }, exprs.length, budget, (msg) => {
    if (msg.out !== undefined) out[msg.i] = msg.out;
    else errors[msg.i] = msg.error ?? 'failed';
  });
  return { out, errors, timedOut: !done };
}
