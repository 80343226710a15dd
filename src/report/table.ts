import type { ChalkInstance } from 'chalk';
import { failed, type CheckResult, type EntryCheck, type EntryStatus, type VariableVerdict } from '../verify/fd.js';
import type { EdgeReport, GradResult } from '../subjects/formula/grad.js';
import type { Nested } from '../core/parse/values.js';
import { err, num } from '../core/number-format.js';
import { isSummary, nestedText, shownText, summaryText } from './format.js';
import { DEFAULT_WIDTH, fitTable, renderTable, wrapProse, type Cell, type Row, type TableLayout } from './layout.js';
import { subscript } from '../core/tensor.js';
import { safeText } from '../core/safe-text.js';

export interface TableOptions {
  digits: number;
  /** print the edge table */
  edges: boolean;
  color: ChalkInstance;
  /** the terminal's width (default 100) */
  width?: number;
}

/** Tensors up to this many entries are printed whole in the gradient table. */
const WHOLE = 16;

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
  const width = o.width ?? DEFAULT_WIDTH;
  const out: string[] = [];
  const point = Object.entries(r.point)
    .map(([k, v]) => `${k} = ${isSummary(v) ? `[${v.shape.join('×')}]` : cell(v, o.digits).replace(/\n\s*/g, ' ')}`)
    .join(', ');
  out.push(labelled(c.bold('formula'), safeText(r.formula), width));
  if (point) out.push(labelled(c.bold('at'), point, width) + (r.seed !== undefined ? c.dim(`   (random values drawn with --seed ${r.seed})`) : ''));
  out.push(`${c.bold('value')}    ${num(r.value, o.digits)}   ${c.dim(`(${r.engine} engine)`)}`);
  out.push('');

  const chk = r.check;
  const head = ['∂f/∂', 'reverse', 'forward', 'finite diff', 'abs err', 'rel err', ''];
  const layout = { width, headStyle: c.bold };
  out.push(c.bold('gradient'));
  // tensors whole in a row each (a matrix a line per row); where that would wrap, one row per entry
  out.push(fitTable(head, gradientRows(r, o.digits, c), { ...layout, whole: head.map((_, k) => k) }) ?? renderTable(head, entryRows(r, o.digits, c), layout));

  if (chk?.directions?.length) {
    const dirs = chk.directions.map((d, k): Cell[] => [
      `u${k + 1}`,
      num(d.ad, o.digits),
      num(d.fd, o.digits),
      ...errCells(d.status === 'nonfinite', d.status === 'pass' || d.status === 'fail', d, c),
      statusMark(d.status, d.byAtol, c),
    ]);
    out.push('');
    out.push(c.bold('directional check') + c.dim(' (random unit directions u)'));
    out.push(renderTable(['direction', '∇f·u (reverse)', 'finite diff', 'abs err', 'rel err', ''], dirs, layout));
  }

  if (o.edges && r.edges.length) {
    out.push('');
    out.push(c.bold('edges') + c.dim(' in backprop order: downstream = upstream × local'));
    out.push(edgeTable(r, o.digits, c, layout));
  }

  if (r.warnings.length) {
    out.push('');
    for (const w of r.warnings) out.push(prose(`${c.yellow('warning:')} ${w.message}`, width));
  }
  if (r.check?.failures.length) {
    out.push('');
    for (const f of r.check.failures) out.push(prose(`${c.red('✗')} ${failureText(f, o.digits)}`, width));
  }
  out.push('');
  out.push(prose(verdict(r, c), width));
  return out.join('\n');
}

/**
 * The edge table: one row per edge; where the edges and formulas would have to break
 * inside words, each edge is a heading line with its numbers in the row under it.
 */
function edgeTable(r: GradResult, digits: number, c: ChalkInstance, layout: TableLayout): string {
  const value = (e: EdgeReport): Cell => (e.localValue === null ? { text: '(Jacobian)', style: c.dim } : shownText(e.localValue, digits));
  const wide = r.edges.map((e): Cell[] => [`${e.fromLabel} → ${e.toLabel}`, e.local, value(e), shownText(e.upstream, digits), shownText(e.downstream, digits)]);
  const one = fitTable(['edge', 'local ∂', '= value', 'upstream', 'downstream'], wide, { ...layout, whole: [0, 1] });
  if (one) return one;
  const stacked = r.edges.flatMap((e): Row[] => [
    { span: `${e.fromLabel} → ${e.toLabel}` },
    [`  ${e.local}`, value(e), shownText(e.upstream, digits), shownText(e.downstream, digits)],
  ]);
  return renderTable(['edge: local ∂', '= value', 'upstream', 'downstream'], stacked, { ...layout, breakable: [0] });
}

