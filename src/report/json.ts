import type { GradResult } from '../subjects/formula/grad.js';

/** JSON has no NaN or Infinity: write them as the strings "NaN", "Infinity", "-Infinity". */
export function toJson(value: unknown, indent = 2): string {
  return jsonSafe(
    JSON.stringify(
      value,
      (_k, v) => {
        if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
        if (v instanceof Float64Array) return Array.from(v);
        return v;
      },
      indent,
    ),
  );
}

/**
 * JSON that shows safely in a terminal or a browser: the characters JSON.stringify
 * leaves raw but that reorder or hide text (bidi overrides and isolates, C1 controls,
 * line separators) written as \u escapes. The data read back is exactly the same.
 */
export function jsonSafe(json: string): string {
  return json.replace(/[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The `--json` document of `grad`: the result object, with the check's bulky internals trimmed. */
export function gradJson(r: GradResult): unknown {
  const c = r.check;
  return {
    ...r,
    check: c && {
      passed: c.passed,
      method: c.method,
      steps: c.steps,
      mode: c.mode,
      rtol: c.rtol,
      atol: c.atol,
      eps: c.eps,
      maxAbsError: c.maxAbsError,
      maxRelError: c.maxRelError,
      evaluations: c.evaluations,
      judged: c.judged,
      total: c.total,
      ...(c.unjudgedReason ? { unjudgedReason: c.unjudgedReason } : {}),
      variables: c.variables,
      failures: c.failures,
      kinks: c.entries.filter((e) => e.status === 'kink'),
      noisy: c.entries.filter((e) => e.status === 'noisy'),
      finiteDifference: c.finiteDifference,
      ...(c.directions ? { directions: c.directions, sampled: c.entries.length } : {}),
    },
  };
}
