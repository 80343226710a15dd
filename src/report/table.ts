import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { EntryCheck } from '../check/fd.js';
import type { GradResult, Shown } from '../grad.js';
import type { Nested } from '../parse/values.js';
import { err, num } from '../number-format.js';
import { isSummary, nestedText, shownText, summaryText } from './format.js';
import { safeText } from '../safe-text.js';

export interface TableOptions {
  digits: number;
  /** print the edge table */
  edges: boolean;
  color: ChalkInstance;
}

/** Tensors up to this many entries are printed whole in the gradient table. */
const WHOLE = 16;

function table(head: string[], c: ChalkInstance): Table.Table {
  return new Table({
    head: head.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' ' },
  });
}

function cell(v: Nested | undefined, digits: number): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return num(v, digits);
  const flat = (v as unknown[]).flat(2) as number[];
  if (flat.length <= WHOLE) return nestedText(v, digits);
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  for (const x of flat) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    s += x * x;
  }
  const shape = Array.isArray(v[0]) ? [v.length, (v[0] as unknown[]).length] : [v.length];
  return summaryText(shape, Math.sqrt(s), min, max, flat.slice(0, 3));
}

/** The human view of `grad`: point, value, gradient table, edge table, warnings, verdict. */
export function renderGrad(r: GradResult, o: TableOptions): string {
  const c = o.color;
  const out: string[] = [];
  const point = Object.entries(r.point)
    .map(([k, v]) => `${k} = ${isSummary(v) ? `[${v.shape.join('×')}]` : cell(v, o.digits).replace(/\n\s*/g, ' ')}`)
    .join(', ');
  out.push(`${c.bold('formula')}  ${safeText(r.formula)}`);
  if (point) out.push(`${c.bold('at')}       ${point}${r.seed !== undefined ? c.dim(`   (random values drawn with --seed ${r.seed})`) : ''}`);
  out.push(`${c.bold('value')}    ${num(r.value, o.digits)}   ${c.dim(`(${r.engine} engine)`)}`);
  out.push('');

  const chk = r.check;
  const gt = table(['∂f/∂', 'reverse', 'forward', 'finite diff', 'abs err', 'rel err', ''], c);
  for (const name of r.variables) {
    const v = chk?.variables[name];
    const mark = !v ? '' : v.passed ? (v.kinks ? c.yellow('~') : c.green('✓')) : c.red('✗');
    gt.push([
      c.cyan(name),
      cell(r.gradient[name], o.digits),
      r.forward ? cell(r.forward[name], o.digits) : c.dim('(directional)'),
      chk?.finiteDifference ? cell(chk.finiteDifference[name], o.digits) : chk ? c.dim(`(${v?.checked ?? 0} sampled)`) : '',
      v ? err(v.maxAbsError) : '',
      v ? err(v.maxRelError) : '',
      mark,
    ]);
  }
  out.push(c.bold('gradient'));
  out.push(gt.toString());

  if (chk?.directions?.length) {
    const dt = table(['direction', '∇f·u (reverse)', 'finite diff', 'abs err', 'rel err', ''], c);
    chk.directions.forEach((d, k) => dt.push([`u${k + 1}`, num(d.ad, o.digits), num(d.fd, o.digits), err(d.absError), err(d.relError), d.status === 'fail' ? c.red('✗') : d.status === 'pass' ? c.green('✓') : c.yellow('~')]));
    out.push('');
    out.push(c.bold('directional check') + c.dim(' (random unit directions u)'));
    out.push(dt.toString());
  }

  if (o.edges && r.edges.length) {
    const et = table(['edge', 'local ∂', '= value', 'upstream', 'downstream'], c);
    for (const e of r.edges) {
      et.push([
        `${c.cyan(e.fromLabel)} → ${c.cyan(e.toLabel)}`,
        e.local,
        e.localValue === null ? c.dim('(Jacobian)') : edgeCell(e.localValue, o.digits),
        edgeCell(e.upstream, o.digits),
        edgeCell(e.downstream, o.digits),
      ]);
    }
    out.push('');
    out.push(c.bold('edges') + c.dim(' in backprop order: downstream = upstream × local'));
    out.push(et.toString());
  }

  if (r.warnings.length) {
    out.push('');
    for (const w of r.warnings) out.push(`${c.yellow('warning:')} ${w.message}`);
  }
  if (chk?.failures.length) {
    out.push('');
    for (const f of chk.failures) out.push(`${c.red('✗')} ${failureText(f, o.digits)}`);
  }
  out.push('');
  out.push(verdict(r, c));
  return out.join('\n');
}

/** Small tensors on one line; a large one's summary keeps its three lines. */
function edgeCell(v: Shown, digits: number): string {
  const text = shownText(v, digits);
  return isSummary(v) ? text : text.replace(/\n\s*/g, ' ');
}

export function failureText(f: EntryCheck, digits = 6): string {
  return `${f.entry}: autodiff ${num(f.ad, digits)}, finite differences ${num(f.fd, digits)} (abs err ${err(f.absError)}, rel err ${err(f.relError)})${f.note ? ` — ${f.note}` : ''}`;
}

export function verdict(r: GradResult, c: ChalkInstance): string {
  const chk = r.check;
  if (!chk) return c.dim('finite-difference check skipped (--no-check)');
  const how = `${chk.method}${chk.mode === 'directional' ? ', directional' : ''}, ${chk.evaluations} evaluations`;
  if (chk.passed) {
    const count = (s: string) => chk.entries.filter((e) => e.status === s).length;
    const entries = (n: number) => `${n} entr${n > 1 ? 'ies' : 'y'}`;
    const kinks = count('kink');
    const noisy = count('noisy');
    const unjudged = [kinks ? `${entries(kinks)} at a kink` : '', noisy ? `${entries(noisy)} too noisy` : ''].filter(Boolean).join(', ');
    return `${c.green.bold('✓ check passed')}: reverse${r.forward ? ' = forward' : ''} = finite differences (max rel err ${err(chk.maxRelError)}; ${how})${unjudged ? c.yellow(`; not judged: ${unjudged}`) : ''}`;
  }
  const bad = Object.entries(chk.variables).filter(([, v]) => !v.passed).map(([k]) => k);
  return `${c.red.bold('✗ check failed')}${bad.length ? ` for ${bad.join(', ')}` : ''} (rtol ${chk.rtol}, atol ${chk.atol}; ${how})`;
}
