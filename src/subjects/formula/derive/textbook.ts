import type { MathNode } from 'mathjs';
import { OPS } from '../../../core/ops/index.js';
import { mathParse } from '../../../core/parse/mathjs.js';
import type { CrossCheck } from './check.js';

/**
 * Matrix derivatives as the Matrix Cookbook and matrixcalculus.org write them: simplify's
 * answer (`(x' * A)' + (x' * A')'`) rewritten with the rules of matrix algebra into the
 * book's (`(A + A') * x`). Every rule keeps the value; each node's shape is known from the
 * variables' shapes, so scalars commute and matrices never do:
 *
 * - transposes go through products and sums: (AB)' = B'A', (A + B)' = A' + B', (A')' = A,
 *   a scalar, eye(n) and diag(v) are their own transposes;
 * - identities go: A*eye(n) = eye(n)*A = A, ones(m,n) .* X = X when X is [m,n], A⁻¹A = I
 *   inside a longer product, inv(inv(A)) = A;
 * - scalar factors move to the front of a product (2 * W' * W * x), numbers multiply
 *   together, s and 1/s cancel, and X * s^(-1) is X / s;
 * - like terms are collected: A*x + A*x = 2 * A * x, A'*x + A*x = (A + A') * x (a common
 *   right factor), X*A + X*A' = X * (A + A') (a common left factor); a sum that cancels is 0
 *   (zeros of its shape inside a formula), and terms made of the same matrices come in the
 *   book's order, fewer transposes first (A*X*B + A'*X*B');
 * - with `guards` false, the guard `norm(X) == 0 ? 0 : X / norm(X)` is dropped, since the
 *   derivative holds only where the norm is not 0 (noted); and adj(A) is det(A) * inv(A),
 *   which holds where det(A) is not 0 (noted, unless it cancels: log det's adj(X)'/det(X)).
 *
 * derive cross-checks the rewritten form like any other (index.ts) and falls back to
 * simplify's form if it ever disagrees.
 */

/** 2-D shapes: [] a scalar, [m, n] a matrix; a vector [n] is the column [n, 1]. null: not known. */
type Shape = number[] | null;

type E =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  | { k: 'sym'; name: string }
  /** transpose */
  | { k: 't'; a: E }
  /** a chain of products, left to right (matrix products, and scalars times anything); `group`: a number made of matrices (x' * A * x), a factor of another product, in parentheses */
  | { k: 'mul'; fs: E[]; group?: boolean }
  /** 1/a of a scalar a (a factor of a product: `/ a`) */
  | { k: 'recip'; a: E }
  | { k: 'sum'; ts: E[] }
  /** any other operator (.* ./ .^ ^ comparisons), as written */
  | { k: 'bin'; op: string; a: E; b: E }
  | { k: 'call'; fn: string; args: E[] }
  | { k: 'cond'; c: E; a: E; b: E }
  /** anything else, as mathjs prints it (an entry v[2] binds like a call: prec 9) */
  | { k: 'raw'; text: string; prec: number }
  /** a matrix (or vector) of zeros: a sum that cancelled (A - A' + A' - A), or a product with one; `was`, the form it came from */
  | { k: 'zero'; shape: number[]; was: E };

export interface Textbook {
  text: string;
  /** what the form assumes (a norm that is not 0) */
  notes: string[];
}

export interface TextbookOptions {
  /** keep `norm(X) == 0 ? 0 : …` guards (when the point checked is where the norm is 0) */
  guards?: boolean;
}

/** Longer derivatives are left as simplify wrote them (as simplify leaves longer ones as accumulated). */
const MAX_CHARS = 20_000;

/** At most this many passes of the rules (each pass runs them all bottom-up). */
const PASSES = 12;

/** Functions of one argument that return a scalar. */
const SCALAR_FNS = new Set(['det', 'logdet', 'trace', 'sum', 'mean', 'prod', 'max', 'min', 'norm', 'logsumexp', 'dot']);

/**
 * `expr` (a derivative as simplify printed it) in the book's form; `shapes` are the
 * variables' shapes. The text comes back unchanged when no rule applies.
 */
export function textbook(expr: string, shapes: Record<string, readonly number[]>, opts: TextbookOptions = {}): Textbook {
  const unchanged = { text: expr, notes: [] };
  if (expr.length > MAX_CHARS) return unchanged;
  const ctx: Ctx = { shapes, guards: opts.guards ?? false, dropped: new Map(), memo: new WeakMap() };
  let parsed: MathNode;
  try {
    parsed = mathParse(expr);
  } catch {
    // text mathjs cannot read: left as simplify wrote it
    return unchanged;
  }
  // a derivative written as named steps (t1 = …; formula) is left as its steps were simplified
  if (parsed.type === 'BlockNode' || parsed.type === 'AssignmentNode') return unchanged;
  let text: string;
  try {
    let tree = fromMath(parsed, shapes);
    text = printWhole(tree);
    for (let pass = 0; pass < PASSES; pass++) {
      tree = rewrite(tree, ctx);
      const next = printWhole(tree);
      if (next === text) break;
      text = next;
    }
  } catch (e) {
    // nested deeper than the stack: left as simplify wrote it
    if (e instanceof RangeError) return unchanged;
    throw e;
  }
  if (text === expr) return unchanged;
  // a guard dropped says what the form assumes, if what it guarded is still in the form (norm * X / norm cancels it)
  const notes = [...ctx.dropped]
    .filter(([s]) => text.includes(s))
    .map(([s, kind]) =>
      kind === 'norm'
        ? `this form holds where ${s} ≠ 0; where it is 0 the derivative does not exist and reverse mode gives 0 (PyTorch's convention)`
        : `this form holds where ${s} ≠ 0; where it is 0 the derivative is ${s.replace(/^det/, 'adj')}' (the adjugate), which reverse mode gives`,
    );
  return { text, notes };
}

