// The backprop explorer, in the browser: steps through the forward pass node by node and
// the backward pass edge by edge over the Graphviz picture. It computes nothing: every
// number comes from the graph result in the page's JSON block (see index.ts).
import type { GraphEdge, GraphNode, GraphSeed } from '../../subjects/formula/graph-result.js';
import type { Shown } from '../../subjects/formula/grad.js';
import { num } from '../../core/number-format.js';
import { isSummary } from '../format.js';
import { COLORS } from '../graph/dot.js';
import { nodeTitle, quantity, term } from '../graph/text.js';
import { IDS, type PageData } from './data.js';

type Step = { kind: 'forward'; node: GraphNode } | { kind: 'backward'; edge: GraphEdge; k: number };
type Role = 'value' | 'grad' | 'tangent' | 'local';
/** A node's or an edge's group in the SVG, and its two lines of numbers. */
interface Part {
  g: SVGGElement;
  value: SVGTextElement | null;
  flow: SVGTextElement | null;
}
type Child = Node | string | null | false;

const data = JSON.parse(document.getElementById(IDS.data)!.textContent!) as PageData;
const r = data.result;
const D = data.digits;
const seeds: GraphSeed[] = r.seeds ?? [];
const output = r.nodes.find((n) => n.output)!;
/** for each edge, its place in the backward pass (-1: nothing flows back along it) */
const backIndex = r.edges.map(() => -1);
r.backprop.forEach((k, i) => (backIndex[k] = i));
/**
 * The forward pass's steps, in order: the inputs first (their values are given), then each
 * op in turn. Constants are known from the start and take no step of their own: a walk
 * that opened with "a constant, 1" began nowhere.
 */
const forwardOrder = [...r.nodes.filter((n) => n.kind === 'input'), ...r.nodes.filter((n) => n.kind === 'op')];
const forwardRank = new Map(forwardOrder.map((n, i) => [n.id, i]));
/** for each node, the backward pass's edges into it, in order */
const backInto = r.nodes.map((n) => r.backprop.filter((k) => r.edges[k].from === n.id));

const st = {
  forward: r.mode === 'forward' && seeds.length > 0,
  seed: Math.max(
    0,
    seeds.findIndex((s) => s.wrt === r.wrt),
  ),
  step: 0,
  pinned: null as number | null,
  hover: null as number | null,
  timer: 0,
};

// ---- small DOM helpers: text goes in as text nodes, never as markup ----

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean> = {}, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids) if (c !== null && c !== false) el.append(c);
  return el;
}

function toNumber(v: unknown): number {
  // JSON writes NaN and ±Infinity as strings
  return typeof v === 'number' ? v : Number(v);
}

/** A value for the panels: a number, a table (up to 16×16), a heat-map with min and max, or a summary. */
function qty(shape: number[], v: Shown | null, norm: number | null, role: Role, q?: string): HTMLElement {
  const attrs = { class: `q-${role}`, ...(q ? { 'data-q': q } : {}) };
  if (v === null) return h('span', { ...attrs, class: 'muted' }, '—');
  if (!Array.isArray(v) && !isSummary(v)) return h('span', { ...attrs, class: `num q-${role}` }, num(toNumber(v), D));
  if (isSummary(v)) {
    return h(
      'span',
      attrs,
      `[${v.shape.join('×')}] ‖·‖=${num(v.norm, 4)}, min ${num(v.min, 4)}, max ${num(v.max, 4)}, first ${v.first.map((x) => num(toNumber(x), 4)).join(', ')} …`,
    );
  }
  // vectors are columns, as on paper
  const rows = shape.length === 2 ? (v as Shown[][]).map((row) => row.map(toNumber)) : (v as Shown[]).map((x) => [toNumber(x)]);
  const nr = rows.length;
  const nc = rows[0]?.length ?? 0;
  const wrap = h('span', { ...attrs, 'data-shape': shape.join('x'), title: `[${shape.join('×')}] ‖·‖=${num(norm ?? 0, 4)}` });
  if (nr <= 16 && nc <= 16) {
    wrap.append(h('table', { class: 't' }, ...rows.map((row) => h('tr', {}, ...row.map((x) => h('td', {}, num(x, D)))))));
  } else {
    wrap.append(heatmap(rows));
  }
  return wrap;
}

