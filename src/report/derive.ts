import type { ChalkInstance } from 'chalk';
import type { DeriveResult } from '../subjects/formula/derive/index.js';
import { statementsOfText } from '../subjects/formula/derive/symbolic.js';
import { err, num } from '../core/number-format.js';
import { DEFAULT_WIDTH, renderTable, wrapProse } from './layout.js';

/** The human view of `derive`: the formula as written, each edge's local derivative, each ∂f/∂v, the cross-check. */
export function renderDerive(r: DeriveResult, o: { digits: number; color: ChalkInstance; width?: number }): string {
  const c = o.color;
  const width = o.width ?? DEFAULT_WIDTH;
  const out: string[] = [];
  for (const st of r.statements)
    out.push(
      wrapProse(
        st.replace(/^(\w+(?:\([^)]*\))?)\s*=/, (m) => c.bold(m)),
        width,
        4,
      ),
    );
  if (r.shapes)
    out.push(
      wrapProse(
        `  ${c.dim(
          `with ${Object.entries(r.shapes)
            .map(([k, s]) => `${k} ${s.length ? `[${s.join(',')}]` : 'a scalar'}`)
            .join(', ')} (vectors are columns)`,
        )}`,
        width,
        4,
      ),
    );
  out.push('');
  if (r.edges.length) {
    const how = r.shapes ? 'each rule written with the upstream gradient g' : 'downstream = local × upstream';
    out.push(wrapProse(`${c.bold('local derivatives')}${c.dim(` edge by edge, in backprop order (${how})`)}`, width, 2));
    // a tensor rule's local derivative is written with the upstream gradient g (g*x'): it has no second reading in the variables
    const rows = r.edges.map((e) => (r.shapes ? [`${e.fromLabel} → ${e.toLabel}`, e.local] : [`${e.fromLabel} → ${e.toLabel}`, e.local, e.localInVariables]));
    const head = r.shapes ? ['edge', 'local ∂'] : ['edge', 'local ∂', 'written out'];
    out.push(renderTable(head, rows, { width, indent: 2, headStyle: c.bold, breakable: head.map((_, k) => k) }));
    out.push('');
  }
  // a long derivative comes with named steps (t1 = …; t2 = …; formula): the steps once each, first, then each ∂f/∂v
  const split = r.variables.map((v) => statementsOfText(r.derivatives[v]));
  const steps = new Map<string, string>();
  for (const parts of split) for (const st of parts.slice(0, -1)) steps.set(st.slice(0, st.indexOf('=')).trim(), st);
  for (const st of steps.values()) out.push(wrapProse(`  ${c.green(st)}`, width, 6));
  r.variables.forEach((v, k) => out.push(wrapProse(`${c.bold(`∂f/∂${v}`)} = ${c.green(split[k].at(-1)!)}`, width, 4)));
  if (r.latex) {
    // the steps and functions the derivatives are written with, then the derivatives
    out.push('');
    out.push(c.bold('LaTeX'));
    for (const d of r.latexDefinitions ?? []) out.push(`  ${d}`);
    for (const v of r.variables) out.push(`  \\frac{\\partial f}{\\partial ${v}} = ${r.latex[v]}`);
  }
  if (r.at) {
    out.push('');
    const point = Object.entries(r.at.point)
      .map(([k, v]) => `${k} = ${num(v, o.digits)}`)
      .join(', ');
    out.push(
      wrapProse(
        `${c.bold('at')} ${point}: f = ${num(r.at.value, o.digits)}, ${r.variables.map((v) => `∂f/∂${v} = ${num(r.at!.gradient[v], o.digits)}`).join(', ')}`,
        width,
        2,
      ),
    );
  }
  for (const n of r.notes) out.push(wrapProse(`${c.yellow('note:')} ${n}`, width, 2));
  out.push('');
  const k = r.check.points.length;
  const where = r.shapes
    ? `, entry by entry (${r.shapesGiven ? '--at and ' : ''}random values${r.check.shapes && r.check.shapes > 1 ? `, ${r.check.shapes} different shapes` : ''})`
    : r.at
      ? ' (--at and random)'
      : ' (random)';
  const n = r.check.skipped;
  const skipped = `; ${n} point${n === 1 ? '' : 's'} ${r.shapes ? 'skipped (outside the domain, or shapes the formula does not fit)' : 'outside the domain skipped'}`;
  out.push(
    wrapProse(
      `${c.green.bold('✓ cross-checked')}: equal to reverse mode at ${k} point${k === 1 ? '' : 's'}${where}, max rel err ${err(r.check.maxRelError)}${n ? c.dim(skipped) : ''}`,
      width,
      2,
    ),
  );
  return out.join('\n');
}