/**
 * derive's hook: the derivative to show, in the book's form when that agrees with reverse
 * mode (`judge`, derive's cross-check) at least wherever the form it came from does (a
 * form without a norm's guard that is not finite at a point checked, where the norm is 0,
 * keeps the guard). The book's form of simplify's answer first; when simplify's answer
 * itself disagrees (mathjs may write X*X as X^2), the book's form of the accumulated one.
 * null: neither applies (derive goes on with simplify's and the accumulated forms).
 */
export function preferTextbook(
  simplified: string,
  accumulated: string,
  shapes: Record<string, readonly number[]>,
  judge: (text: string) => CrossCheck | null,
  what: string,
  notes: string[],
): (Textbook & { check: CrossCheck }) | null {
  const first = bookForm(simplified, shapes, judge);
  if (first && 'check' in first) return first;
  const plain = judge(simplified);
  if (plain?.passed) {
    if (first) notes.push(`the textbook form ${first.failed} disagrees with reverse mode; simplify's form is shown (a bug in autograd-cli: please report it)`);
    return { text: simplified, notes: [], check: plain };
  }
  if (accumulated === simplified) return null;
  const second = bookForm(accumulated, shapes, judge);
  if (!second || !('check' in second)) return null;
  notes.push(`simplify changed ${what} into a formula that disagrees with reverse mode (${simplified}); the accumulated form is shown, in the book's form`);
  return second;
}

/** The book's form of `expr` with its check; `failed` when it disagrees; null when no rule applies. */
function bookForm(
  expr: string,
  shapes: Record<string, readonly number[]>,
  judge: (text: string) => CrossCheck | null,
): (Textbook & { check: CrossCheck }) | { failed: string } | null {
  let book = textbook(expr, shapes);
  if (book.text === expr) return null;
  let check = judge(book.text);
  if (check?.passed && book.notes.length) {
    const base = judge(expr);
    if (base?.passed && base.skipped < check.skipped) {
      book = textbook(expr, shapes, { guards: true });
      if (book.text === expr) return null;
      check = judge(book.text);
    }
  }
  return check?.passed ? { ...book, check } : { failed: book.text };
}