/** Entries as colours: negative blue, positive red, zero the background; min and max beside. */
function heatmap(rows: number[][]): HTMLElement {
  const nr = rows.length;
  const nc = rows[0].length;
  const c = h('canvas', { width: nc, height: nr, role: 'img' });
  const flat = rows.flat();
  const finite = flat.filter(Number.isFinite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const scale = Math.max(Math.abs(min), Math.abs(max)) || 1;
  c.setAttribute('aria-label', `heat-map of ${nr}×${nc} entries from ${num(min, D)} to ${num(max, D)}`);
  // square cells, the picture at most 160 px each way
  const cell = Math.min(160 / nc, 160 / nr, 12);
  c.style.width = `${Math.max(1, Math.round(nc * cell))}px`;
  c.style.height = `${Math.max(1, Math.round(nr * cell))}px`;
  const ctx = c.getContext('2d');
  if (ctx) {
    const css = getComputedStyle(document.documentElement);
    const [bg, neg, pos] = ['--bg', '--tangent', '--grad'].map((k) => rgb(css.getPropertyValue(k)));
    const img = ctx.createImageData(nc, nr);
    flat.forEach((x, i) => {
      const t = Number.isFinite(x) ? Math.min(1, Math.abs(x) / scale) : 1;
      const to = x < 0 ? neg : pos;
      for (let j = 0; j < 3; j++) img.data[4 * i + j] = Math.round(bg[j] + (to[j] - bg[j]) * t);
      img.data[4 * i + 3] = 255;
    });
    ctx.putImageData(img, 0, 0);
  }
  return h('span', { class: 'heat' }, c, h('span', {}, `${nr}×${nc}  min ${num(min, D)}  max ${num(max, D)}`));
}

function rgb(hex: string): number[] {
  const m = /#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(hex);
  return m ? [1, 2, 3].map((i) => parseInt(m[i], 16)) : [128, 128, 128];
}

function code(s: string): HTMLElement {
  return h('code', {}, s);
}

// ---- the picture ----

const graphEl = document.getElementById(IDS.graph)!;
const svg = graphEl.querySelector('svg')!;
// one picture unit is one pixel (Graphviz says pt) at full size
const [, , picW, picH] = (svg.getAttribute('viewBox') ?? '0 0 0 0').split(/\s+/).map(Number);

function part(id: string): Part {
  const g = document.getElementById(id) as unknown as SVGGElement;
  const p: Part = { g, value: null, flow: null };
  for (const t of Array.from(g.querySelectorAll('text'))) {
    const fill = t.getAttribute('fill');
    if (fill === COLORS.value) p.value = t;
    else if (fill === COLORS.grad || fill === COLORS.tangent) p.flow = t;
  }
  for (const t of [p.value, p.flow]) if (t) centre(t);
  p.value?.classList.add('ag-value');
  p.flow?.classList.add('ag-flow');
  return p;
}

/** Graphviz places each line from its left end; numbers change, so anchor them at their middle. */
function centre(t: SVGTextElement): void {
  const b = t.getBBox();
  t.setAttribute('text-anchor', 'middle');
  t.setAttribute('x', String(b.x + b.width / 2));
}

/** A line for tangents where the picture has none (a vector output has no gradient line): one line below the value. */
function flowLine(p: Part): SVGTextElement | null {
  if (p.flow || !p.value) return p.flow;
  const t = p.value.cloneNode(true) as SVGTextElement;
  t.setAttribute('y', String(Number(p.value.getAttribute('y')) + Number(p.value.getAttribute('font-size') ?? 11)));
  t.classList.replace('ag-value', 'ag-flow');
  p.value.after(t);
  p.flow = t;
  return t;
}

function setLine(t: SVGTextElement | null, text: string | null, partial = false): void {
  if (!t) return;
  t.classList.toggle('ag-hidden', text === null);
  t.classList.toggle('ag-partial', partial);
  if (text !== null) t.textContent = text;
}

const nodeParts = r.nodes.map((n) => part(`n${n.id}`));
const edgeParts = r.edges.map((_, k) => part(`e${k}`));

// ---- the controls ----

const btn = (label: string, text: string, go: () => void) => {
  const b = h('button', { type: 'button', 'aria-label': label, title: label }, text);
  b.addEventListener('click', go);
  return b;
};
const first = btn('first step (Home)', '|◀', () => goto(0));
const prev = btn('previous step (←)', '◀', () => goto(st.step - 1));
const next = btn('next step (→)', '▶', () => goto(st.step + 1));
const last = btn('last step (End)', '▶|', () => goto(steps().length - 1));
const play = btn('play the steps', 'play', () => toggleplay());
play.setAttribute('aria-pressed', 'false');
const slider = h('input', { type: 'range', min: 1, max: 1, value: 1, 'aria-label': 'step' });
slider.addEventListener('input', () => goto(Number(slider.value) - 1));
const counter = h('span', { class: 'ag-counter', 'aria-hidden': 'true' });
const fwd = h('input', { type: 'checkbox', disabled: seeds.length === 0 });
fwd.checked = st.forward;
fwd.addEventListener('change', () => {
  st.forward = fwd.checked;
  render();
});
const seedSel = h('select', { 'aria-label': 'the input forward mode is seeded at' }, ...seeds.map((s, i) => h('option', { value: i }, s.wrt)));
seedSel.value = String(st.seed);
seedSel.addEventListener('change', () => {
  st.seed = Number(seedSel.value);
  render();
});
// zoom: null fits the picture to its room; a number is a scale chosen with − and +
let zoom: number | null = null;
const zoomOut = btn('zoom out (−)', '−', () => zoomTo(scale() / 1.25));
const zoomFit = btn('fit the picture to the window (0)', 'fit', () => zoomTo(null));
const zoomIn = btn('zoom in (+)', '+', () => zoomTo(scale() * 1.25));
const app = document.getElementById(IDS.app)!;
// a long chain (the lectures' circuits) reads best across the whole width, the panels below it
const wide = picW > 700 && picW > 2 * picH;
app.classList.toggle('ag-wide', wide);
const legend = h('span', { class: 'ag-legend', 'aria-hidden': 'true' });
const bar = h(
  'div',
  { class: 'ag-bar', role: 'toolbar', 'aria-label': 'step through the passes' },
  first,
  prev,
  slider,
  next,
  last,
  play,
  counter,
  h('label', { title: 'forward mode: tangents ∂·/∂x travel forward with the values' }, fwd, 'forward mode'),
  h('label', {}, 'seed', seedSel),
  h('span', { class: 'ag-zoom', role: 'group', 'aria-label': 'zoom' }, zoomOut, zoomFit, zoomIn),
  legend,
);
const stepPanel = h('section', { 'aria-live': 'polite', 'aria-label': 'this step' });
const details = h('section', { 'aria-label': 'node details' });
app.prepend(bar, ...(r.notes.length ? [h('p', { class: 'ag-notes' }, ...r.notes.map((n) => `note: ${n} `))] : []));
app.querySelector('main')!.append(h('aside', {}, stepPanel, details));

nodeParts.forEach((p, id) => {
  const n = r.nodes[id];
  p.g.setAttribute('tabindex', '0');
  p.g.setAttribute('role', 'button');
  p.g.setAttribute('aria-label', `${nodeTitle(n)}: show details`);
  const hover = (on: boolean) => () => {
    st.hover = on ? id : null;
    renderDetails();
  };
  p.g.addEventListener('mouseenter', hover(true));
  p.g.addEventListener('mouseleave', hover(false));
  p.g.addEventListener('focus', hover(true));
  p.g.addEventListener('blur', hover(false));
  const pin = () => {
    st.pinned = st.pinned === id ? null : id;
    render();
  };
  p.g.addEventListener('click', pin);
  p.g.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      pin();
    }
  });
});

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  // the slider and the seed list take their own arrow keys
  if (e.altKey || e.ctrlKey || e.metaKey || t.tagName === 'SELECT' || (t.tagName === 'INPUT' && (t as HTMLInputElement).type === 'range')) return;
  const zoomKey = { '+': () => zoomTo(scale() * 1.25), '=': () => zoomTo(scale() * 1.25), '-': () => zoomTo(scale() / 1.25), '0': () => zoomTo(null) }[e.key];
  if (zoomKey) {
    e.preventDefault();
    zoomKey();
    return;
  }
  const to = { ArrowRight: st.step + 1, ArrowLeft: st.step - 1, Home: 0, End: steps().length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  goto(to);
});

