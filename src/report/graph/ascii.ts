import { Chalk } from 'chalk';
import type { GraphEdge, GraphNode, GraphResult } from '../../subjects/formula/graph-result.js';
import { caption, nodeTitle, quantity, secondary } from './text.js';
import { shorten } from '../../core/graph/describe.js';
import { checkDeadlineNow } from '../../core/limits.js';
import { shorten as shortenText } from '../../core/safe-text.js';
import { DEFAULT_WIDTH, wrapProse } from '../layout.js';

/** The styles the picture uses. A chalk instance is one; written out so the published types need no chalk. */
export interface GraphColors {
  bold: (text: string) => string;
  dim: (text: string) => string;
  green: (text: string) => string;
  blue: (text: string) => string;
  red: (text: string) => string;
  yellow: (text: string) => string;
}

export interface AsciiOptions {
  digits?: number;
  color?: GraphColors;
  /** the terminal's width (default 100) */
  width?: number;
  /** full: tensors whole; none: values only, no gradients (or tangents) */
  edges?: 'summary' | 'full' | 'none';
}

/** Trees deeper than this, or graphs larger, are listed node by node instead of drawn. */
const MAX_DEPTH = 40;
const MAX_ROWS = 400;
const MAX_TITLE = 48;
/** Terms of a branch sum written out; past this, the first ones and a count. */
const MAX_TERMS = 6;

interface Row {
  /** tree drawing in front of the title */
  prefix: string;
  title: string;
  value: string;
  flow: string;
  /** an op node drawn again where it is shared (its inputs are above) */
  again: boolean;
}

/**
 * The terminal picture: the graph as a tree rooted at the output. Each row below the
 * root is an edge into its parent: the value travelling up it and the gradient flowing
 * back down it (forward mode: the tangent travelling up). A shared node is drawn once
 * with its inputs; later appearances are marked ↑.
 */
export function renderAscii(r: GraphResult, o: AsciiOptions = {}): string {
  const digits = o.digits ?? 6;
  const width = o.width ?? DEFAULT_WIDTH;
  const c: GraphColors = o.color ?? new Chalk({ level: 0 });
  const flowColor = r.mode === 'forward' ? c.blue : c.red;
  const out: string[] = [c.bold(wrapProse(caption(r, digits), width))];
  out.push(
    c.dim(
      wrapProse(
        r.mode === 'forward'
          ? `forward mode, seeded at ${r.wrt}: each row is an edge into the node above; value ▶ and tangent ∂·/∂${r.wrt} ▶ go up it`
          : 'reverse mode: each row is an edge into the node above; value ▶ goes up, gradient ◀ (∂f/∂·) down',
        width,
      ),
    ),
  );
  out.push('');
  const whole = o.edges === 'full' ? Infinity : 0;
  let rows = treeRows(r, digits, whole, o.edges === 'none');
  const heads = r.mode === 'forward' ? ['value ▶', `∂·/∂${r.wrt} ▶`] : ['value ▶', '◀ gradient'];
  const vw = Math.max(heads[0].length, ...(rows ?? []).map((x) => x.value.length));
  const fw = Math.max(heads[1].length, ...(rows ?? []).map((x) => x.flow.length));
  // titles give way to the numbers: each is shortened to what the width leaves; a tree too deep for that is listed instead
  const room = width - vw - fw - 6;
  if (rows?.some((x) => x.prefix.length + (x.again ? 2 : 0) + 2 > room)) rows = null;
  if (rows) {
    for (const x of rows) x.title = fit(x.title, room - x.prefix.length - (x.again ? 2 : 0));
    const w = Math.max(...rows.map((x) => x.prefix.length + x.title.length + (x.again ? 2 : 0)));
    out.push(`${' '.repeat(w)}   ${c.green(heads[0].padEnd(vw))}   ${flowColor(heads[1])}`);
    for (const x of rows) {
      const left = x.prefix.length + x.title.length + (x.again ? 2 : 0);
      const title = `${c.dim(x.prefix)}${x.title}${x.again ? c.dim(' ↑') : ''}`;
      out.push(`${title}${' '.repeat(w - left)}   ${c.green(x.value.padEnd(vw))}   ${flowColor(x.flow)}`.trimEnd());
    }
    if (rows.some((x) => x.again)) out.push(c.dim('↑ a shared node, drawn with its inputs above'));
  } else {
    out.push(
      c.dim(
        wrapProse(
          `(${r.nodes.length} nodes: too large or deep to draw as a tree here; listed in evaluation order, each with the numbers of its inputs)`,
          width,
        ),
      ),
    );
    for (const n of r.nodes) {
      checkDeadlineNow();
      const ins = n.inputs.length ? c.dim(`  ← ${n.inputs.join(', ')}`) : '';
      out.push(
        wrapProse(
          `${n.id}. ${clip(nodeTitle(n))}  ${c.green(quantity(n.shape, n.value, n.norm, digits, whole))}  ${flowColor(o.edges === 'none' ? '' : secondary(r, n, digits, whole))}${ins}`.trimEnd(),
          width,
          4,
        ),
      );
    }
  }
  const extra = o.edges === 'none' ? [] : r.mode === 'forward' ? forwardSummary(r, digits) : branchSums(r, digits);
  if (extra.length) out.push('', ...extra.map((l) => wrapProse(l, width, 4)));
  for (const note of r.notes) out.push('', wrapProse(`${c.yellow('note:')} ${note}`, width));
  return out.join('\n');
}