/** Constants sized for particular shapes (eye(3), ones(3, 4), a onehot length, an array literal): the form holds for those shapes only. */
export function hasSizedConstant(text: string): boolean {
  // an array literal, not an index and not the empty [] of max(A, [], d)
  return /\b(eye|ones|zeros|onehot)\(/.test(text) || /(^|[^\w)\]'])\[(?!\s*\])/.test(text);
}

interface Ctx {
  shapes: Record<string, readonly number[]>;
  guards: boolean;
  /** the scalars a form assumes are not 0, as printed: a norm whose `== 0` guard was dropped, a det of adj = det·inv */
  dropped: Map<string, 'norm' | 'det'>;
  memo: WeakMap<E, Shape>;
}

// ---------------------------------------------------------------------------------------------
// from mathjs

interface MNode {
  type: string;
  op?: string;
  fn?: string | { name?: string };
  args?: MNode[];
  content?: MNode;
  value?: unknown;
  name?: string;
  condition?: MNode;
  trueExpr?: MNode;
  falseExpr?: MNode;
  toString(opts?: object): string;
}

function fromMath(node: MathNode, shapes: Record<string, readonly number[]>): E {
  const ctxShape: Ctx = { shapes, guards: true, dropped: new Map(), memo: new WeakMap() };
  const go = (m: MNode): E => {
    switch (m.type) {
      case 'ParenthesisNode':
        return go(m.content!);
      case 'ConstantNode':
        if (typeof m.value === 'number') return { k: 'num', v: m.value };
        if (typeof m.value === 'string') return { k: 'str', v: m.value };
        return raw(m);
      case 'SymbolNode':
        return { k: 'sym', name: m.name! };
      case 'ConditionalNode':
        return { k: 'cond', c: go(m.condition!), a: go(m.trueExpr!), b: go(m.falseExpr!) };
      case 'FunctionNode': {
        const name = typeof m.fn === 'object' ? m.fn.name : undefined;
        if (!name) return raw(m);
        const args = m.args!.map(go);
        if (name === 'transpose' && args.length === 1) return { k: 't', a: args[0] };
        return { k: 'call', fn: name, args };
      }
      case 'OperatorNode': {
        const args = m.args!.map(go);
        const [a, b] = args;
        switch (m.fn) {
          case 'add':
            return { k: 'sum', ts: [a, b] };
          case 'subtract':
            return { k: 'sum', ts: [a, negate(b)] };
          case 'unaryMinus':
            return negate(a);
          case 'unaryPlus':
            return a;
          case 'multiply':
            return { k: 'mul', fs: [a, b] };
          case 'divide':
            return shapeOf(b, ctxShape)?.length === 0 ? { k: 'mul', fs: [a, { k: 'recip', a: b }] } : { k: 'bin', op: '/', a, b };
          case 'ctranspose':
          case 'transpose':
            return { k: 't', a };
          case 'pow':
            if (b.k === 'num' && b.v === -1 && shapeOf(a, ctxShape)?.length === 0) return { k: 'recip', a };
            return { k: 'bin', op: '^', a, b };
          default:
            return args.length === 2 && m.op ? { k: 'bin', op: m.op, a, b } : raw(m);
        }
      }
      default:
        return raw(m);
    }
  };
  return go(node as unknown as MNode);
}

function raw(m: MNode): E {
  return { k: 'raw', text: m.toString({ parenthesis: 'keep', implicit: 'show' }), prec: m.type === 'AccessorNode' || m.type === 'ArrayNode' ? 9 : 0 };
}

function negate(e: E): E {
  if (e.k === 'num') return { k: 'num', v: -e.v };
  return { k: 'mul', fs: [{ k: 'num', v: -1 }, e] };
}

// ---------------------------------------------------------------------------------------------
// shapes

function shapeOf(e: E, ctx: Ctx): Shape {
  const hit = ctx.memo.get(e);
  if (hit !== undefined) return hit;
  const s = computeShape(e, ctx);
  ctx.memo.set(e, s);
  return s;
}

const col = (s: readonly number[]): number[] => (s.length === 1 ? [s[0], 1] : [...s]);
const same = (a: Shape, b: Shape) => a !== null && b !== null && a.length === b.length && a.every((d, i) => d === b[i]);

/** Elementwise broadcast as far as the rules need it: equal shapes, or scalars with one shape. */
function broadcast(ss: Shape[]): Shape {
  let out: number[] = [];
  for (const s of ss) {
    if (s === null) return null;
    if (s.length === 0) continue;
    if (out.length === 0) out = s;
    else if (!same(out, s)) return null;
  }
  return out;
}

function computeShape(e: E, ctx: Ctx): Shape {
  switch (e.k) {
    case 'num':
    case 'str':
      return [];
    case 'sym': {
      const s = ctx.shapes[e.name];
      if (s) return s.length > 2 ? null : col(s);
      return ['pi', 'e', 'Infinity'].includes(e.name) ? [] : null;
    }
    case 't': {
      const s = shapeOf(e.a, ctx);
      return s === null ? null : s.length === 0 ? [] : [s[1], s[0]];
    }
    case 'mul': {
      let acc: number[] = [];
      for (const f of e.fs) {
        const s = shapeOf(f, ctx);
        if (s === null) return null;
        if (s.length === 0) continue;
        if (acc.length === 0) acc = s;
        else if (acc[1] === s[0]) {
          // a 1×1 product is a number (u'*v)
          acc = acc[0] === 1 && s[1] === 1 ? [] : [acc[0], s[1]];
        } else return null;
      }
      return acc;
    }
    case 'recip':
      return shapeOf(e.a, ctx)?.length === 0 ? [] : null;
    case 'sum':
      return broadcast(e.ts.map((t) => shapeOf(t, ctx)));
    case 'bin':
      if (e.op === '^') return shapeOf(e.a, ctx)?.length === 0 && shapeOf(e.b, ctx)?.length === 0 ? [] : null;
      if (['.*', './', '.^', '+', '-', '==', '!=', '<', '>', '<=', '>='].includes(e.op)) return broadcast([shapeOf(e.a, ctx), shapeOf(e.b, ctx)]);
      return null;
    case 'cond': {
      const a = shapeOf(e.a, ctx);
      const b = shapeOf(e.b, ctx);
      return broadcast([a, b]);
    }
    case 'call':
      return callShape(e.fn, e.args, ctx);
    case 'raw':
      return null;
    case 'zero':
      return e.shape;
  }
}

function callShape(fn: string, args: E[], ctx: Ctx): Shape {
  const nums = args.map((a) => (a.k === 'num' && Number.isInteger(a.v) && a.v > 0 ? a.v : null));
  if (fn === 'eye' && args.length === 1 && nums[0] !== null) return [nums[0], nums[0]];
  if ((fn === 'ones' || fn === 'zeros') && nums.every((n) => n !== null)) {
    if (args.length === 1) return [nums[0]!, 1];
    if (args.length === 2) return [nums[0]!, nums[1]!];
    return null;
  }
  if (fn === 'onehot' && args.length === 2 && nums[1] !== null) return [nums[1], 1];
  if (SCALAR_FNS.has(fn) && (args.length === 1 || fn === 'norm' || fn === 'dot')) return [];
  // diag of a vector is the square matrix with it on its diagonal; diag of an [m,n] matrix its diagonal, a vector
  if (fn === 'diag' && args.length === 1) {
    const s = shapeOf(args[0], ctx);
    if (s !== null && s.length === 2 && s[1] === 1 && isVector(args[0], ctx)) return [s[0], s[0]];
    return s !== null && s.length === 2 && s[0] > 1 && s[1] > 1 ? [Math.min(s[0], s[1]), 1] : null;
  }
  if (fn === 'inv' && args.length === 1) {
    const s = shapeOf(args[0], ctx);
    return s !== null && (s.length === 0 || s[0] === s[1]) ? s : null;
  }
  // an elementwise function of one argument keeps its shape
  if (args.length === 1 && OPS.get(fn)?.family === 'elementwise') return shapeOf(args[0], ctx);
  return null;
}

// ---------------------------------------------------------------------------------------------
// the rules

/**
 * e is a vector [n] in the formula language, not an [n,1] matrix (the shapes here write both
 * as [n,1]): a vector variable, a matrix's diagonal, matrices times one, or entry by entry, a
 * sum or a multiple of such.
 */
function isVector(e: E, ctx: Ctx): boolean {
  const vec = (x: E) => shapeOf(x, ctx)?.length === 0 || isVector(x, ctx);
  switch (e.k) {
    case 'sym':
      return ctx.shapes[e.name]?.length === 1;
    case 'call': {
      if (e.fn === 'diag') return e.args.length === 1 && (shapeOf(e.args[0], ctx)?.every((d) => d > 1) ?? false);
      return e.args.length === 1 && OPS.get(e.fn)?.family === 'elementwise' && isVector(e.args[0], ctx);
    }
    case 'sum':
      return e.ts.some((t) => isVector(t, ctx)) && e.ts.every(vec);
    case 'mul': {
      // a multiple of a vector, or matrices times a vector (A * v is a vector)
      const chain = e.fs.filter((f) => shapeOf(f, ctx)?.length !== 0);
      return (
        chain.length > 0 && isVector(chain[chain.length - 1], ctx) && chain.slice(0, -1).every((f) => !isVector(f, ctx) && !(f.k === 't' && isVector(f.a, ctx)))
      );
    }
    case 'zero':
      return isVector(e.was, ctx);
    case 'bin':
      return ['.*', './', '.^'].includes(e.op) && (isVector(e.a, ctx) || isVector(e.b, ctx)) && vec(e.a) && vec(e.b);
    default:
      return false;
  }
}

function rewrite(e: E, ctx: Ctx): E {
  switch (e.k) {
    case 'num':
    case 'str':
    case 'sym':
    case 'raw':
    case 'zero':
      return e;
    case 't':
      return transpose(rewrite(e.a, ctx), ctx);
    case 'mul':
      return product(
        e.fs.map((f) => rewrite(f, ctx)),
        ctx,
      );
    case 'recip':
      return { k: 'recip', a: rewrite(e.a, ctx) };
    case 'sum':
      return sum(
        e.ts.map((t) => rewrite(t, ctx)),
        ctx,
      );
    case 'bin':
      return binary(e.op, rewrite(e.a, ctx), rewrite(e.b, ctx), ctx);
    case 'call': {
      const args = e.args.map((a) => rewrite(a, ctx));
      // adj(A) = det(A)·inv(A), the book's form where A is invertible (noted; kept with `guards` for a singular point checked)
      if (!ctx.guards && e.fn === 'adj' && args.length === 1 && shapeOf(args[0], ctx)?.length === 2) {
        const det: E = { k: 'call', fn: 'det', args };
        ctx.dropped.set(print(det), 'det');
        return product([det, { k: 'call', fn: 'inv', args }], ctx);
      }
      // inv(inv(A)) = A
      const inner = args[0];
      if (e.fn === 'inv' && args.length === 1 && inner.k === 'call' && inner.fn === 'inv' && inner.args.length === 1) return inner.args[0];
      return { k: 'call', fn: e.fn, args };
    }
    case 'cond':
      return conditional(rewrite(e.c, ctx), rewrite(e.a, ctx), rewrite(e.b, ctx), ctx);
  }
}

/** a': through products and sums, off scalars and identities, (A')' = A. */
function transpose(a: E, ctx: Ctx): E {
  const s = shapeOf(a, ctx);
  if (s === null) return { k: 't', a };
  if (s.length === 0) return a;
  if (a.k === 'zero') return zeroOf([s[1], s[0]], { k: 't', a });
  if (a.k === 't') return a.a;
  if (a.k === 'mul') return { k: 'mul', fs: [...a.fs].reverse().map((f) => transpose(f, ctx)) };
  if (a.k === 'sum') return { k: 'sum', ts: a.ts.map((t) => transpose(t, ctx)) };
  // the identity and a diagonal matrix diag(v) are their own transposes
  if (a.k === 'call' && (a.fn === 'eye' || (a.fn === 'diag' && s[0] === s[1] && s[0] > 1))) return a;
  return { k: 't', a };
}

const isNum = (e: E, v?: number): e is { k: 'num'; v: number } => e.k === 'num' && (v === undefined || e.v === v);
/** 0 of a shape: the number 0 for a scalar, else a matrix of zeros that remembers the form it came from */
const zeroOf = (shape: number[], was: E): E => (shape.length === 0 ? { k: 'num', v: 0 } : { k: 'zero', shape, was });
const isZero = (e: E) => isNum(e, 0) || e.k === 'zero';
const isEye = (e: E) => e.k === 'call' && e.fn === 'eye';

/** A product: flattened, scalars first (numbers multiplied), s/s cancelled, identities dropped. */
function product(fs: E[], ctx: Ctx): E {
  const whole: E = { k: 'mul', fs };
  const shape = shapeOf(whole, ctx);
  if (shape === null) return whole;
  // a factor 0 (a sum that cancelled) makes the product 0 of its shape
  if (fs.some(isZero)) return zeroOf(shape, whole);
  // a product inside a product is the same chain, unless it is a number made of matrices (u'*v): that stays one factor
  const flat: E[] = [];
  for (const f of fs) {
    if (f.k === 'mul' && (shapeOf(f, ctx)?.length !== 0 || f.fs.every((g) => shapeOf(g, ctx)?.length === 0))) flat.push(...f.fs);
    else flat.push(f.k === 'mul' && !f.group ? { ...f, group: true } : f);
  }
  let coef = 1;
  const scalars: E[] = [];
  let chain: E[] = [];
  for (const f of flat) {
    if (isNum(f)) coef *= f.v;
    else if (f.k === 'mul' && f.fs.length > 0 && isNum(f.fs[0]) && shapeOf(f, ctx)?.length === 0) {
      // a scalar product with a coefficient: the coefficient joins ours
      coef *= f.fs[0].v;
      const rest = f.fs.slice(1);
      scalars.push(rest.length === 1 ? rest[0] : { k: 'mul', fs: rest, group: true });
    } else if (shapeOf(f, ctx)?.length === 0) scalars.push(f);
    else chain.push(f);
  }
  // a stretch of the chain that is a number (x' * A * x in A' * x * x' * A * x) is a scalar factor: P * (x' * A * x) * Q = (x' * A * x) * P * Q
  for (let found = scalarStretch(chain, ctx); found; found = scalarStretch(chain, ctx)) {
    const [i, j] = found;
    scalars.push({ k: 'mul', fs: chain.slice(i, j + 1), group: true });
    chain = [...chain.slice(0, i), ...chain.slice(j + 1)];
  }
  // s and 1/s cancel
  for (let i = 0; i < scalars.length; i++) {
    const f = scalars[i];
    const key = print(f.k === 'recip' ? f.a : f);
    const j = scalars.findIndex((g, k) => k !== i && (f.k === 'recip' ? g.k !== 'recip' : g.k === 'recip') && print(g.k === 'recip' ? g.a : g) === key);
    if (j >= 0) {
      scalars.splice(Math.max(i, j), 1);
      scalars.splice(Math.min(i, j), 1);
      i = -1;
    }
  }
  // A⁻¹A = AA⁻¹ = I (and transposed), when something else is left in the chain
  for (let i = 0; i + 1 < chain.length && chain.length > 2; i++) {
    if (inverses(chain[i], chain[i + 1]) || inverses(chain[i + 1], chain[i])) {
      chain.splice(i, 2);
      i = -1;
    }
  }
  // the identity times anything is that thing (the chain's shapes agree, or it would have no shape)
  if (chain.some((f) => !isEye(f))) chain = chain.filter((f) => !isEye(f));
  else if (chain.length > 1) chain = [chain[0]];
  if (coef === 0) return zeroOf(shape, whole);
  const out: E[] = [...(coef !== 1 ? [{ k: 'num', v: coef } as E] : []), ...scalars, ...chain];
  if (out.length === 0) return { k: 'num', v: 1 };
  if (out.length === 1) return out[0];
  return { k: 'mul', fs: out };
}

/** f is inv(g), or f' is inv(g)'. */
function inverses(f: E, g: E): boolean {
  if (f.k === 't' && g.k === 't') return inverses(f.a, g.a);
  return f.k === 'call' && f.fn === 'inv' && f.args.length === 1 && print(f.args[0]) === print(g);
}

/** The first stretch [i, j] of a chain of matrices whose product is 1×1 (a row times … times a column), not the whole chain. */
function scalarStretch(chain: E[], ctx: Ctx): [number, number] | null {
  const shapes = chain.map((f) => shapeOf(f, ctx)!);
  for (let i = 0; i < chain.length; i++) {
    if (shapes[i][0] !== 1) continue;
    for (let j = i + 1; j < chain.length; j++) {
      if (shapes[j][1] !== 1) continue;
      if (i === 0 && j === chain.length - 1) return null;
      return [i, j];
    }
  }
  return null;
}

/** A term split as coefficient × scalar factors × the chain of matrices. */
interface Parts {
  coef: number;
  scalars: E[];
  chain: E[];
}

function partsOf(e: E, ctx: Ctx): Parts {
  if (isNum(e)) return { coef: e.v, scalars: [], chain: [] };
  if (e.k !== 'mul') return shapeOf(e, ctx)?.length === 0 ? { coef: 1, scalars: [e], chain: [] } : { coef: 1, scalars: [], chain: [e] };
  const p: Parts = { coef: 1, scalars: [], chain: [] };
  for (const f of e.fs) {
    if (isNum(f)) p.coef *= f.v;
    else if (shapeOf(f, ctx)?.length === 0) p.scalars.push(f);
    else p.chain.push(f);
  }
  return p;
}

function fromParts(p: Parts, ctx: Ctx): E {
  return product([{ k: 'num', v: p.coef }, ...p.scalars, ...p.chain], ctx);
}

/** A sum: flattened, 0s dropped, like terms collected, common right or left factors taken out. */
function sum(ts: E[], ctx: Ctx): E {
  const whole: E = { k: 'sum', ts };
  const shape = shapeOf(whole, ctx);
  if (shape === null) return whole;
  let terms: E[] = [];
  for (const t of ts) for (const u of t.k === 'sum' ? t.ts : [t]) if (!isZero(u)) terms.push(u);
  // a 0 (a scalar broadcast, or zeros of the sum's shape) adds nothing, but a sum of only 0s is 0
  if (terms.length === 0) return zeroOf(shape, whole);
  // like terms: the same factors, coefficients added
  const parts = terms.map((t) => partsOf(t, ctx));
  // scalars commute: their order is no part of the key
  const keyOf = (p: Parts) => [...p.scalars.map(print).sort(), ...p.chain.map(print)].join(' * ');
  const merged: Parts[] = [];
  const at = new Map<string, number>();
  for (const p of parts) {
    const key = keyOf(p);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, merged.length);
      merged.push({ ...p });
    } else merged[i].coef += p.coef;
  }
  const kept = merged.filter((p) => p.coef !== 0);
  // everything cancelled (A - A' + (A' - A)): 0 of the sum's shape
  if (kept.length === 0) return zeroOf(shape, whole);
  let group = collect(kept, 'right', ctx) ?? collect(kept, 'left', ctx);
  while (group) {
    const next = collect(group, 'right', ctx) ?? collect(group, 'left', ctx);
    if (!next) break;
    group = next;
  }
  terms = bookOrder((group ?? kept).map((p) => fromParts(p, ctx)));
  // a column [n,1] that cancelled or was 0 made the sum of vectors a column: without it the sum would be a vector, so it stays as it was
  const column = (t: E) => shapeOf(t, ctx)?.[1] === 1 && shape[0] > 1 && !isVector(t, ctx);
  if (ts.flatMap((t) => (t.k === 'sum' ? t.ts : [t])).some(column) && terms.every((t) => isVector(t, ctx) || shapeOf(t, ctx)?.length === 0)) return whole;
  return terms.length === 1 ? terms[0] : { k: 'sum', ts: terms };
}

