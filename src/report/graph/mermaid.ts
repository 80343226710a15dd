import { COLORS, WHOLE_ENTRIES } from './dot.js';
import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { checkDeadlineNow } from '../../core/limits.js';
import { caption, legend, quantity, secondary } from './text.js';

/**
 * A Mermaid flowchart (renders in GitHub Markdown): one line per node, one per edge.
 * Mermaid cannot colour half an edge label, so each edge reads `value ▶` above
 * `◀ gradient` (forward mode: `tangent ▶`).
 */
export function renderMermaid(r: GraphResult, o: { digits?: number; edges?: 'summary' | 'full' | 'none' } = {}): string {
  const digits = o.digits ?? 6;
  // nodes show small tensors whole (every tensor with --edges full); edges carry shape and norm
  const whole = o.edges === 'full' ? Infinity : WHOLE_ENTRIES;
  const along = o.edges === 'full' ? Infinity : 0;
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
    checkDeadlineNow();
    const head = n.kind === 'op' && n.name !== n.opLabel ? `<b>${n.opLabel}</b> ${n.name}` : `<b>${n.name}</b>`;
    const flow = secondary(r, n, digits, whole);
    const label = [head, `= ${quantity(n.shape, n.value, n.norm, digits, whole)}`, ...(flow ? [r.mode === 'forward' ? `${flow} ▶` : `◀ ${flow}`] : [])]
      .map(text)
      .join('<br/>');
    const [open, close] = n.kind === 'input' ? ['([', '])'] : n.kind === 'const' ? ['[/', '/]'] : ['[', ']'];
    lines.push(`  n${n.id}${open}"${label}"${close}`);
  }
  for (const e of r.edges) {
    checkDeadlineNow();
    const from = r.nodes[e.from];
    if (o.edges === 'none') {
      lines.push(`  n${e.from} --> n${e.to}`);
      continue;
    }
    const value = `${quantity(from.shape, from.value, from.norm, digits, along)} ▶`;
    const flow =
      r.mode === 'forward' ? `${secondary(r, from, digits, along)} ▶` : e.grad === null ? '' : `◀ ${quantity(from.shape, e.grad, e.gradNorm, digits, along)}`;
    const local = from.kind === 'const' ? '' : `local ${e.local}`;
    lines.push(`  n${e.from} -->|"${[value, flow, local].filter(Boolean).map(text).join('<br/>')}"| n${e.to}`);
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
