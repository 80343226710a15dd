import { mathParse } from '../parse/mathjs.js';

/**
 * A local derivative written the way a person would: the op table's formula with the
 * node's inputs put in, then tidied by a handful of rules — numbers folded (`2-1` is 1,
 * `log(e)` is 1), `x^1`, `1*x`, `x*1`, `x+0` and `--x` dropped — so `x^2`'s local
 * derivative reads `2*x`, not `2*x^(2-1)`, and `e^x`'s reads `e^x`, not `(e^x)*log(e)`.
 * No algebra beyond that (mathjs simplify is far too slow to load for every `grad`).
 */

/** A formula as a small tree: numbers, the inputs put in (leaves), other names, operators, calls. */
export type Term =
  | { k: 'num'; v: number; text?: string }
  | { k: 'leaf'; i: number }
  | { k: 'sym'; name: string }
  | { k: 'op'; op: string; args: Term[] }
  | { k: 'fn'; name: string; args: Term[] }
  | { k: 'cond'; args: [Term, Term, Term] };

/** What the template's letters stand for: a number (a scalar constant input) or a leaf printed by the caller. */
export type Slot = { k: 'num'; v: number; text: string } | { k: 'leaf'; i: number };

const BINARY: Record<string, string> = {
  add: '+',
  subtract: '-',
  multiply: '*',
  divide: '/',
  pow: '^',
  dotMultiply: '.*',
  dotDivide: './',
  dotPow: '.^',
  larger: '>',
  smaller: '<',
  largerEq: '>=',
  smallerEq: '<=',
  equal: '==',
  unequal: '!=',
  and: 'and',
  or: 'or',
};

/** Binding strength: higher binds tighter. */
const PREC: Record<string, number> = {
  '?': 0,
  or: 1,
  and: 2,
  '>': 3,
  '<': 3,
  '>=': 3,
  '<=': 3,
  '==': 3,
  '!=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '.*': 5,
  './': 5,
  neg: 6,
  not: 6,
  '^': 7,
  '.^': 7,
  "'": 8,
};

const parsed = new Map<string, Term | null>();

/** The op table's template as a tree (null when it is words, like `1 at the index`); cached. */
export function template(text: string): Term | null {
  if (parsed.has(text)) return parsed.get(text)!;
  let t: Term | null;
  try {
    t = fromMath(mathParse(text) as unknown as MathLike);
  } catch {
    t = null;
  }
  parsed.set(text, t);
  return t;
}

interface MathLike {
  type: string;
  op?: string;
  fn?: string | { name: string };
  args?: MathLike[];
  name?: string;
  value?: unknown;
  content?: MathLike;
  condition?: MathLike;
  trueExpr?: MathLike;
  falseExpr?: MathLike;
}

function fromMath(n: MathLike): Term {
  switch (n.type) {
    case 'ConstantNode':
      if (typeof n.value !== 'number') throw new Error('not a number');
      return { k: 'num', v: n.value };
    case 'SymbolNode':
      return { k: 'sym', name: n.name! };
    case 'ParenthesisNode':
      return fromMath(n.content!);
    case 'ConditionalNode':
      return { k: 'cond', args: [fromMath(n.condition!), fromMath(n.trueExpr!), fromMath(n.falseExpr!)] };
    case 'FunctionNode':
      return { k: 'fn', name: (n.fn as { name: string }).name, args: n.args!.map(fromMath) };
    case 'OperatorNode': {
      const fn = n.fn as string;
      const args = n.args!.map(fromMath);
      if (fn === 'unaryMinus') return { k: 'op', op: 'neg', args };
      if (fn === 'unaryPlus') return args[0];
      if (fn === 'not') return { k: 'op', op: 'not', args };
      if (fn === 'transpose' || fn === 'ctranspose') return { k: 'op', op: "'", args };
      // words (`1 at the index`) parse as implicit products: not a formula
      if ((n as { implicit?: boolean }).implicit) throw new Error('implicit multiplication');
      if (BINARY[fn] && args.length === 2) return { k: 'op', op: BINARY[fn], args };
      throw new Error(`operator ${fn}`);
    }
    default:
      throw new Error(n.type);
  }
}

/** The template with its letters replaced (a, b, c, d the inputs, s the node itself), then tidied. */
export function instantiate(t: Term, slots: Map<string, Slot>): Term {
  return tidy(substitute(t, slots));
}

function substitute(t: Term, slots: Map<string, Slot>): Term {
  if (t.k === 'sym') return slots.get(t.name) ?? t;
  if (t.k === 'op' || t.k === 'fn') return { ...t, args: t.args.map((a) => substitute(a, slots)) };
  if (t.k === 'cond') return { k: 'cond', args: t.args.map((a) => substitute(a, slots)) as [Term, Term, Term] };
  return t;
}

const num = (v: number): Term => ({ k: 'num', v });
const isNum = (t: Term): t is { k: 'num'; v: number } => t.k === 'num';
/** The number v exactly. */
const is = (t: Term, v: number): boolean => t.k === 'num' && t.v === v;

