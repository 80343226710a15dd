import type { ChalkInstance } from 'chalk';
import type { JacobianResult } from '../subjects/formula/jacobian.js';
import { err, ms, num } from '../core/number-format.js';
import { nestedText } from './format.js';
import { matrixLines, oneLine, pointText } from './matrix.js';
import { safeText } from '../core/safe-text.js';

/** The human view of `jacobian`: the matrix, then the lecture's table of passes and times for each mode. */
export function renderJacobian(r: JacobianResult, o: { digits: number; color: ChalkInstance }): string {
  const c = o.color;
  const out: string[] = [];
  const point = pointText(r.point, o.digits);
  out.push(`${c.bold('formula')}  ${safeText(r.formula)}`);
  out.push(`${c.bold('at')}       ${point}`);
  const value = r.m <= 8 ? oneLine(nestedText(r.value, o.digits)) : `[${r.outputShape.join('×')}]`;
  out.push(
    `${c.bold('value')}    ${value}   ${c.dim(`(m = ${r.m} output entr${r.m === 1 ? 'y' : 'ies'}, n = ${r.n} input entr${r.n === 1 ? 'y' : 'ies'}; ${r.engine} engine)`)}`,
  );
  out.push('');

  out.push(`${c.bold('Jacobian')} ∂f/∂(${r.variables.join(', ')})  ${c.dim(`${r.m} × ${r.n}`)}`);
  out.push(...matrixLines(r.rows, r.columns, r.jacobian, o));
  out.push('');

  out.push(`${c.bold('mode')}      ${c.bold('passes')}                          ${c.bold('time')}`);
  const line = (name: string, run: { passes: number; ms: number } | null, per: string, chosen: boolean) => {
    if (!run) return;
    const passes = `${run.passes} (one per ${per})`;
    out.push(`${(chosen ? c.green : (s: string) => s)(name.padEnd(9))} ${passes.padEnd(31)} ${ms(run.ms)}`);
  };
  line('forward', r.forward, 'input entry, n', r.choice?.mode === 'forward');
  line('reverse', r.reverse, 'output entry, m', r.choice?.mode === 'reverse');
  if (r.choice) out.push(`${c.bold('auto')}: ${r.choice.mode} mode — ${r.choice.reason}`);
  else out.push(c.dim(rule(r.n, r.m)));
  const timing = timingNote(r);
  if (timing) out.push(c.dim(timing));

  for (const note of r.notes) out.push(`${c.yellow('note:')} ${note}`);
  if (r.check?.failures.length) {
    out.push('');
    for (const f of r.check.failures)
      out.push(`${c.red('✗')} ∂${f.row}/∂${f.column}: autodiff ${num(f.ad, o.digits)}, finite differences ${num(f.fd, o.digits)} (abs err ${err(f.absError)})`);
  }
  if (r.check?.unjudgedCount) {
    out.push('');
    for (const f of r.check.unjudged)
      out.push(
        `${c.yellow('~')} ∂${f.row}/∂${f.column}: autodiff ${num(f.ad, o.digits)}, finite differences ${num(f.fd, o.digits)}; they cannot judge here: ${f.note}`,
      );
    if (r.check.unjudgedCount > r.check.unjudged.length) out.push(c.dim(`  … and ${r.check.unjudgedCount - r.check.unjudged.length} more not judged`));
  }
  out.push('');
  out.push(verdict(r, c));
  return out.join('\n');
}

function rule(n: number, m: number): string {
  if (n > m) return `n = ${n} > m = ${m}: reverse mode needs fewer passes (the lecture's n ≫ m → reverse)`;
  if (m > n) return `m = ${m} > n = ${n}: forward mode needs fewer passes (m ≫ n → forward)`;
  return `n = m = ${n}: both modes take the same number of passes`;
}

/** Below this, one run's time says more about the machine than about the mode. */
const NOISE_MS = 1;

/**
 * Pass counts decide which mode is cheaper; a small run's timings are noise and may
 * point the other way. Say so rather than show a claim beside numbers that contradict it.
 */
function timingNote(r: JacobianResult): string | null {
  if (!r.forward || !r.reverse) return null;
  const tiny = r.forward.ms < NOISE_MS && r.reverse.ms < NOISE_MS;
  const fewer = r.forward.passes < r.reverse.passes ? 'forward' : r.reverse.passes < r.forward.passes ? 'reverse' : null;
  const faster = r.forward.ms <= r.reverse.ms ? 'forward' : 'reverse';
  if (tiny) return `times under ${NOISE_MS} ms are noise at this size (start-up, caches, the machine's load): compare the passes`;
  if (fewer && fewer !== faster)
    return `the timings point the other way at this size: each pass costs different work in each mode, so the pass counts tell only how the cost grows with n and m`;
  return null;
}

export function jacobianPassed(r: JacobianResult): boolean {
  return (r.agreement?.passed ?? true) && (r.check?.passed ?? true);
}

function verdict(r: JacobianResult, c: ChalkInstance): string {
  const parts: string[] = [];
  if (r.agreement) parts.push(`forward = reverse (max abs diff ${err(r.agreement.maxAbsDiff)})`);
  else parts.push(`${r.forward ? 'forward' : 'reverse'} mode`);
  const unjudged = r.check?.unjudgedCount ?? 0;
  if (r.check)
    parts.push(
      `= finite differences${unjudged ? ` for ${r.m * r.n - unjudged} of ${r.m * r.n} entries` : ''} (max rel err ${err(r.check.maxRelError)}; ${r.check.evaluations} evaluations)${unjudged ? c.yellow(`; not judged: ${unjudged} entr${unjudged === 1 ? 'y' : 'ies'}`) : ''}`,
    );
  if (!r.agreement && !r.check) return c.dim('finite-difference check skipped');
  if (jacobianPassed(r)) return `${c.green.bold('✓')} ${parts.join(' ')}`;
  const what = [
    r.agreement && !r.agreement.passed ? 'forward and reverse mode disagree' : '',
    r.check && !r.check.passed
      ? `${r.check.failures.length} entr${r.check.failures.length === 1 ? 'y' : 'ies'} differ from finite differences (rtol ${r.check.rtol}, atol ${r.check.atol})`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return `${c.red.bold('✗ check failed')}: ${what}`;
}
