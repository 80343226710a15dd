import { getOp } from '../ops/index.js';
import { localText } from '../ops/text.js';
import { argIndex, argName, LOCAL_NAME } from '../ops/types.js';
import { shorten as shortenText } from '../safe-text.js';
import type { CallSite, Tape, TapeNode } from './tape.js';
import { instantiate, print, template, type LeafText, type Slot } from './tidy.js';

/**
 * How people see the graph: every node named by what they wrote — a step's name, the
 * source text it came from (inside an inline function, with the call's arguments put in
 * for its parameters), the call itself for a call's value — never by a generated label
 * like `add#3`; and every edge's local derivative in those names, tidied (`2*x`).
 */

/** Names longer than this are shortened for the human views (whole in --json's node `name`). */
export const MAX_NAME = 24;

const fullNames = new WeakMap<Tape, string[]>();

/** A node's name in full: what the formula says it is. */
export function fullName(tape: Tape, n: TapeNode): string {
  let memo = fullNames.get(tape);
  if (!memo) fullNames.set(tape, (memo = []));
  return (memo[n.id] ??= nameOf(tape, n));
}

const displayNames = new WeakMap<Tape, string[]>();

/** How a node is named in explanations: its full name, shortened with … when long (once: every edge at the node names it again). */
export function displayName(tape: Tape, n: TapeNode): string {
  let memo = displayNames.get(tape);
  if (!memo) displayNames.set(tape, (memo = []));
  return (memo[n.id] ??= shorten(fullName(tape, n)));
}

function nameOf(tape: Tape, n: TapeNode): string {
  if (n.op === 'input') return n.label;
  if (n.name) return n.name;
  // a variable held fixed (--wrt) is a constant named after itself
  if (n.op === 'const' && (/^[A-Za-z_]\w*$/.test(n.label) || !n.span)) return n.label;
  if (n.callRoot) return textIn(tape, n.callRoot.span, n.callRoot.parent);
  if (n.span) {
    const text = textIn(tape, n.span, n.call);
    // a node the builder made for another one's text (the transpose inside outer(u, v)) is named by what it does
    if (text && !n.inputs.some((i) => fullName(tape, tape.nodes[i]) === text)) return text;
  }
  return described(tape, n);
}

