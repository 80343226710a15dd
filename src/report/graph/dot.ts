import type { GraphNode, GraphResult } from '../../graph-result.js';
import { caption, legend, quantity, secondary, term } from './text.js';

/** The lecture slides' colours: forward values green, gradients red; tangents blue. */
export const COLORS = { value: '#1a7f37', grad: '#cf222e', tangent: '#0969da', line: '#57606a' };

/**
 * Graphviz DOT, left to right like the slides: nodes carry op, name and value (and
 * their gradient); each edge carries the value travelling along it above the gradient
 * flowing back along it (forward mode: the tangent). Node n has the id `n<id>` and edge
 * k of `r.edges` the id `e<k>` (kept in SVG), so a page can find them.
 */
export function renderDot(r: GraphResult, o: { digits?: number; caption?: boolean } = {}): string {
  const digits = o.digits ?? 6;
  const flowColor = r.mode === 'forward' ? COLORS.tangent : COLORS.grad;
  const lg = legend(r);
  const lines = [
    'digraph autograd {',
    '  rankdir=LR;',
    o.caption === false
      ? '  graph [bgcolor=transparent];'
      : `  graph [fontname="Helvetica", fontsize=12, labelloc=t, label=<${html(caption(r, digits))}<br/><font color="${COLORS.value}">${html(lg.forward)}</font>   <font color="${flowColor}">${html(lg.backward)}</font>>];`,
    `  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded", color="${COLORS.line}"];`,
    `  edge [fontname="Helvetica", fontsize=10, color="${COLORS.line}"];`,
  ];
  for (const n of r.nodes) lines.push(`  n${n.id} [id="n${n.id}", ${nodeAttrs(r, n, digits, flowColor)}];`);
  for (const [k, e] of r.edges.entries()) {
    const from = r.nodes[e.from];
    const value = quantity(from.shape, from.value, from.norm, digits);
    const flow = r.mode === 'forward' ? secondary(r, from, digits) : quantity(from.shape, e.grad, e.gradNorm, digits);
    const parts = [`<font color="${COLORS.value}">${html(value)}</font>`];
    if (flow) parts.push(`<font color="${flowColor}">${html(flow)}</font>`);
    lines.push(`  n${e.from} -> n${e.to} [id="e${k}", label=<${parts.join('<br/>')}>, tooltip="${attr(`∂${term(r.nodes[e.to].name)}/∂${term(from.name)} = ${e.local}`)}"];`);
  }
  lines.push('}');
  return lines.join('\n');
}

function nodeAttrs(r: GraphResult, n: GraphNode, digits: number, flowColor: string): string {
  const head = n.kind === 'op' ? `<b>${html(n.opLabel)}</b>${n.name !== n.opLabel ? ` ${html(n.name)}` : ''}` : `<b>${html(n.name)}</b>`;
  const rows = [head, `<font color="${COLORS.value}">${html(quantity(n.shape, n.value, n.norm, digits))}</font>`];
  const flow = secondary(r, n, digits);
  if (flow) rows.push(`<font color="${flowColor}">${html(flow)}</font>`);
  const attrs = [`label=<${rows.join('<br/>')}>`];
  if (n.kind === 'input') attrs.push('shape=ellipse', 'style=filled', 'fillcolor="#f6f8fa"');
  if (n.kind === 'const') attrs.push('shape=plaintext');
  if (n.output) attrs.push('peripheries=2');
  return attrs.join(', ');
}

/** Text inside a Graphviz HTML-like label. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, ' ');
}

/** Text inside a quoted DOT attribute. */
function attr(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');
}
