import type { Shown } from '../../subjects/formula/grad.js';
import type { GraphEdge, GraphNode, GraphResult } from '../../subjects/formula/graph-result.js';
import { shorten } from '../../core/graph/describe.js';
import { checkDeadlineNow } from '../../core/limits.js';
import { num } from '../../core/number-format.js';
import { graphemeCut } from '../../core/safe-text.js';
import type { Nested } from '../../core/parse/values.js';
import { isSummary } from '../format.js';
import { caption, legend, quantity, term } from './text.js';

/** The lecture slides' colours: forward values green, gradients red; tangents blue. */
export const COLORS = { value: '#1a7f37', grad: '#cf222e', tangent: '#0969da', line: '#57606a' };

/**
 * The font every picture is laid out and drawn in. Graphviz (in WebAssembly) cannot read
 * font files: it estimates text widths from built-in tables, exact only for Courier's
 * fixed 0.6 em. So pictures are set in a monospaced font of that advance — DejaVu Sans
 * Mono where it is installed (this machine has no other), else the viewer's Courier —
 * and the boxes Graphviz draws fit the text the viewer draws.
 */
export const FONT = { graphviz: 'Courier', svg: "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace", em: 0.6 };

/** Tensors up to this many entries are drawn whole; larger ones as shape, norm and their first entries. */
export const WHOLE_ENTRIES = 16;
/** Longest name in a node; the whole name is the node's tooltip (hover) and in the explorer's side panel. */
const MAX_NAME = 24;
/** Longest local derivative written on an edge (shortened inside brackets beyond). */
const MAX_LOCAL = 32;
/** Longest title line before it wraps. */
const MAX_TITLE = 90;

export interface DotOptions {
  digits?: number;
  /** the title and legend above the graph (the explorer page draws its own) */
  caption?: boolean;
  /** summary: small tensors whole, large ones summarised; full: every tensor whole; none: edges without labels */
  edges?: 'summary' | 'full' | 'none';
  /** one line per quantity, shape and norm for tensors (the explorer page rewrites these lines as it steps) */
  compact?: boolean;
}

/**
 * Graphviz DOT, left to right like the slides. A node shows its op (small, above), its
 * name, its value (green) and its gradient (red; forward mode: its tangent, blue); an
 * edge shows the value travelling along it, the gradient flowing back, and its local
 * derivative. Node n has the id `n<id>` and edge k of `r.edges` the id `e<k>` (kept in
 * SVG), so a page can find them.
 */
export function renderDot(r: GraphResult, o: DotOptions = {}): string {
  const digits = o.digits ?? 6;
  const flowColor = r.mode === 'forward' ? COLORS.tangent : COLORS.grad;
  const lg = legend(r);
  const font = `fontname="${FONT.graphviz}"`;
  const title = wrapTitle(caption(r, digits)).map(html).join('<br/>');
  const show = (shape: number[], v: Shown | null, norm: number | null): string[] =>
    o.compact ? [quantity(shape, v, norm, digits)].filter(Boolean) : pictureLines(shape, v, norm, digits, o.edges === 'full' ? Infinity : WHOLE_ENTRIES);
  const lines = [
    'digraph autograd {',
    `  rankdir=${direction(r, o, show)};`,
    o.caption === false
      ? `  graph [${font}, bgcolor=transparent, nodesep=0.3, ranksep=0.5];`
      : `  graph [${font}, fontsize=12, labelloc=t, nodesep=0.3, ranksep=0.5, pad=0.2, label=<<b>${title}</b><br/><font color="${COLORS.value}">${html(lg.forward)}</font> <font color="${flowColor}">${html(lg.backward)}</font>>];`,
    `  node [${font}, fontsize=11, shape=box, style="rounded", color="${COLORS.line}", margin="0.12,0.05"];`,
    `  edge [${font}, fontsize=10, color="${COLORS.line}"];`,
  ];
  for (const n of r.nodes) {
    checkDeadlineNow();
    lines.push(`  n${n.id} [id="n${n.id}", ${nodeAttrs(r, n, flowColor, show, o.compact === true)}];`);
  }
  for (const [k, e] of r.edges.entries()) {
    checkDeadlineNow();
    const label = o.edges === 'none' ? '' : `label=<${edgeLabel(r, e, flowColor, o, digits)}>, `;
    lines.push(`  n${e.from} -> n${e.to} [id="e${k}", ${label}tooltip="${attr(`∂${term(r.nodes[e.to].name)}/∂${term(r.nodes[e.from].name)} = ${e.local}`)}"];`);
  }
  lines.push('}');
  return lines.join('\n');
}