/**
 * The terms of a sum in the book's order: terms made of the same matrices (A*X*B and
 * A'*X*B') added before subtracted, then fewer transposes first (Cookbook eq. 117:
 * B*X*C + B'*X*C'); each keeps the places its kind had, and other terms stay where they are.
 */
function bookOrder(terms: E[]): E[] {
  const texts = terms.map(print);
  const kind = (text: string) => [...(text.match(/[A-Za-z_]\w*/g) ?? [])].sort().join(' ');
  const rank = (i: number) => (negated(terms[i]) ? 1_000_000 : 0) + (texts[i].match(/'/g)?.length ?? 0);
  const places = new Map<string, number[]>();
  texts.forEach((t, i) => places.set(kind(t), [...(places.get(kind(t)) ?? []), i]));
  const out = [...terms];
  for (const at of places.values()) {
    const sorted = [...at].sort((i, j) => rank(i) - rank(j) || i - j);
    at.forEach((place, k) => (out[place] = terms[sorted[k]]));
  }
  return out;
}

/**
 * Take out a common factor: terms whose chains end (right) or start (left) with the same
 * matrices become one term, (L1 + L2) * R or L * (R1 + R2); each keeps at least one matrix
 * of its own, and those remainders have one shape. The remainders are ordered as the book
 * writes them (A before A'). null: no two terms share a factor.
 */
function collect(terms: Parts[], side: 'right' | 'left', ctx: Ctx): Parts[] | null {
  const end = (p: Parts, k: number) => (side === 'right' ? p.chain[p.chain.length - 1 - k] : p.chain[k]);
  for (let i = 0; i < terms.length; i++) {
    const a = terms[i];
    if (a.chain.length < 2) continue;
    const key0 = print(end(a, 0));
    const group = terms.map((p, j) => (j >= i && p.chain.length >= 2 && print(end(p, 0)) === key0 ? j : -1)).filter((j) => j >= 0);
    if (group.length < 2) continue;
    // the longest common end that leaves each term a matrix of its own
    let n = 1;
    for (;;) {
      const k = n;
      const keys = group.map((j) => (terms[j].chain.length > k + 1 ? print(end(terms[j], k)) : null));
      if (keys.some((x) => x === null || x !== keys[0])) break;
      n++;
    }
    const common = side === 'right' ? a.chain.slice(a.chain.length - n) : a.chain.slice(0, n);
    const parts = group.map((j) => {
      const p = terms[j];
      const chain = side === 'right' ? p.chain.slice(0, p.chain.length - n) : p.chain.slice(n);
      return { coef: p.coef, scalars: p.scalars, chain };
    });
    // scalars every term has go outside too: s*A*x + s*B*x = s * (A + B) * x
    const outside = commonScalars(parts);
    const rest = parts.map((p) => fromParts(p, ctx));
    const shapes = rest.map((r) => shapeOf(r, ctx));
    if (!shapes.every((s) => s !== null && s.length === 2 && same(s, shapes[0]))) continue;
    // the book's order: added terms before subtracted ones, then by the text without its coefficient, so A comes before A' and a*b' before b*a'
    const ordered = rest
      .map((r, k) => ({ r, minus: print(r).startsWith('-') ? 1 : 0, key: print(r).replace(/^-?(\d[\d.e+-]* \* )?/, ''), k }))
      .sort((x, y) => x.minus - y.minus || (x.key < y.key ? -1 : x.key > y.key ? 1 : x.k - y.k))
      .map((x) => x.r);
    const inner: E = { k: 'sum', ts: ordered };
    const chain = side === 'right' ? [inner, ...common] : [...common, inner];
    const out: Parts = { coef: outside.coef, scalars: outside.scalars, chain };
    return terms.flatMap((p, j) => (j === group[0] ? [out] : group.includes(j) ? [] : [p]));
  }
  return null;
}

/** Takes out of `parts` (in place) the coefficient and the scalar factors they all have. */
function commonScalars(parts: Parts[]): { coef: number; scalars: E[] } {
  const coef = parts.every((p) => p.coef === parts[0].coef) ? parts[0].coef : 1;
  const scalars: E[] = [];
  for (const s of parts[0].scalars) {
    const key = print(s);
    if (!parts.every((p) => p.scalars.some((t) => print(t) === key))) continue;
    scalars.push(s);
    for (const p of parts) {
      const i = p.scalars.findIndex((t) => print(t) === key);
      p.scalars = p.scalars.filter((_, k) => k !== i);
    }
  }
  for (const p of parts) p.coef /= coef;
  return { coef, scalars };
}

/** ones(m,n) .* X = X .* ones(m,n) = X when X is [m,n]; (1 ./ d) .* e = e ./ d; numbers move out of a .* product; a square matrix's X^2 (simplify's X*X) is X * X. */
function binary(op: string, a: E, b: E, ctx: Ctx): E {
  if (op === '^' && isNum(b) && Number.isInteger(b.v) && b.v >= 2 && b.v <= 4) {
    const s = shapeOf(a, ctx);
    if (s !== null && s.length === 2 && s[0] === s[1] && s[0] > 1)
      return product(
        Array.from({ length: b.v }, () => a),
        ctx,
      );
  }
  if (op === '.*') {
    const shape = broadcast([shapeOf(a, ctx), shapeOf(b, ctx)]);
    if (shape !== null && (isZero(a) || isZero(b))) return zeroOf(shape, { k: 'bin', op, a, b });
    const isOnes = (e: E) => e.k === 'call' && e.fn === 'ones';
    if (isOnes(a) && same(shapeOf(a, ctx), shapeOf(b, ctx))) return b;
    if (isOnes(b) && same(shapeOf(a, ctx), shapeOf(b, ctx))) return a;
    if (shape !== null) {
      // (1 ./ d) .* e = e ./ d
      const over = (e: E) => e.k === 'bin' && e.op === './' && isNum(e.a, 1);
      if (over(a)) return binary('./', b, (a as { b: E }).b, ctx);
      if (over(b)) return binary('./', a, (b as { b: E }).b, ctx);
      // a number factor moves out of an entry-by-entry product: a .* (-y) = -(a .* y)
      const split = (e: E): [number, E] | null =>
        e.k === 'mul' && e.fs.length > 1 && isNum(e.fs[0]) ? [e.fs[0].v, e.fs.length === 2 ? e.fs[1] : { k: 'mul', fs: e.fs.slice(1) }] : null;
      const sa = split(a);
      const sb = split(b);
      if (sa || sb) return product([{ k: 'num', v: (sa?.[0] ?? 1) * (sb?.[0] ?? 1) }, binary(op, sa?.[1] ?? a, sb?.[1] ?? b, ctx)], ctx);
    }
  }
  return { k: 'bin', op, a, b };
}

/**
 * `(s == 0) ? 0 : e`, the guard of a norm's derivative, is `e` where s ≠ 0: dropped (and
 * noted) unless the point checked needs it (`guards`).
 */
function conditional(c: E, a: E, b: E, ctx: Ctx): E {
  if (!ctx.guards && c.k === 'bin' && c.op === '==' && isNum(a, 0)) {
    const s = isNum(c.b, 0) ? c.a : isNum(c.a, 0) ? c.b : null;
    if (s && shapeOf(s, ctx)?.length === 0 && shapeOf(b, ctx) !== null) {
      ctx.dropped.set(print(s), 'norm');
      return b;
    }
  }
  return { k: 'cond', c, a, b };
}

// ---------------------------------------------------------------------------------------------
// printing, as mathjs prints (spaces around binary operators), with the parentheses needed

/** binding strength: 9 a name, number or call; 8 a transpose; 7 a power; 6 a sign; 5 products; 4 sums; 3 comparisons; 0 a conditional */
const PREC: Record<string, number> = { '^': 7, '.^': 7, '.*': 5, './': 5, '/': 5, '+': 4, '-': 4, '==': 3, '!=': 3, '<': 3, '>': 3, '<=': 3, '>=': 3 };

function prec(e: E): number {
  switch (e.k) {
    case 'num':
      return e.v < 0 ? 6 : 9;
    case 'str':
    case 'sym':
    case 'call':
      return 9;
    case 'zero':
      return prec(e.was);
    case 't':
      return 8;
    case 'mul':
    case 'recip':
      return 5;
    case 'sum':
      return 4;
    case 'bin':
      return PREC[e.op] ?? 0;
    case 'cond':
      return 0;
    case 'raw':
      return e.prec;
  }
}

const paren = (e: E, min: number) => (prec(e) >= min ? print(e) : `(${print(e)})`);

/** elementwise products inside matrix products (and the other way round) are parenthesized, so neither reads as the other */
const elementwise = (e: E) => e.k === 'bin' && (e.op === '.*' || e.op === './');

const printed = new WeakMap<E, string>();

/** A whole derivative's text: all zeros is 0 (a number stands for every entry, in derive's check and on paper). */
function printWhole(e: E): string {
  return e.k === 'zero' ? '0' : print(e);
}

/** A node's text (memoized: nodes are never changed, only rebuilt). */
function print(e: E): string {
  let s = printed.get(e);
  if (s === undefined) printed.set(e, (s = printNode(e)));
  return s;
}

function printNode(e: E): string {
  switch (e.k) {
    case 'num':
      return String(e.v);
    case 'str':
      return JSON.stringify(e.v);
    case 'sym':
      return e.name;
    case 'raw':
      return e.text;
    case 'zero':
      // inside a formula the zeros are written as the form they came from, which has their shape at every shape (zeros(3, 3) would hold at these only); a whole derivative of 0 is written 0, and in a sum they are dropped
      return print(e.was);
    case 't':
      return `${paren(e.a, 9)}'`;
    case 'recip':
      return `1 / ${paren(e.a, 6)}`;
    case 'call':
      return `${e.fn}(${e.args.map(print).join(', ')})`;
    case 'cond':
      return `${paren(e.c, 9)} ? ${paren(e.a, 9)} : ${paren(e.b, 9)}`;
    case 'bin': {
      const p = PREC[e.op] ?? 0;
      const right = e.op === '^' || e.op === '.^';
      const side = (x: E, min: number) => (p === 5 && x.k === 'mul' ? `(${print(x)})` : paren(x, min));
      return `${side(e.a, right ? p + 1 : p)} ${e.op} ${side(e.b, right ? p : p + 1)}`;
    }
    case 'sum':
      return e.ts
        .map((t, i) => {
          if (i === 0) return paren(t, 4);
          const neg = negated(t);
          return neg ? ` - ${paren(neg, 5)}` : ` + ${paren(t, 5)}`;
        })
        .join('');
    case 'mul': {
      let fs = e.fs;
      let sign = '';
      if (isNum(fs[0]) && fs[0].v < 0) {
        sign = '-';
        fs = fs[0].v === -1 ? fs.slice(1) : [{ k: 'num', v: -fs[0].v }, ...fs.slice(1)];
      }
      // 1/s factors go last: X / s
      const over = fs.filter((f) => f.k === 'recip');
      const times = fs.filter((f) => f.k !== 'recip');
      const factor = (f: E, i: number) => (elementwise(f) || (f.k === 'mul' && f.group) ? `(${print(f)})` : paren(f, i === 0 ? 5 : 6));
      const head = times.length ? times.map(factor).join(' * ') : '1';
      const text = head + over.map((f) => ` / ${paren((f as { a: E }).a, 6)}`).join('');
      // -a * b reads (-a) * b: the same value
      return `${sign}${text}`;
    }
  }
}

/** e without its minus sign, when it has one (a negative number or coefficient). */
function negated(e: E): E | null {
  if (isNum(e) && e.v < 0) return { k: 'num', v: -e.v };
  if (e.k === 'mul' && isNum(e.fs[0]) && e.fs[0].v < 0) {
    const fs = e.fs[0].v === -1 ? e.fs.slice(1) : [{ k: 'num', v: -e.fs[0].v } as E, ...e.fs.slice(1)];
    return fs.length === 1 ? fs[0] : { k: 'mul', fs };
  }
  return null;
}