/**
 * A row never contradicts itself: errors over the entries judged (NaN where the gradient
 * is not finite, — where nothing was judged), ✓ (atol) where only the absolute tolerance
 * passed it, ~ where some entries could not be judged, — where none was sampled.
 */
function statusMark(s: EntryStatus, byAtol: boolean | undefined, c: ChalkInstance): Cell {
  if (failed(s)) return { text: '✗', style: c.red };
  if (s === 'pass') return { text: byAtol ? '✓ (atol)' : '✓', style: c.green };
  return { text: '~', style: c.yellow };
}

function variableMark(v: VariableVerdict, c: ChalkInstance): Cell {
  if (!v.passed) return { text: '✗', style: c.red };
  if (v.checked === 0) return { text: '—', style: c.dim };
  if (v.unjudged) return { text: '~', style: c.yellow };
  return { text: v.byAtol ? '✓ (atol)' : '✓', style: c.green };
}

function errCells(nonfinite: boolean, judged: boolean, e: { absError: number; relError: number }, c: ChalkInstance): Cell[] {
  if (nonfinite) return ['NaN', 'NaN'];
  if (!judged)
    return [
      { text: '—', style: c.dim },
      { text: '—', style: c.dim },
    ];
  return [err(e.absError), err(e.relError)];
}

/** One row per variable: its gradient by reverse mode, forward mode and finite differences, and the worst errors. */
function gradientRows(r: GradResult, digits: number, c: ChalkInstance): Cell[][] {
  const chk = r.check;
  return r.variables.map((name) => {
    const v = chk?.variables[name];
    const mine = chk ? chk.entries.filter((e) => e.variable === name) : [];
    const judged = mine.some((e) => e.status === 'pass' || e.status === 'fail');
    return [
      { text: name, style: c.cyan },
      cell(r.gradient[name], digits),
      r.forward ? cell(r.forward[name], digits) : { text: '(directional)', style: c.dim },
      chk?.finiteDifference
        ? cell(chk.finiteDifference[name], digits)
        : chk
          ? { text: v?.checked ? `(${v.checked} sampled)` : '(none sampled)', style: c.dim }
          : '',
      ...(v
        ? errCells(
            mine.some((e) => e.status === 'nonfinite'),
            judged,
            { absError: v.maxAbsError, relError: v.maxRelError },
            c,
          )
        : ['', '']),
      v ? variableMark(v, c) : '',
    ];
  });
}

/** One row per entry of the small tensors (`W[1,2]`), for narrow terminals; large ones stay summarised. */
function entryRows(r: GradResult, digits: number, c: ChalkInstance): Cell[][] {
  const chk = r.check;
  const rows: Cell[][] = [];
  for (const name of r.variables) {
    const g = r.gradient[name];
    const flat = typeof g === 'number' ? [g] : ((g as unknown[]).flat(2) as number[]);
    if (typeof g !== 'number' && flat.length > WHOLE) {
      rows.push(...gradientRows({ ...r, variables: [name] }, digits, c));
      continue;
    }
    const shape = typeof g === 'number' ? [] : Array.isArray(g[0]) ? [g.length, (g[0] as unknown[]).length] : [g.length];
    const at = (v: Nested | undefined, k: number) =>
      v === undefined ? '' : num(typeof v === 'number' ? v : ((v as unknown[]).flat(2) as number[])[k], digits);
    flat.forEach((value, k) => {
      const entry = name + subscript(shape, k);
      const e = chk?.entries.find((x) => x.entry === entry);
      rows.push([
        { text: entry, style: c.cyan },
        num(value, digits),
        r.forward ? at(r.forward[name], k) : { text: '(directional)', style: c.dim },
        chk?.finiteDifference ? at(chk.finiteDifference[name], k) : e ? num(e.fd, digits) : '',
        ...(e ? errCells(e.status === 'nonfinite', e.status === 'pass' || e.status === 'fail', e, c) : ['', '']),
        e ? statusMark(e.status, e.byAtol, c) : '',
      ]);
    });
  }
  return rows;
}

