import { Chalk, type ChalkInstance } from 'chalk';
import type { VariableVerdict } from '../verify/fd.js';
import { fmt } from '../verify/words.js';
import { precisionText } from '../verify/dtype.js';
import { checkVerdict } from './table.js';
import type { FunctionGradcheckResult, GradcheckFailure } from '../api/gradcheck.js';
import { safeName, safeText } from '../core/safe-text.js';

const plain = new Chalk({ level: 0 });

/**
 * The terminal view of a function's check (`gradcheck --exec`, `--module`, the matcher's
 * message): what was checked, one line per input, the worst failing entries with both
 * numbers, what could not be judged, and one verdict line.
 */
export function renderFunctionCheck(r: FunctionGradcheckResult, o: { color?: ChalkInstance; label?: string; shapes?: Record<string, number[]> } = {}): string {
  const c = o.color ?? plain;
  const out: string[] = [];
  const how =
    r.mode === 'gradient'
      ? 'its gradient against finite differences'
      : r.mode === 'jacobian'
        ? 'every Jacobian entry (your vjp of each output) against finite differences'
        : 'your vjp of a random cotangent u against finite differences of uᵀf';
  out.push(
    `${c.bold(safeName(o.label ?? r.name, 160))}: ${how}${r.reference ? ', and against the reference formula' : ''}${r.jvp ? '; your jvp along random directions' : ''}`,
  );
  const variables: Record<string, VariableVerdict> | undefined = r.check?.variables ?? r.jacobian?.variables;
  if (variables) {
    const names = Object.keys(variables);
    const w = Math.max(5, ...names.map((n) => n.length));
    out.push(c.dim(`  ${'input'.padEnd(w)}  entries  max rel err  verdict`));
    for (const n of names) {
      const v = variables[n];
      const none = v.unjudged === v.checked && v.checked;
      const verdict = !v.passed
        ? c.red('✗')
        : none && !r.passed && r.failures.some((f) => f.kind === 'unjudged')
          ? c.red('✗ none judged')
          : none
            ? c.yellow('~ cannot judge here')
            : v.unjudged
              ? `${c.green('✓')} ${c.yellow(`(${v.unjudged} not judged)`)}`
              : c.green(v.byAtol ? '✓ (atol)' : '✓');
      const wrongRef = r.reference?.variables[n]?.wrong ? c.red(`  ✗ reference: ${r.reference.variables[n].wrong} wrong`) : '';
      out.push(`  ${safeName(n).padEnd(w)}  ${String(v.checked).padStart(7)}  ${fmt(v.maxRelError).padStart(11)}  ${verdict}${wrongRef}`);
    }
  }
  // a lower precision is said in a warning (which the other reporters carry too)
  if (r.precision?.dtype === 'float64') out.push(c.dim(`  precision ${precisionText(r.precision)}`));
  for (const f of r.failures.slice(0, 10)) out.push(`  ${c.red('✗')} ${safeText(f.message)}`);
  if (r.failures.length > 10) out.push(c.dim(`  … and ${r.failures.length - 10} more`));
  for (const w of r.warnings) out.push(`  ${c.yellow('warning:')} ${safeText(w)}`);
  out.push(verdictLine(r, c));
  return out.join('\n');
}

function verdictLine(r: FunctionGradcheckResult, c: ChalkInstance): string {
  const tol = r.check ?? r.jacobian;
  const evals = `${r.evaluations} evaluation${r.evaluations === 1 ? '' : 's'}`;
  if (!r.passed) {
    const variables = r.check?.variables ?? r.jacobian?.variables ?? {};
    const bad = [...Object.keys(variables).filter((k) => !variables[k].passed || r.reference?.variables[k]?.wrong)];
    if (r.jvp && !r.jvp.passed) bad.push('your jvp');
    const shown = r.failures.length >= 5 ? '; the worst shown' : '';
    // the pattern of each input's error, where it has one: the likely fix, on the verdict line
    const named = r.mistakes.length ? `: ${r.mistakes.map((m) => safeText(m.words)).join('; ')}` : '';
    const why = !bad.length && r.failures.some((f) => f.kind === 'unjudged') ? ': too little judged to pass' : bad.length ? ` for ${bad.join(', ')}` : '';
    return `${c.red.bold('✗ gradient check failed')}${why} ${c.dim(`(${tol ? `rtol ${tol.rtol}, atol ${tol.atol}` : ''}${shown}; ${evals})`)}${named}`;
  }
  const also = [r.reference ? 'the reference formula' : '', r.jvp ? 'your jvp' : ''].filter(Boolean);
  const claim = `your ${r.mode === 'gradient' ? 'gradient' : 'vjp'} = finite differences${also.length ? ` (and ${also.join(', ')} agree)` : ''}`;
  if (r.check) return checkVerdict(r.check, claim, c);
  const j = r.jacobian!;
  const atol = j.byAtol ? `; ${j.byAtol} entr${j.byAtol === 1 ? 'y' : 'ies'} only within atol ${j.atol}` : '';
  const unjudged = j.unjudgedCount ? c.yellow(`; not judged: ${j.unjudgedCount} entr${j.unjudgedCount === 1 ? 'y' : 'ies'}`) : '';
  return `${c.green.bold('✓ check passed')}: ${claim} for every Jacobian entry judged (max rel err ${fmt(j.maxRelError)}${atol}; ${evals})${unjudged}`;
}

/**
 * The failures with each named mistake on the first failure of its input (JUnit's and
 * TAP's message is the first failure's, GitHub annotates each), or after them when none
 * of its input's entries is among the worst shown.
 */
export function failuresWithMistakes(r: FunctionGradcheckResult): GradcheckFailure[] {
  const left = new Map(r.mistakes.map((m) => [m.input, m.words]));
  const out = r.failures.map((f) => {
    const input = [...left.keys()].find((name) => {
      const at = f.entry.indexOf(`/∂${name}`);
      const next = f.entry.charAt(at + 2 + name.length);
      return at >= 0 && (next === '' || next === '[');
    });
    if (input === undefined) return f;
    const words = left.get(input)!;
    left.delete(input);
    return { ...f, message: `${f.message} — ${words}` };
  });
  for (const [input, words] of left) out.push({ kind: 'gradient', entry: `∂f/∂${input}`, message: words });
  return out;
}