function toggleplay(): void {
  if (st.timer) {
    clearInterval(st.timer);
    st.timer = 0;
  } else {
    if (st.step >= steps().length - 1) st.step = -1;
    st.timer = window.setInterval(() => (st.step >= steps().length - 1 ? toggleplay() : goto(st.step + 1)), 900);
    goto(st.step + 1);
  }
  play.setAttribute('aria-pressed', String(st.timer !== 0));
  play.textContent = st.timer ? 'pause' : 'play';
}

// ---- the steps ----

/** Reverse mode: every node forward, then every edge gradients flow back along. Forward mode: the nodes, tangents alongside. */
function steps(): Step[] {
  const s: Step[] = forwardOrder.map((node) => ({ kind: 'forward', node }));
  if (!st.forward) r.backprop.forEach((k, i) => s.push({ kind: 'backward', edge: r.edges[k], k: i }));
  return s;
}

function goto(i: number): void {
  st.step = Math.max(0, Math.min(steps().length - 1, i));
  render();
}

/** ∂f/∂node as shown after the backward pass has taken `taken` edges: partial until its last edge is taken. */
function gradsAfter(taken: number): Map<number, { v: Shown; norm: number | null; partial: boolean }> {
  const m = new Map<number, { v: Shown; norm: number | null; partial: boolean }>();
  if (taken > 0 && output.grad !== null) m.set(output.id, { v: output.grad, norm: output.gradNorm, partial: false });
  for (let i = 0; i < taken; i++) {
    const e = r.edges[r.backprop[i]];
    const into = backInto[e.from];
    m.set(e.from, { v: e.sofar!, norm: e.sofarNorm, partial: into[into.length - 1] !== r.backprop[i] });
  }
  return m;
}

