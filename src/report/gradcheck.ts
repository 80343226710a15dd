import { Chalk, type ChalkInstance } from 'chalk';
import type { CaseResult, CheckReport } from '../cases/run.js';
import { summarize } from '../cases/run.js';
import type { VariableVerdict } from '../check/fd.js';
import { fmt } from '../check/words.js';
import type { FunctionGradcheckResult } from '../gradcheck.js';
import { safeName, safeText } from '../safe-text.js';

const plain = new Chalk({ level: 0 });

/**
 * The terminal view of a function's check (`gradcheck --exec`, `--module`, the matcher's
 * message): what was checked, one line per input, the worst failing entries with both
 * numbers, what could not be judged, and one verdict line.
 */
export function renderFunctionCheck(r: FunctionGradcheckResult, o: { color?: ChalkInstance; label?: string; shapes?: Record<string, number[]> } = {}): string {
  const c = o.color ?? plain;
  const out: string[] = [];
  const how = r.mode === 'gradient' ? 'its gradient against finite differences' : r.mode === 'jacobian' ? 'every Jacobian entry (your vjp of each output) against finite differences' : 'your vjp of a random cotangent u against finite differences of uᵀf';
  out.push(`${c.bold(safeName(o.label ?? r.name, 160))}: ${how}${r.reference ? ', and against the reference formula' : ''}${r.jvp ? '; your jvp along random directions' : ''}`);
  const variables: Record<string, VariableVerdict> | undefined = r.check?.variables ?? r.jacobian?.variables;
  if (variables) {
    const names = Object.keys(variables);
    const w = Math.max(5, ...names.map((n) => n.length));
    out.push(c.dim(`  ${'input'.padEnd(w)}  entries  max rel err  verdict`));
    for (const n of names) {
      const v = variables[n];
      const verdict = !v.passed ? c.red('✗') : v.unjudged === v.checked && v.checked ? c.yellow('~ cannot judge') : v.unjudged ? `${c.green('✓')} ${c.yellow(`(${v.unjudged} not judged)`)}` : c.green('✓');
      const wrongRef = r.reference?.variables[n]?.wrong ? c.red(`  ✗ reference: ${r.reference.variables[n].wrong} wrong`) : '';
      out.push(`  ${safeName(n).padEnd(w)}  ${String(v.checked).padStart(7)}  ${fmt(v.maxRelError).padStart(11)}  ${verdict}${wrongRef}`);
    }
  }
  for (const f of r.failures.slice(0, 10)) out.push(`  ${c.red('✗')} ${safeText(f.message)}`);
  if (r.failures.length > 10) out.push(c.dim(`  … and ${r.failures.length - 10} more`));
  for (const w of r.warnings) out.push(`  ${c.yellow('warning:')} ${safeText(w)}`);
  out.push(verdictLine(r, c));
  return out.join('\n');
}

function verdictLine(r: FunctionGradcheckResult, c: ChalkInstance): string {
  const tol = r.check ?? r.jacobian;
  const tolText = tol ? `rtol ${tol.rtol}, atol ${tol.atol}` : '';
  const evals = `${r.evaluations} evaluation${r.evaluations === 1 ? '' : 's'}`;
  if (!r.passed) return `${c.red.bold('✗')} gradient check failed: ${r.failures.length} finding${r.failures.length === 1 ? '' : 's'} ${c.dim(`(${tolText}; ${evals})`)}`;
  const unjudged = r.warnings.length ? ' where it could judge' : '';
  return `${c.green.bold('✓')} gradient check passed${unjudged}: max rel err ${fmt(tol?.maxRelError ?? 0)} ${c.dim(`(${tolText}; ${evals})`)}`;
}

/** A function's check as a one-case CheckReport, so check's JUnit, TAP and GitHub reporters print it. */
export function asCheckReport(r: FunctionGradcheckResult, label: string, ms: number): CheckReport {
  const kase: CaseResult = {
    file: '<inline>',
    index: 0,
    name: `gradcheck ${label}`,
    line: 0,
    f: label,
    status: r.passed ? 'pass' : 'fail',
    variables: Object.keys(r.point),
    points: 1,
    seed: 0,
    expected: [],
    failures: r.failures.map((f) => ({ kind: f.kind === 'nonfinite' ? 'nonfinite' : 'autodiff', entry: f.entry, message: f.message, field: 'f', line: 0, point: {}, yours: f.yours, truth: f.truth, failedPoints: 1 })),
    warnings: r.warnings,
    ms,
  };
  return summarize(['<inline>'], [], [kase], ms);
}
