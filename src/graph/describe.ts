import { getOp } from '../ops/index.js';
import type { Tape, TapeNode } from './tape.js';

/** How a node is named in explanations: its label, or its source text when short and plain. */
export function displayName(tape: Tape, n: TapeNode): string {
  if (n.op === 'input' || n.op === 'const' || n.name) return n.label;
  const text = n.span ? tape.source.slice(n.span.start, n.span.end).trim() : '';
  return text && text.length <= 24 ? text : n.label;
}

const ARG_NAMES = ['a', 'b', 'c', 'd'];

/**
 * The op table's local derivative ∂node/∂input_i, with a, b, … and s replaced by the
 * names of the actual inputs and the node (`cos(a)` → `cos(x)`, `b` → `z`).
 */
export function localFormula(tape: Tape, n: TapeNode, i: number): string {
  const raw = getOp(n.op).local(n.inputs.length, n.attrs, n.inputs.map((id) => tape.nodes[id].shape))[i] ?? '';
  const names = new Map<string, string>();
  n.inputs.forEach((id, k) => names.set(ARG_NAMES[k], displayName(tape, tape.nodes[id])));
  names.set('s', displayName(tape, n));
  return raw.replace(/\b[abcds]\b/g, (m, at: number) => {
    const name = names.get(m);
    if (name === undefined) return m;
    // a sole argument, f(a), needs no parentheses of its own
    const alone = raw[at - 1] === '(' && (raw[at + 1] === ')' || raw[at + 1] === ',') || raw[at - 1] === ',' && raw[at + 1] === ')';
    return alone ? name : wrap(name);
  });
}

function wrap(s: string): string {
  return /^[\w.#]+$/.test(s) || /^\w+\(.*\)$/.test(s) && balanced(s) ? s : `(${s})`;
}

function balanced(s: string): boolean {
  // f(...) counts as one term only when the outer parentheses match each other
  let d = 0;
  for (let i = s.indexOf('('); i < s.length; i++) {
    if (s[i] === '(') d++;
    else if (s[i] === ')') {
      d--;
      if (d === 0 && i !== s.length - 1) return false;
    }
  }
  return true;
}