/** Where the walk is: the step, which nodes are computed so far, the gradients so far. */
function progress() {
  const all = steps();
  st.step = Math.max(0, Math.min(all.length - 1, st.step));
  const cur = all[st.step];
  const taken = cur.kind === 'backward' ? cur.k + 1 : 0;
  return {
    all,
    cur,
    computed: computedBy(cur),
    taken,
    grads: gradsAfter(taken),
    seed: st.forward ? seeds[st.seed] : null,
  };
}

/** Whether node `id` has its value at step `cur`: constants always, the rest once their forward step is reached. */
function computedBy(cur: Step): (id: number) => boolean {
  const upTo = cur.kind === 'forward' ? forwardRank.get(cur.node.id)! : Infinity;
  return (id) => r.nodes[id].kind === 'const' || forwardRank.get(id)! <= upTo;
}

function render(): void {
  const { all, cur, computed, taken, grads, seed } = progress();
  graphEl.classList.toggle('ag-forward', st.forward);

  r.nodes.forEach((n, id) => {
    const p = nodeParts[id];
    const done = computed(id);
    p.g.classList.toggle('ag-pending', !done);
    p.g.classList.toggle('ag-current', cur.kind === 'forward' ? cur.node.id === id : cur.edge.from === id || cur.edge.to === id);
    p.g.classList.toggle('ag-selected', st.pinned === id);
    setLine(p.value, done ? quantity(n.shape, n.value, n.norm, D) : null);
    if (seed) {
      const t = seed.tangents[id];
      setLine(t === null ? p.flow : flowLine(p), done && t !== null ? quantity(n.shape, t, seed.norms[id], D) : null);
    } else {
      const g = grads.get(id);
      setLine(p.flow, g ? quantity(n.shape, g.v, g.norm, D) : null, g?.partial);
    }
  });
  r.edges.forEach((e, k) => {
    const p = edgeParts[k];
    const from = r.nodes[e.from];
    setLine(p.value, computed(e.from) ? quantity(from.shape, from.value, from.norm, D) : null);
    if (seed) {
      const t = seed.tangents[e.from];
      setLine(t === null ? p.flow : flowLine(p), computed(e.from) && t !== null ? quantity(from.shape, t, seed.norms[e.from], D) : null);
    } else {
      setLine(p.flow, e.grad !== null && backIndex[k] >= 0 && backIndex[k] < taken ? quantity(from.shape, e.grad, e.gradNorm, D) : null);
    }
    p.g.classList.toggle('ag-current', cur.kind === 'forward' ? cur.node.id === e.to : cur.edge === e);
  });

  slider.max = String(all.length);
  slider.value = String(st.step + 1);
  const phase = cur.kind === 'forward' ? 'forward pass' : 'backward pass';
  slider.setAttribute('aria-valuetext', `step ${st.step + 1} of ${all.length}, ${phase}`);
  counter.textContent = `step ${st.step + 1} / ${all.length} · ${phase}`;
  first.disabled = prev.disabled = st.step === 0;
  next.disabled = last.disabled = st.step === all.length - 1;
  seedSel.disabled = !st.forward;
  legend.replaceChildren(
    h('span', { class: 'v' }, 'value ▶'),
    st.forward ? h('span', { class: 't' }, `tangent ∂·/∂${seed!.wrt} ▶`) : h('span', { class: 'g' }, '◀ gradient ∂f/∂·'),
  );
  stepPanel.replaceChildren(...explain(cur, all.length, seed).filter((c): c is Node | string => c !== null && c !== false));
  renderDetails();
  const focus = cur.kind === 'forward' ? nodeParts[cur.node.id].g : edgeParts[r.edges.indexOf(cur.edge)].g;
  focus.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
}

