import type { ChalkInstance } from 'chalk';
import type { DeriveResult } from '../derive/index.js';
import { err, num } from '../number-format.js';

/** The human view of `derive`: the formula, each edge's local derivative, each ∂f/∂v, the cross-check. */
export function renderDerive(r: DeriveResult, o: { digits: number; color: ChalkInstance }): string {
  const c = o.color;
  const out: string[] = [];
  out.push(`${c.bold('f')} = ${r.formula}`);
  if (r.expression.replace(/\s/g, '') !== r.formula.replace(/\s/g, '')) out.push(`  ${c.dim('= ' + r.expression)}`);
  if (r.shapes) out.push(`  ${c.dim(`with ${Object.entries(r.shapes).map(([k, s]) => `${k} ${s.length ? `[${s.join(',')}]` : 'a scalar'}`).join(', ')} (vectors are columns)`)}`);
  out.push('');
  if (r.edges.length) {
    out.push(`${c.bold('local derivatives')}${c.dim(' edge by edge, in backprop order (downstream = upstream × local)')}`);
    // a tensor rule's local derivative is written with the upstream gradient g (g*x'): it has no second reading in the variables
    const rows = r.edges.map((e) => (r.shapes ? [`${e.fromLabel} → ${e.toLabel}`, e.local] : [`${e.fromLabel} → ${e.toLabel}`, e.local, e.localInVariables]));
    const head = r.shapes ? ['edge', 'local ∂'] : ['edge', 'local ∂', 'in the variables'];
    const w = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
    const line = (cells: string[], style: (s: string) => string = (s) => s) =>
      `  ${cells.map((x, k) => (k < cells.length - 1 ? style(x.padEnd(w[k])) : style(x))).join('   ')}`.trimEnd();
    out.push(line(head, c.bold));
    for (const row of rows) out.push(line(row));
    out.push('');
  }
  for (const v of r.variables) out.push(`${c.bold(`∂f/∂${v}`)} = ${c.green(r.derivatives[v])}`);
  if (r.latex) {
    out.push('');
    out.push(c.bold('LaTeX'));
    for (const v of r.variables) out.push(`  \\frac{\\partial f}{\\partial ${v}} = ${r.latex[v]}`);
  }
  if (r.at) {
    out.push('');
    const point = Object.entries(r.at.point).map(([k, v]) => `${k} = ${num(v, o.digits)}`).join(', ');
    out.push(`${c.bold('at')} ${point}: f = ${num(r.at.value, o.digits)}, ${r.variables.map((v) => `∂f/∂${v} = ${num(r.at!.gradient[v], o.digits)}`).join(', ')}`);
  }
  for (const n of r.notes) out.push(`${c.yellow('note:')} ${n}`);
  out.push('');
  const k = r.check.points.length;
  const where = r.shapes ? `, entry by entry (${r.shapesGiven ? '--at and ' : ''}random values${r.check.shapes && r.check.shapes > 1 ? `, ${r.check.shapes} different shapes` : ''})` : r.at ? ' (--at and random)' : ' (random)';
  const n = r.check.skipped;
  const skipped = `; ${n} point${n === 1 ? '' : 's'} ${r.shapes ? 'skipped (outside the domain, or shapes the formula does not fit)' : 'outside the domain skipped'}`;
  out.push(`${c.green.bold('✓ cross-checked')}: equal to reverse mode at ${k} point${k === 1 ? '' : 's'}${where}, max rel err ${err(r.check.maxRelError)}${n ? c.dim(skipped) : ''}`);
  return out.join('\n');
}