function nodeAttrs(
  r: GraphResult,
  n: GraphNode,
  flowColor: string,
  show: (shape: number[], v: Shown | null, norm: number | null) => string[],
  compact: boolean,
): string {
  const rows: string[] = [];
  // the op on a line of its own, small and grey, so that it never runs into the name
  if (n.kind === 'op' && n.name !== n.opLabel) rows.push(`<font point-size="9" color="${COLORS.line}">${html(n.opLabel)}</font>`);
  const name = shorten(n.fullName, MAX_NAME);
  rows.push(`<b>${html(name)}</b>`);
  const value = show(n.shape, n.value, n.norm);
  // a constant's value is its name (the explorer page keeps the line: it shows it when the step comes)
  if (compact || !(n.kind === 'const' && value.length === 1 && value[0] === name))
    rows.push(...value.map((l) => `<font color="${COLORS.value}">${html(l)}</font>`));
  const flow = r.mode === 'forward' ? show(n.shape, n.tangent, n.tangentNorm) : show(n.shape, n.grad, n.gradNorm);
  rows.push(...flow.map((l) => `<font color="${flowColor}">${html(l)}</font>`));
  const attrs = [`label=<${rows.join('<br/>')}>`];
  if (name !== n.fullName) attrs.push(`tooltip="${attr(n.fullName)}"`);
  if (n.kind === 'input') attrs.push('shape=ellipse', 'style=filled', 'fillcolor="#f6f8fa"');
  if (n.kind === 'const') attrs.push('shape=plaintext');
  if (n.output) attrs.push('peripheries=2');
  return attrs.join(', ');
}

/** Along an edge: the value forward, the gradient back (forward mode: the tangent), and the local derivative ∂to/∂from. */
function edgeLabel(r: GraphResult, e: GraphEdge, flowColor: string, o: DotOptions, digits: number): string {
  const from = r.nodes[e.from];
  // edges carry numbers and tensors' shape and norm (whole tensors with --edges full)
  const lines = (v: Shown | null, norm: number | null): string[] => {
    if (v === null) return [];
    if (o.compact) return [quantity(from.shape, v, norm, digits)];
    if (o.edges === 'full') return pictureLines(from.shape, v, norm, digits, Infinity);
    return pictureLines(from.shape, v, norm, digits, 0).slice(0, 1);
  };
  const parts = lines(from.value, from.norm).map((l) => `<font color="${COLORS.value}">${html(l)}</font>`);
  const flow = r.mode === 'forward' ? lines(from.tangent, from.tangentNorm) : lines(e.grad, e.gradNorm);
  parts.push(...flow.map((l) => `<font color="${flowColor}">${html(l)}</font>`));
  // nothing flows back to a constant: its edge's local derivative says nothing
  const local = from.kind === 'const' ? '' : localLine(e, digits);
  if (local) parts.push(`<font point-size="9" color="${COLORS.line}">${html(local)}</font>`);
  return parts.join('<br/>');
}

/** Points per character of the pictures' monospaced font at a node's size (11 pt), and per line. */
const CHAR_PT = 11 * FONT.em;
const LINE_PT = 14;

/**
 * Left to right like the slides while that keeps a readable picture; top to bottom when
 * the chain is so long that left to right would be far wider than tall (the sigmoid
 * neuron's 5,500 px, batchnorm's 11,000 px at normal size). The sizes are Graphviz's own
 * arithmetic for monospaced text: each node's widest line and its number of lines, the
 * ranks its longest path from the inputs puts it in.
 */