/** The step in words and numbers: a value as it is computed, or downstream = upstream × local. */
function explain(cur: Step, total: number, seed: GraphSeed | null): Child[] {
  if (cur.kind === 'forward') {
    const n = cur.node;
    const head = h('h2', {}, `Step ${st.step + 1} of ${total} · forward pass`);
    const what =
      n.kind === 'input'
        ? h('p', {}, code(n.name), ' is an input: its value is given.')
        : h('p', {}, 'Compute ', code(n.text ?? n.name), ` (${n.opLabel}) from its input${n.inputs.length > 1 ? 's' : ''}:`);
    const ins = n.inputs.length
      ? h(
          'dl',
          {},
          ...n.inputs.flatMap((i) => [h('dt', {}, code(r.nodes[i].name)), h('dd', {}, qty(r.nodes[i].shape, r.nodes[i].value, r.nodes[i].norm, 'value'))]),
        )
      : null;
    const out = h('dl', {}, h('dt', {}, 'value'), h('dd', {}, qty(n.shape, n.value, n.norm, 'value', 'value')));
    return [head, what, ins, ins ? h('h3', {}, 'gives') : null, out, seed ? tangentOf(n, seed) : null];
  }
  const e = cur.edge;
  const from = r.nodes[e.from];
  const to = r.nodes[e.to];
  const fig = (el: HTMLElement, cap: string) => h('figure', {}, el, h('figcaption', {}, cap));
  const local = e.localValue !== null ? qty(to.shape, e.localValue, null, 'local', 'local') : h('span', { 'data-q': 'local' }, code(e.local));
  const elementwise = to.shape.length > 0 && e.localValue !== null;
  const dLocal = `∂${term(to.name)}/∂${term(from.name)}`;
  return [
    h('h2', {}, `Step ${st.step + 1} of ${total} · backward pass`),
    h('p', {}, 'The gradient flows back along the edge ', code(from.name), ' → ', code(to.name), ` (edge ${cur.k + 1} of ${r.backprop.length}).`),
    h('p', { class: 'muted' }, `downstream = upstream × local${elementwise ? ', entry by entry' : ''}`),
    h(
      'div',
      { class: 'eq' },
      fig(qty(from.shape, e.grad, e.gradNorm, 'grad', 'downstream'), `downstream ∂f/∂${term(from.name)} via this edge`),
      h('span', { class: 'op' }, '='),
      fig(qty(to.shape, to.grad, to.gradNorm, 'grad', 'upstream'), `upstream ∂f/∂${term(to.name)}`),
      h('span', { class: 'op' }, '×'),
      fig(local, `local ${dLocal}`),
    ),
    h(
      'p',
      {},
      'local derivative ',
      code(`${dLocal} = ${e.local}`),
      e.localValue === null ? ' (a Jacobian, applied as a whole: g is the upstream gradient)' : '',
    ),
    branchSum(e, cur.k),
  ];
}

