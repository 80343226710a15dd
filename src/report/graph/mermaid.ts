import { COLORS } from './dot.js';
import type { GraphResult } from '../../graph-result.js';
import { caption, legend, quantity, secondary } from './text.js';

/**
 * A Mermaid flowchart (renders in GitHub Markdown): one line per node, one per edge.
 * Mermaid cannot colour half an edge label, so each edge reads `value ▶` above
 * `◀ gradient` (forward mode: `tangent ▶`).
 */
export function renderMermaid(r: GraphResult, o: { digits?: number } = {}): string {
  const digits = o.digits ?? 6;
  const lg = legend(r);
  const lines = [
    '---',
    // a YAML string: formulas like [x*y, sin(x)] would otherwise read as YAML
    `title: ${JSON.stringify(caption(r, digits).replace(/\n/g, ' '))}`,
    '---',
    'flowchart LR',
    `  %% ${text(lg.forward)} / ${text(lg.backward)}`,
  ];
  for (const n of r.nodes) {
    const head = n.kind === 'op' && n.name !== n.opLabel ? `<b>${n.opLabel}</b> ${n.name}` : `<b>${n.name}</b>`;
    const flow = secondary(r, n, digits);
    const label = [head, `= ${quantity(n.shape, n.value, n.norm, digits)}`, ...(flow ? [r.mode === 'forward' ? `${flow} ▶` : `◀ ${flow}`] : [])].map(text).join('<br/>');
    const [open, close] = n.kind === 'input' ? ['([', '])'] : n.kind === 'const' ? ['[/', '/]'] : ['[', ']'];
    lines.push(`  n${n.id}${open}"${label}"${close}`);
  }
  for (const e of r.edges) {
    const from = r.nodes[e.from];
    const value = `${quantity(from.shape, from.value, from.norm, digits)} ▶`;
    const flow = r.mode === 'forward' ? `${secondary(r, from, digits)} ▶` : e.grad === null ? '' : `◀ ${quantity(from.shape, e.grad, e.gradNorm, digits)}`;
    lines.push(`  n${e.from} -->|"${[value, flow].filter(Boolean).map(text).join('<br/>')}"| n${e.to}`);
  }
  const flowColor = r.mode === 'forward' ? COLORS.tangent : COLORS.grad;
  const ids = (pred: (k: string) => boolean) => r.nodes.filter((n) => pred(n.output ? 'output' : n.kind)).map((n) => `n${n.id}`);
  lines.push(`  classDef input fill:#f6f8fa,stroke:${COLORS.line}`);
  lines.push(`  classDef output stroke:${flowColor},stroke-width:3px`);
  for (const k of ['input', 'output']) {
    const list = ids((x) => x === k);
    if (list.length) lines.push(`  class ${list.join(',')} ${k}`);
  }
  if (r.edges.length) lines.push(`  linkStyle default stroke:${COLORS.line},color:${flowColor}`);
  return lines.join('\n');
}

/** Mermaid entity codes for what would end a quoted label or read as markup. */
function text(s: string): string {
  return s
    .replace(/\n/g, ' ')
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/#lt;(\/?b)#gt;/g, '<$1>');
}