/** `formula  (x+y)*sin(x)`: a label, then text wrapped under itself. */
function labelled(label: string, text: string, width: number): string {
  const pad = 9;
  const lines = wrapProse(text, Math.max(20, width - pad), 0).split('\n');
  return lines
    .map((l, i) => (i === 0 ? `${label}${' '.repeat(Math.max(1, pad - label.replace(/\u001b\[[0-9;]*m/g, '').length))}${l}` : `${' '.repeat(pad)}${l}`))
    .join('\n');
}

/** A line of prose (a warning, the verdict) wrapped to the width, continued two spaces in. */
function prose(text: string, width: number): string {
  return wrapProse(text, width, 2);
}

export function failureText(f: EntryCheck, digits = 6): string {
  return `${f.entry}: autodiff ${num(f.ad, digits)}, finite differences ${num(f.fd, digits)} (abs err ${err(f.absError)}, rel err ${err(f.relError)})${f.note ? ` — ${f.note}` : ''}`;
}

export function verdict(r: GradResult, c: ChalkInstance): string {
  return checkVerdict(r.check, `reverse${r.forward ? ' = forward' : ''} = finite differences`, c);
}

const entriesText = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`;

/**
 * The last line: passed or failed, and never more than was shown. `claim` is what agrees
 * where everything was judged (`reverse = forward = finite differences`); entries not
 * judged are counted instead of claimed, and a pass by the absolute tolerance is said.
 */
export function checkVerdict(chk: CheckResult | null, claim: string, c: ChalkInstance): string {
  if (!chk) return c.dim('finite-difference check skipped (--no-check)');
  const how = `${chk.method}${chk.steps === 'fixed' ? ` step eps ${chk.eps}` : ''}${chk.mode === 'directional' ? ', directional' : ''}, ${chk.evaluations} evaluations`;
  const all: { status: EntryStatus; byAtol?: boolean; relError: number }[] = [...chk.entries, ...(chk.directions ?? [])];
  const count = (s: EntryStatus) => all.filter((e) => e.status === s).length;
  if (!chk.passed) {
    const bad = Object.entries(chk.variables)
      .filter(([, v]) => !v.passed)
      .map(([k]) => k);
    const dirs = chk.directions?.filter((d) => failed(d.status)).length ?? 0;
    const what = bad.length ? ` for ${bad.join(', ')}` : dirs ? ` along ${dirs} random direction${dirs > 1 ? 's' : ''}` : '';
    if (!bad.length && !dirs && chk.unjudgedReason) return `${c.red.bold('✗ check failed')}: ${chk.unjudgedReason} (${how})`;
    return `${c.red.bold('✗ check failed')}${what} (rtol ${chk.rtol}, atol ${chk.atol}; ${how})`;
  }
  const kinks = count('kink');
  const noisy = count('noisy');
  const judged = all.length - kinks - noisy;
  const unjudged = [kinks ? `${entriesText(kinks)} at a kink` : '', noisy ? `${entriesText(noisy)} too noisy` : ''].filter(Boolean).join(', ');
  if (judged === 0)
    return `${c.yellow.bold('~ not judged')}: finite differences cannot judge any entry here (${unjudged}; ${how}); accepted only because unjudged entries were allowed`;
  const atol = all.filter((e) => e.byAtol);
  const byRtol = all.filter((e) => e.status === 'pass' && !e.byAtol).reduce((m, e) => Math.max(m, e.relError), 0);
  const parts = [`max rel err ${err(byRtol)}`];
  if (atol.length) parts.push(`${entriesText(atol.length)} only within atol ${chk.atol}`);
  const scope = unjudged ? ` for ${judged} of ${all.length} ${all.length === 1 ? 'entry' : 'entries'}` : '';
  return `${c.green.bold('✓ check passed')}: ${claim}${scope} (${parts.join('; ')}; ${how})${unjudged ? c.yellow(`; not judged: ${unjudged}`) : ''}`;
}