function direction(r: GraphResult, o: DotOptions, show: (shape: number[], v: Shown | null, norm: number | null) => string[]): 'LR' | 'TB' {
  const rank = new Array<number>(r.nodes.length).fill(0);
  const w: number[] = [];
  const h: number[] = [];
  for (const n of r.nodes) {
    for (const i of n.inputs) rank[n.id] = Math.max(rank[n.id], rank[i] + 1);
    const lines = [shorten(n.fullName, MAX_NAME), ...show(n.shape, n.value, n.norm), ...show(n.shape, n.grad ?? n.tangent, n.gradNorm ?? n.tangentNorm)];
    w[n.id] = Math.max(...lines.map((l) => l.length)) * CHAR_PT + 20;
    h[n.id] = lines.length * LINE_PT + 10;
  }
  // an edge label sits between two ranks: about as wide as a local derivative, three lines high
  const label = o.edges === 'none' ? { w: 0, h: 0 } : { w: (MAX_LOCAL + 8) * 10 * FONT.em, h: 3 * 13 };
  const ranks = Math.max(0, ...rank) + 1;
  const across = (size: number[], gap: number) => {
    const per = new Array<number>(ranks).fill(0);
    r.nodes.forEach((n) => (per[rank[n.id]] += size[n.id] + gap));
    return Math.max(...per);
  };
  const along = (size: number[], gap: number) => {
    const per = new Array<number>(ranks).fill(0);
    r.nodes.forEach((n) => (per[rank[n.id]] = Math.max(per[rank[n.id]], size[n.id])));
    return per.reduce((a, b) => a + b + gap, 0);
  };
  const lr = { w: along(w, label.w + 36), h: across(h, 22) };
  const tb = { w: across(w, label.w + 22), h: along(h, label.h + 36) };
  return lr.w > 1200 && lr.w > 3 * lr.h && tb.w < lr.w ? 'TB' : 'LR';
}

/** `local cos(x) = -1`; a Jacobian's rule without a value (`local g*x'`). */
function localLine(e: GraphEdge, digits: number): string {
  const formula = shorten(e.local, MAX_LOCAL);
  if (e.localValue === null) return `local ${formula}`;
  const v = typeof e.localValue === 'number' ? num(e.localValue, Math.min(digits, 4)) : null;
  return v === null || v === formula ? `local ${formula}` : `local ${formula} = ${v}`;
}

/**
 * A quantity as picture lines: a number; a small tensor whole, one line per row; a
 * large one as its shape and norm over its first entries. ASCII only (`x` for ×):
 * Graphviz measures other characters as several.
 */
export function pictureLines(shape: readonly number[], v: Shown | null, norm: number | null, digits: number, whole = WHOLE_ENTRIES): string[] {
  if (v === null) return [];
  if (shape.length === 0) return [quantity(shape, v, norm, digits)];
  const d = Math.min(digits, 4);
  const dims = shape.join('x');
  if (isSummary(v)) return [`[${dims}] norm ${num(v.norm, d)}`, `${v.first.map((x) => num(x, d)).join(', ')}, ...`];
  const flat = flatten(v);
  if (flat.length > whole || (whole === 0 && flat.length > 0))
    return [
      `[${dims}] norm ${num(norm ?? 0, d)}`,
      `${flat
        .slice(0, 3)
        .map((x) => num(x, d))
        .join(', ')}, ...`,
    ];
  if (shape.length === 1) return [`[${flat.map((x) => num(x, d)).join(', ')}]`];
  return (v as Nested[]).map(
    (row, i, all) =>
      `${i === 0 ? '[' : ' '}[${flatten(row)
        .map((x) => num(x, d))
        .join(', ')}]${i === all.length - 1 ? ']' : ''}`,
  );
}

function flatten(v: Nested): number[] {
  return typeof v === 'number' ? [v] : (v as Nested[]).flatMap(flatten);
}

/** The title in lines of at most MAX_TITLE characters, broken between the point's values. */
function wrapTitle(s: string): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > MAX_TITLE) {
    let cut = rest.lastIndexOf(', ', MAX_TITLE);
    if (cut < MAX_TITLE / 3) cut = rest.lastIndexOf(' ', MAX_TITLE);
    if (cut < MAX_TITLE / 3) cut = Math.max(1, graphemeCut(rest, MAX_TITLE));
    out.push(rest.slice(0, cut + (rest[cut] === ',' ? 1 : 0)).trimEnd());
    rest = rest.slice(cut + (rest[cut] === ',' ? 1 : 0)).trimStart();
  }
  out.push(rest);
  return out;
}

/** Text inside a Graphviz HTML-like label. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, ' ');
}

/** Text inside a quoted DOT attribute. */
function attr(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');
}