/** Gradients add at branches: ∂f/∂from as the sum builds, edge by edge. */
function branchSum(e: GraphEdge, k: number): HTMLElement {
  const from = r.nodes[e.from];
  const into = backInto[e.from];
  if (into.length < 2) return h('p', { class: 'sum muted' }, 'One path back from ', code(from.name), `: this is all of ∂f/∂${term(from.name)}.`);
  const terms: Child[] = [];
  into.forEach((j, i) => {
    const x = r.edges[j];
    const src = ` (from ${r.nodes[x.to].name})`;
    if (backIndex[j] > k) {
      terms.push(i > 0 ? ' + ' : '', h('span', { class: 'pending' }, `…${src.slice(0, -1)}, still to come)`));
      return;
    }
    // a negative scalar term reads as a subtraction: a − b, not a + -b
    const neg = i > 0 && typeof x.grad === 'number' && x.grad < 0;
    terms.push(
      i > 0 ? (neg ? ' − ' : ' + ') : '',
      h('span', {}, quantity(from.shape, neg ? -(x.grad as number) : x.grad, x.gradNorm, D), h('span', { class: 'muted' }, src)),
    );
  });
  const done = into[into.length - 1] === r.backprop[k];
  return h(
    'div',
    { class: 'sum' },
    h('p', {}, h('strong', {}, 'Gradients add'), ' at ', code(from.name), `, which feeds ${into.length} nodes: ∂f/∂${term(from.name)} = `, ...terms),
    h('dl', {}, h('dt', {}, done ? `∂f/∂${term(from.name)}` : 'so far'), h('dd', {}, qty(from.shape, e.sofar, e.sofarNorm, 'grad', 'sofar'))),
  );
}

/** Forward mode: the node's tangent, Σ local × input tangent. */
function tangentOf(n: GraphNode, seed: GraphSeed): HTMLElement {
  const rows: Child[] = [];
  for (const e of r.edges) {
    if (e.to !== n.id || seed.tangents[e.from] === null) continue;
    const from = r.nodes[e.from];
    rows.push(
      h('dt', {}, `from ${from.name}`),
      h(
        'dd',
        {},
        'local ',
        code(e.local),
        ...(e.localValue !== null ? [' = ', qty(n.shape, e.localValue, null, 'local')] : [h('span', { class: 'muted' }, ' (a Jacobian)')]),
        ' × input tangent ',
        qty(from.shape, seed.tangents[e.from], seed.norms[e.from], 'tangent'),
      ),
    );
  }
  return h(
    'div',
    {},
    h('h3', {}, `tangent ∂·/∂${seed.wrt}`, rows.length ? ' = Σ local × input tangent' : ''),
    rows.length ? h('dl', {}, ...rows) : null,
    h('dl', {}, h('dt', {}, 'tangent'), h('dd', {}, qty(n.shape, seed.tangents[n.id], seed.norms[n.id], 'tangent', 'tangent'))),
  );
}

