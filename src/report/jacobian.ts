import type { ChalkInstance } from 'chalk';
import type { JacobianResult } from '../jacobian.js';
import { err, num } from '../number-format.js';
import { isSummary, nestedText } from './format.js';
import { safeText } from '../safe-text.js';

/** The printed block of a large Jacobian: this many rows and columns, then … */
const SHOW_ROWS = 12;
const SHOW_COLS = 8;

/** The human view of `jacobian`: the matrix, then the lecture's table of passes and times for each mode. */
export function renderJacobian(r: JacobianResult, o: { digits: number; color: ChalkInstance }): string {
  const c = o.color;
  const out: string[] = [];
  const oneLine = (s: string) => s.replace(/\n\s*/g, ' ');
  const point = Object.entries(r.point)
    .map(([k, v]) => `${k} = ${isSummary(v) ? `[${v.shape.join('×')}]` : typeof v === 'number' || (v as unknown[]).flat(2).length <= 8 ? oneLine(nestedText(v, o.digits)) : `[${shapeOf(v).join('×')}]`}`)
    .join(', ');
  out.push(`${c.bold('formula')}  ${safeText(r.formula)}`);
  out.push(`${c.bold('at')}       ${point}`);
  const value = r.m <= 8 ? oneLine(nestedText(r.value, o.digits)) : `[${r.outputShape.join('×')}]`;
  out.push(`${c.bold('value')}    ${value}   ${c.dim(`(m = ${r.m} output entr${r.m === 1 ? 'y' : 'ies'}, n = ${r.n} input entr${r.n === 1 ? 'y' : 'ies'}; ${r.engine} engine)`)}`);
  out.push('');

  out.push(`${c.bold('Jacobian')} ∂f/∂(${r.variables.join(', ')})  ${c.dim(`${r.m} × ${r.n}`)}`);
  const rows = Math.min(r.m, SHOW_ROWS);
  const cols = Math.min(r.n, SHOW_COLS);
  const cells: string[][] = [['', ...r.columns.slice(0, cols), ...(cols < r.n ? ['…'] : [])]];
  for (let i = 0; i < rows; i++) cells.push([r.rows[i], ...r.jacobian[i].slice(0, cols).map((v) => num(v, o.digits)), ...(cols < r.n ? ['…'] : [])]);
  if (rows < r.m) cells.push(['…']);
  const w = cells[0].map((_, k) => Math.max(...cells.map((row) => (row[k] ?? '').length)));
  cells.forEach((row, i) => {
    const text = row.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join('  ');
    out.push(`  ${i === 0 ? c.cyan(text) : text.replace(/^(\S+)/, (s) => c.cyan(s))}`.trimEnd());
  });
  if (rows < r.m || cols < r.n) out.push(c.dim(`  (showing ${rows} of ${r.m} rows and ${cols} of ${r.n} columns; --json prints all)`));
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

  for (const note of r.notes) out.push(`${c.yellow('note:')} ${note}`);
  if (r.check?.failures.length) {
    out.push('');
    for (const f of r.check.failures) out.push(`${c.red('✗')} ∂${f.row}/∂${f.column}: autodiff ${num(f.ad, o.digits)}, finite differences ${num(f.fd, o.digits)} (abs err ${err(f.absError)})`);
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

export function jacobianPassed(r: JacobianResult): boolean {
  return (r.agreement?.passed ?? true) && (r.check?.passed ?? true);
}

function verdict(r: JacobianResult, c: ChalkInstance): string {
  const parts: string[] = [];
  if (r.agreement) parts.push(`forward = reverse (max abs diff ${err(r.agreement.maxAbsDiff)})`);
  else parts.push(`${r.forward ? 'forward' : 'reverse'} mode`);
  if (r.check) parts.push(`= finite differences (max rel err ${err(r.check.maxRelError)}; ${r.check.evaluations} evaluations)`);
  if (!r.agreement && !r.check) return c.dim('finite-difference check skipped');
  if (jacobianPassed(r)) return `${c.green.bold('✓')} ${parts.join(' ')}`;
  const what = [r.agreement && !r.agreement.passed ? 'forward and reverse mode disagree' : '', r.check && !r.check.passed ? `${r.check.failures.length} entr${r.check.failures.length === 1 ? 'y' : 'ies'} differ from finite differences (rtol ${r.check.rtol}, atol ${r.check.atol})` : '']
    .filter(Boolean)
    .join('; ');
  return `${c.red.bold('✗ check failed')}: ${what}`;
}

function ms(v: number): string {
  return v < 1 ? `${v.toFixed(3)} ms` : v < 100 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
}

function shapeOf(v: unknown): number[] {
  const dims: number[] = [];
  let x = v;
  while (Array.isArray(x)) {
    dims.push(x.length);
    x = x[0];
  }
  return dims;
}