/** Functions folded when every argument is a number (the result shown only when it is short). */
const FOLD: Record<string, (...x: number[]) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => Math.pow(a, b),
  neg: (a) => -a,
  log: (a) => Math.log(a),
  exp: (a) => Math.exp(a),
  sqrt: (a) => Math.sqrt(a),
};

/** A folded number is kept only when it reads at least as well as the arithmetic it replaces. */
function plain(v: number): boolean {
  return Number.isFinite(v) && String(v).length <= 6;
}

/** Bottom-up rules; each makes the tree smaller. */
function tidy(t: Term): Term {
  if (t.k === 'cond') {
    const [c, a, b] = t.args.map(tidy);
    if (isNum(c)) return c.v !== 0 ? a : b;
    return { k: 'cond', args: [c, a, b] };
  }
  if (t.k !== 'op' && t.k !== 'fn') return t;
  const args = t.args.map(tidy);
  const name = t.k === 'op' ? t.op : t.name;
  const values = args.map((a) => (a.k === 'num' ? a.v : NaN));
  if (FOLD[name] && args.length === FOLD[name].length && values.every((v) => !Number.isNaN(v))) {
    const v = FOLD[name](...values);
    if (plain(v)) return num(v);
  }
  if (t.k === 'fn') return { ...t, args };
  const [a, b] = args;
  switch (t.op) {
    case 'neg':
      if (isNum(a)) return num(-a.v);
      if (a.k === 'op' && a.op === 'neg') return a.args[0];
      break;
    case '*':
    case '.*':
      if (is(a, 1)) return b;
      if (is(b, 1)) return a;
      if (is(a, 0) || is(b, 0)) return num(0);
      if (is(a, -1)) return tidy({ k: 'op', op: 'neg', args: [b] });
      if (is(b, -1)) return tidy({ k: 'op', op: 'neg', args: [a] });
      break;
    case '/':
    case './':
      if (is(b, 1)) return a;
      if (is(a, 0)) return num(0);
      break;
    case '^':
    case '.^':
      if (is(b, 1)) return a;
      if (is(b, 0)) return num(1);
      break;
    case '+':
      if (is(a, 0)) return b;
      if (is(b, 0)) return a;
      if (b.k === 'op' && b.op === 'neg') return { k: 'op', op: '-', args: [a, b.args[0]] };
      break;
    case '-':
      if (is(b, 0)) return a;
      if (is(a, 0)) return tidy({ k: 'op', op: 'neg', args: [b] });
      if (b.k === 'op' && b.op === 'neg') return { k: 'op', op: '+', args: [a, b.args[0]] };
      if (isNum(b) && b.v < 0) return { k: 'op', op: '+', args: [a, num(-b.v)] };
      break;
    case '!=':
      // (x > 0) != 0 is x > 0: comparisons are 0 or 1 already
      if (is(b, 0) && a.k === 'op' && PREC[a.op] === 3) return a;
      break;
  }
  return { k: 'op', op: t.op, args };
}

/** How a leaf prints, and whether it needs parentheses as an operand. */
export interface LeafText {
  text: string;
  atomic: boolean;
}

/** Compact text as the tool writes formulas: `2*x`, `1 - s^2`, `-1/(1+exp(-t))^2`. */
export function print(t: Term, leaf: (i: number) => LeafText): string {
  return show(t, leaf).text;
}

function show(t: Term, leaf: (i: number) => LeafText): { text: string; prec: number } {
  switch (t.k) {
    case 'num':
      return { text: t.text ?? String(t.v), prec: t.v < 0 ? PREC.neg : 9 };
    case 'sym':
      return { text: t.name, prec: 9 };
    case 'leaf': {
      const l = leaf(t.i);
      return { text: l.text, prec: l.atomic ? 9 : -1 };
    }
    case 'fn':
      return { text: `${t.name}(${t.args.map((a) => print(a, leaf)).join(', ')})`, prec: 9 };
    case 'cond': {
      const [c, a, b] = t.args.map((x) => show(x, leaf));
      return { text: `${paren(c, 1)} ? ${paren(a, 1)} : ${paren(b, 0)}`, prec: 0 };
    }
    case 'op': {
      const p = PREC[t.op];
      if (t.op === "'") return { text: `${paren(show(t.args[0], leaf), p + 1)}'`, prec: p };
      if (t.op === 'neg') return { text: `-${paren(show(t.args[0], leaf), p)}`, prec: p };
      if (t.op === 'not') return { text: `not ${paren(show(t.args[0], leaf), p)}`, prec: p };
      const [a, b] = t.args.map((x) => show(x, leaf));
      // left-associative, except ^ (right-associative); a leaf that is not atomic is always wrapped
      const right = t.op === '^' || t.op === '.^';
      const la = paren(a, right ? p + 1 : p);
      const rb = paren(b, right ? p : p + 1);
      const spaced = p <= 4;
      return { text: spaced ? `${la} ${t.op} ${rb}` : `${la}${t.op}${rb}`, prec: p };
    }
  }
}

function paren(x: { text: string; prec: number }, min: number): string {
  return x.prec >= min ? x.text : `(${x.text})`;
}