/** The node under the pointer or focus, else the pinned one, else the step's: everything known about it. */
function renderDetails(): void {
  const { cur, computed, grads, seed } = progress();
  const id = st.hover ?? st.pinned ?? (cur.kind === 'forward' ? cur.node.id : cur.edge.from);
  const n = r.nodes[id];
  // what the walk has reached so far, as on the picture
  const notYet = (what: string) => h('span', { class: 'muted' }, `— (${what})`);
  const g = grads.get(id);
  const rows: Child[] = [
    h('dt', {}, 'op'),
    h('dd', {}, n.kind === 'op' ? `${n.opLabel} (${n.op})` : n.kind),
    h('dt', {}, 'source'),
    h('dd', {}, n.text !== null ? code(n.text) : h('span', { class: 'muted' }, '(made by the tool)')),
    h('dt', {}, 'shape'),
    h('dd', {}, n.shape.length ? `[${n.shape.join('×')}]` : 'scalar'),
    h('dt', {}, 'value'),
    h('dd', {}, computed(id) ? qty(n.shape, n.value, n.norm, 'value', 'value') : notYet('not computed yet')),
  ];
  if (seed)
    rows.push(
      h('dt', {}, `tangent ∂·/∂${seed.wrt}`),
      h('dd', {}, computed(id) ? qty(n.shape, seed.tangents[id], seed.norms[id], 'tangent', 'tangent') : notYet('not computed yet')),
    );
  else if (n.grad === null) rows.push(h('dt', {}, 'gradient ∂f/∂·'), h('dd', {}, notYet('none flows back here')));
  else
    rows.push(
      h('dt', {}, g?.partial ? 'gradient so far' : 'gradient ∂f/∂·'),
      h('dd', {}, g ? qty(n.shape, g.v, g.norm, 'grad', 'grad') : notYet('the backward pass has not reached it')),
    );
  if (n.inputs.length) rows.push(h('dt', {}, 'inputs'), h('dd', {}, n.inputs.map((i) => r.nodes[i].name).join(', ')));
  details.replaceChildren(
    h('h2', {}, `${n.kind === 'op' ? 'Node' : n.kind === 'input' ? 'Input' : 'Constant'} ${nodeTitle(n)}`),
    h('p', { class: 'muted' }, st.pinned === id ? 'pinned (click it again to unpin)' : 'hover, focus or click a node to see it here'),
    h('dl', { 'data-node': id }, ...rows),
  );
}

/**
 * The smallest scale: a node's text (11 units) is never drawn under 9 px, however large
 * the picture; past that it is scrolled (or dragged) rather than shrunk.
 */
const MIN_SCALE = 9 / 11;
const MAX_SCALE = 4;

/** The scale that fits the picture to its room (at most twice full size, never below MIN_SCALE). */
function fitScale(): number {
  const roomW = graphEl.clientWidth - 20;
  const roomH = (wide ? window.innerHeight * 0.6 : graphEl.clientHeight) - 20;
  return Math.max(MIN_SCALE, Math.min(roomW / picW, roomH / picH, 2));
}

function scale(): number {
  return zoom ?? fitScale();
}

function zoomTo(z: number | null): void {
  zoom = z === null ? null : Math.max(MIN_SCALE, Math.min(MAX_SCALE, z));
  layout();
}

function layout(): void {
  const s = scale();
  svg.setAttribute('width', String(Math.round(picW * s)));
  svg.setAttribute('height', String(Math.round(picH * s)));
  svg.dataset.scale = s.toFixed(3);
  zoomOut.disabled = s <= MIN_SCALE + 1e-9;
  zoomIn.disabled = s >= MAX_SCALE - 1e-9;
  zoomFit.setAttribute('aria-pressed', String(zoom === null));
}

// Ctrl (⌘) + wheel zooms about the pointer, as maps do; a plain wheel scrolls
graphEl.addEventListener(
  'wheel',
  (e) => {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    const before = scale();
    const box = graphEl.getBoundingClientRect();
    const px = e.clientX - box.left + graphEl.scrollLeft;
    const py = e.clientY - box.top + graphEl.scrollTop;
    zoomTo(before * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
    const k = scale() / before;
    graphEl.scrollLeft += px * (k - 1);
    graphEl.scrollTop += py * (k - 1);
  },
  { passive: false },
);
// dragging the background pans (a node keeps its click: it pins the node)
let drag: { x: number; y: number; left: number; top: number } | null = null;
graphEl.addEventListener('pointerdown', (e) => {
  if (e.button !== 0 || (e.target as Element).closest?.('g.node')) return;
  drag = { x: e.clientX, y: e.clientY, left: graphEl.scrollLeft, top: graphEl.scrollTop };
  graphEl.classList.add('ag-dragging');
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return;
  graphEl.scrollLeft = drag.left - (e.clientX - drag.x);
  graphEl.scrollTop = drag.top - (e.clientY - drag.y);
});
window.addEventListener('pointerup', () => {
  drag = null;
  graphEl.classList.remove('ag-dragging');
});

layout();
window.addEventListener('resize', layout);
render();
