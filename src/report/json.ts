import type { GradResult } from '../grad.js';

/** JSON has no NaN or Infinity: write them as the strings "NaN", "Infinity", "-Infinity". */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v instanceof Float64Array) return Array.from(v);
      return v;
    },
    indent,
  );
}

/** The `--json` document of `grad`: the result object, with the check's bulky internals trimmed. */
export function gradJson(r: GradResult): unknown {
  const c = r.check;
  return {
    ...r,
    check: c && {
      passed: c.passed,
      method: c.method,
      mode: c.mode,
      rtol: c.rtol,
      atol: c.atol,
      eps: c.eps,
      maxAbsError: c.maxAbsError,
      maxRelError: c.maxRelError,
      evaluations: c.evaluations,
      variables: c.variables,
      failures: c.failures,
      kinks: c.entries.filter((e) => e.status === 'kink'),
      finiteDifference: c.finiteDifference,
      ...(c.directions ? { directions: c.directions, sampled: c.entries.length } : {}),
    },
  };
}