/** A title in at most `max` characters: its name shortened inside brackets first (`exp(-(…))`). */
function fit(title: string, max: number): string {
  if (title.length <= max) return title;
  const gap = title.indexOf('  ');
  if (gap < 0 || max - gap - 2 < 3) return shorten(title, Math.max(1, max));
  const op = title.slice(0, gap + 2);
  return op + shorten(title.slice(gap + 2), max - op.length);
}

function treeRows(r: GraphResult, digits: number, whole: number, valuesOnly: boolean): Row[] | null {
  const root = r.nodes.find((n) => n.output)!;
  const into = new Map<number, GraphEdge[]>();
  for (const e of r.edges) into.set(e.to, [...(into.get(e.to) ?? []), e]);
  const rows: Row[] = [];
  const drawn = new Set<number>();
  // an explicit stack: long operator chains are deeper than the call stack likes
  const stack: { node: GraphNode; edge: GraphEdge | null; prefix: string; childPrefix: string; depth: number }[] = [
    { node: root, edge: null, prefix: '', childPrefix: '', depth: 0 },
  ];
  while (stack.length) {
    checkDeadlineNow();
    const { node, edge, prefix, childPrefix, depth } = stack.pop()!;
    if (depth > MAX_DEPTH || rows.length >= MAX_ROWS) return null;
    const again = node.kind === 'op' && drawn.has(node.id);
    rows.push({
      prefix,
      title: clip(nodeTitle(node)),
      value: quantity(node.shape, node.value, node.norm, digits, whole),
      flow: valuesOnly ? '' : edgeFlow(r, node, edge, digits, whole),
      again,
    });
    if (again) continue;
    drawn.add(node.id);
    const kids = into.get(node.id) ?? [];
    for (let k = kids.length - 1; k >= 0; k--) {
      const last = k === kids.length - 1;
      stack.push({
        node: r.nodes[kids[k].from],
        edge: kids[k],
        prefix: childPrefix + (last ? '└─ ' : '├─ '),
        childPrefix: childPrefix + (last ? '   ' : '│  '),
        depth: depth + 1,
      });
    }
  }
  return rows;
}

/** Along an edge: the gradient flowing back (reverse) or the tangent travelling up (forward); at the root, the node's own. */
function edgeFlow(r: GraphResult, node: GraphNode, edge: GraphEdge | null, digits: number, whole: number): string {
  if (r.mode === 'forward' || edge === null) return secondary(r, node, digits, whole);
  return quantity(node.shape, edge.grad, edge.gradNorm, digits, whole);
}

/** Where a node feeds several others, its gradient is the sum of what flows back along each edge. */
function branchSums(r: GraphResult, digits: number): string[] {
  const lines: string[] = [];
  for (const n of r.nodes) {
    checkDeadlineNow();
    const outs = r.edges.filter((e) => e.from === n.id && e.grad !== null);
    if (outs.length < 2 || n.grad === null) continue;
    // a node feeding hundreds of others: its first terms, then how many more
    const shown = outs.length > MAX_TERMS ? outs.slice(0, MAX_TERMS - 1) : outs;
    const sum = shown
      .map((e, k) => {
        const from = `(from ${r.nodes[e.to].name})`;
        // a negative scalar term reads as a subtraction: a − b, not a + -b
        const neg = k > 0 && typeof e.grad === 'number' && e.grad < 0;
        const q = quantity(n.shape, neg ? -(e.grad as number) : e.grad, e.gradNorm, digits);
        return `${k === 0 ? '' : neg ? ' − ' : ' + '}${q} ${from}`;
      })
      .join('');
    const more = outs.length > shown.length ? ` + … (${outs.length - shown.length} more terms)` : '';
    lines.push(`  ∂f/∂${clip(n.name)} = ${sum}${more} = ${quantity(n.shape, n.grad, n.gradNorm, digits)}`);
  }
  return lines.length ? ['gradients add at branches:', ...lines] : [];
}

function forwardSummary(r: GraphResult, digits: number): string[] {
  const root = r.nodes.find((n) => n.output)!;
  return [
    `∂f/∂${r.wrt} = ${quantity(root.shape, root.tangent, root.tangentNorm, digits)}  (one forward pass: each tangent is Σ local derivative × input tangent)`,
  ];
}

function clip(s: string): string {
  const one = s.replace(/\s*\n\s*/g, ' ');
  return shortenText(one, MAX_TITLE, 'end');
}