/** Source text of a span; inside a function's body, with the call's arguments put in for its parameters. */
function textIn(tape: Tape, span: { start: number; end: number }, site: CallSite | undefined): string {
  const text = tape.source
    .slice(span.start, span.end)
    .trim()
    .replace(/\s*\n\s*/g, ' ');
  if (!site) return text;
  return text.replace(/(?<![\w.])([A-Za-z_]\w*)(?!\w|\s*\()/g, (name) => {
    const k = site.params.indexOf(name);
    if (k < 0 || site.args[k] === undefined || site.args[k] < 0) return name;
    const arg = fullName(tape, tape.nodes[site.args[k]]);
    return atomic(arg) ? arg : `(${arg})`;
  });
}

/** A node with no text of its own: what it does to its inputs (`v'`, `neg(x)`). */
function described(tape: Tape, n: TapeNode): string {
  const ins = n.inputs.map((i) => shorten(fullName(tape, tape.nodes[i]), 4 * MAX_NAME));
  if (n.op === 'transpose' && ins.length === 1) return `${atomic(ins[0]) ? ins[0] : `(${ins[0]})`}'`;
  if (n.op === 'unaryMinus' && ins.length === 1) return `-${atomic(ins[0]) ? ins[0] : `(${ins[0]})`}`;
  if (n.op === 'const') return n.label;
  return `${getOp(n.op).label ?? n.op}(${ins.join(', ')})`;
}

/** A name that needs no parentheses as an operand: a name, a number, one call f(…), one index v[…]. */
export function atomic(s: string): boolean {
  if (/^[A-Za-z_]\w*$/.test(s) || /^\d+(\.\d+)?(e[+-]?\d+)?$/.test(s)) return true;
  // a name followed by whole bracket groups only: f(…), v[…], softmax(z)[y]
  const m = /^[A-Za-z_]\w*(?=[([])/.exec(s);
  if (!m) return false;
  let depth = 0;
  for (let i = m[0].length; i < s.length; i++) {
    if (s[i] === '(' || s[i] === '[') depth++;
    else if (s[i] === ')' || s[i] === ']') depth--;
    else if (depth === 0) return false;
  }
  return depth === 0;
}

/**
 * A long formula shortened for people: the innermost bracket groups become `…` first
 * (`1/(1+exp(-(w0*x0 + w1*x1 + w2)))` → `1/(1+exp(-(…)))`), then the end is cut.
 * The deepest group not already `(…)` goes first (the longest of the deepest), until the
 * text fits. Linear in the text's length (and a sort of its groups): every node of a long
 * formula is named by shortening its text, so anything more would be quadratic in all.
 */
export function shorten(s: string, max = MAX_NAME): string {
  if (s.length <= max) return s;
  const groups = bracketGroups(s);
  const byDepth: number[][] = [];
  groups.forEach((g, k) => (byDepth[g.depth] ??= []).push(k));
  // what collapsing the groups inside each one has saved so far: its length now is its length then less that
  const saved = new Array<number>(groups.length).fill(0);
  const now = (k: number) => groups[k].close - groups[k].open - saved[k];
  const collapsed = new Map<number, number>();
  let length = s.length;
  for (let depth = byDepth.length - 1; depth >= 0 && length > max; depth--) {
    // the longest of a depth first (as it is now), the earliest closed of equals (a stable sort)
    for (const k of (byDepth[depth] ?? []).sort((a, b) => now(b) - now(a))) {
      if (length <= max) break;
      const g = groups[k];
      length -= now(k) - 2;
      collapsed.set(g.open, g.close);
      if (g.parent >= 0) saved[g.parent] += g.close - g.open - 2;
    }
  }
  let t = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const close = collapsed.get(i);
    if (close === undefined) continue;
    t += `${s.slice(from, i + 1)}…`;
    from = i = close;
  }
  return shortenText(t + s.slice(from), max, 'end');
}

interface Group {
  open: number;
  close: number;
  /** brackets open around it */
  depth: number;
  /** the group just around it (-1: none) */
  parent: number;
}

/** Every matched bracket pair not already `(…)`, in the order they close. */
function bracketGroups(s: string): Group[] {
  const groups: Group[] = [];
  // the open brackets, and the groups closed inside each
  const stack: number[] = [];
  const pending: number[][] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(' || s[i] === '[') {
      stack.push(i);
      pending.push([]);
    } else if ((s[i] === ')' || s[i] === ']') && stack.length) {
      const open = stack.pop()!;
      const inside = pending.pop()!;
      if (i === open + 2 && s[open + 1] === '…') continue;
      const k = groups.length;
      groups.push({ open, close: i, depth: stack.length, parent: -1 });
      for (const c of inside) groups[c].parent = k;
      if (pending.length) pending[pending.length - 1].push(k);
    }
  }
  return groups;
}

/** The local derivative ∂node/∂input_i: as people read it (`text`) and in full names (`full`, valid mathjs where the names are). */
export interface LocalFormula {
  text: string;
  full: string;
}

/**
 * The op table's local derivative ∂node/∂input_i (ops/text.ts reads it off the rule), with a, b, … and s replaced by the
 * inputs and the node (`cos(a)` → `cos(x)`, `b` → `z`), scalar constants put in as
 * numbers and the result tidied (`b*a^(b-1)` with b = 2 is `2*x`).
 */
export function localFormula(tape: Tape, n: TapeNode, i: number): string {
  return localFormulaParts(tape, n, i).text;
}

export function localFormulaParts(tape: Tape, n: TapeNode, i: number): LocalFormula {
  const leaves = [...n.inputs.map((id) => tape.nodes[id]), n];
  const named = (name: (x: TapeNode) => string) => (x: TapeNode) => {
    const text = name(x);
    return { text, atomic: atomic(text) };
  };
  const text = localIn(
    tape,
    n,
    i,
    named((x) => displayName(tape, x)),
  );
  const full = localIn(
    tape,
    n,
    i,
    named((x) => fullName(tape, x)),
  );
  if (text !== null && full !== null) return { text, full };
  const raw = localRaw(tape, n, i);
  return { text: substituted(raw, leaves, (x) => displayName(tape, x)), full: substituted(raw, leaves, (x) => fullName(tape, x)) };
}

/** The op table's local derivative ∂node/∂input_i in a, b, … and s (ops/text.ts reads it off the rule). */
function localRaw(tape: Tape, n: TapeNode, i: number): string {
  return localText(
    n.op,
    n.attrs,
    n.inputs.map((id) => tape.nodes[id].shape),
    n.shape,
    i,
  );
}

/**
 * The local derivative ∂node/∂input_i with each input and the node written as `leaf`
 * says (scalar constants put in as numbers) and tidied; null when it is words.
 */
export function localIn(tape: Tape, n: TapeNode, i: number, leaf: (x: TapeNode) => LeafText): string | null {
  const t = template(localRaw(tape, n, i));
  if (!t) return null;
  const leaves = [...n.inputs.map((id) => tape.nodes[id]), n];
  const slots = new Map<string, Slot>();
  leaves.forEach((x, k) => {
    const letter = k < n.inputs.length ? argName(k) : 's';
    const v = x.op === 'const' && x.shape.length === 0 ? x.attrs.value?.data[0] : undefined;
    slots.set(letter, v !== undefined && Number.isFinite(v) ? { k: 'num', v, text: fullName(tape, x) } : { k: 'leaf', i: k });
  });
  return print(instantiate(t, slots), (k) => leaf(leaves[k]));
}

/** A template that is words (`1 at the index`): its letters replaced as they stand. */
function substituted(raw: string, leaves: TapeNode[], name: (x: TapeNode) => string): string {
  return raw.replace(LOCAL_NAME, (m, at: number) => {
    const k = m === 's' ? leaves.length - 1 : argIndex(m);
    if (k < 0 || k >= leaves.length) return m;
    const text = name(leaves[k]);
    // a sole argument, f(a), needs no parentheses of its own
    const next = raw[at + m.length];
    const alone = (raw[at - 1] === '(' && (next === ')' || next === ',')) || (raw[at - 1] === ',' && next === ')');
    return alone || atomic(text) ? text : `(${text})`;
  });
}
