import { create, simplifyDependencies } from 'mathjs';
import type { MathNode } from 'mathjs';
import { textbookTex } from '../../../core/parse/mathjs.js';

/**
 * mathjs `simplify`, built from its factories only when derive runs (the grad path
 * never loads it). simplify cannot look inside `c ? a : b`, so conditionals travel
 * through it as an opaque function `ifelse(c, a, b)` and come back afterwards.
 */
type Math = ReturnType<typeof make>;
let math: Math | undefined;

function make() {
  return create({ simplifyDependencies }, { number: 'number' });
}

/**
 * mathjs's rules that rewrite more than they simplify, left out: multiplying a factor
 * into a sum (`sigma*(1 - sigma)` became `sigma - sigma^2`) and putting a sum over a
 * common denominator (`x^2 - 1/x^2` became `(x^4 - 1)/x^2`).
 */
const REWRITES = /vd\s*\*\s*\(\s*vd|vd\^n3 \* \(|n3\^\(-n4\)\*n1 \+|n1\*n3\^\(-n4\) \+/;
let rules: Parameters<Math['simplify']>[1] | undefined;
/**
 * With matrices, also the rules that take out a factor with a 1 beside it (`X + D*X` became
 * `(D + 1)*X`, and 1 is no identity matrix) and that write a product as a power (`D*D` became
 * `D^2`, which is for scalars); like terms are collected by derive's book form (textbook.ts) instead.
 */
const MATRIX_WRONG = /^\s*(vd\*n \+ vd|n\*vd \+ vd|vd \+ n\*vd|n\*cd \+ cd|cd\*n \+ cd|cd \+ cd\*n|n\*n$|n \* n\^n1|n\^n1 \* n\^n2|n\^n1 \* n ->)/;
let matrixRules: Math['simplify']['rules'] | undefined;
const ruleText = (r: unknown) => (typeof r === 'object' && r !== null ? String((r as { s?: string; l?: string }).s ?? (r as { l?: string }).l ?? '') : '');

const OPAQUE = 'ifelse';
const RELATIONAL = new Set(['larger', 'smaller', 'largerEq', 'smallerEq', 'equal', 'unequal']);
const LOGICAL = new Set([...RELATIONAL, 'and', 'or', 'not']);
/** Products and quotients: matrix (`*`, `/`) or entry by entry (`.*`, `./`); where the two kinds meet, parentheses stay. */
const PRODUCT_KIND = new Map([
  ['multiply', 'matrix'],
  ['divide', 'matrix'],
  ['dotMultiply', 'entries'],
  ['dotDivide', 'entries'],
]);

interface Op {
  op: string;
  fn: string;
  args: MathNode[];
}
interface Fn {
  fn: { name?: string };
  args: MathNode[];
}

/**
 * `matrices`: the expression has tensors in it, so `*` is the matrix product: simplify
 * must not reorder its factors (mathjs's context `multiply: {commutative: false}`).
 */
export function simplifyExpr(expr: string, opts: { matrices?: boolean } = {}): string {
  math ??= make();
  const m = math;
  const ifelse = (c: MathNode, t: MathNode, f: MathNode) => new m.FunctionNode(new m.SymbolNode(OPAQUE), [c, t, f]);
  const isIfelse = (n: MathNode): n is MathNode & Fn => n.type === 'FunctionNode' && (n as unknown as Fn).fn.name === OPAQUE;
  const bare = (n: MathNode): MathNode => (n.type === 'ParenthesisNode' ? bare((n as unknown as { content: MathNode }).content) : n);

  /**
   * `g * (c ? 1 : 0)` becomes `c ? g : 0`: a product with a conditional moves into its
   * branches, so the branch not taken is never multiplied in (0 · NaN would be NaN
   * where the engine's gradient is 0, as with `x > 0 ? sqrt(x) : -x` at x < 0).
   */
  const into = (n: MathNode, build: (branch: MathNode) => MathNode): MathNode => {
    const b = bare(n);
    if (!isIfelse(b)) return build(n);
    return ifelse(b.args[0], into(b.args[1], build), into(b.args[2], build));
  };
  const pre = (n: MathNode): MathNode => {
    if (n.type === 'ConditionalNode') {
      const c = n as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
      return ifelse(truth(c.condition), c.trueExpr, c.falseExpr);
    }
    // with matrices, `*` into an entry-by-entry conditional would change its meaning (the graph already moved products in)
    if (n.type !== 'OperatorNode' || opts.matrices) return n;
    const o = n as unknown as Op;
    const [a, b] = o.args;
    const mk = (args: MathNode[]) => new m.OperatorNode(o.op as never, o.fn as never, args);
    if (o.fn === 'multiply' && o.args.length === 2) {
      if (isIfelse(bare(b))) return into(b, (x) => mk([a, x]));
      if (isIfelse(bare(a))) return into(a, (x) => mk([x, b]));
    }
    if (o.fn === 'divide' && isIfelse(bare(a))) return into(a, (x) => mk([x, b]));
    if (o.fn === 'unaryMinus' && isIfelse(bare(a))) return into(a, (x) => mk([x]));
    return n;
  };
  /** `(x > 0) != 0` is just `x > 0`: comparisons are 0 or 1 already. */
  const truth = (c: MathNode): MathNode => {
    const b = bare(c);
    if (b.type !== 'OperatorNode') return c;
    const o = b as unknown as Op;
    const zero = (x: MathNode) => x.type === 'ConstantNode' && (x as unknown as { value: unknown }).value === 0;
    const inner = bare(o.args[0] ?? b);
    return o.fn === 'unequal' && zero(o.args[1]) && inner.type === 'OperatorNode' && LOGICAL.has((inner as unknown as Op).fn) ? inner : c;
  };
  const post = (n: MathNode): MathNode => {
    if (n.type === 'OperatorNode' && PRODUCT_KIND.has((n as unknown as Op).fn)) return apart(m, n);
    if (n.type === 'OperatorNode' && RELATIONAL.has((n as unknown as Op).fn)) {
      // mathjs prints (x > 0) != 0 as x > 0 != 0, which reads back as a chained comparison
      const o = n as unknown as Op;
      const args = o.args.map((a) => (a.type === 'OperatorNode' && RELATIONAL.has((a as unknown as Op).fn) ? new m.ParenthesisNode(a) : a));
      return new m.OperatorNode(o.op as never, o.fn as never, args);
    }
    return isIfelse(n) && n.args.length === 3 ? new m.ConditionalNode(n.args[0], n.args[1], n.args[2]) : n;
  };

  const parsed = bottomUp(m.parse(expr), pre);
  rules ??= m.simplify.rules.filter((r) => !REWRITES.test(ruleText(r)));
  matrixRules ??= m.simplify.rules.filter((r) => !MATRIX_WRONG.test(ruleText(r)));
  const simple = opts.matrices
    ? m.simplify(parsed, matrixRules, new Map(), { context: { multiply: { trivial: false, total: true, commutative: false, associative: true } } })
    : m.simplify(parsed, rules);
  return bottomUp(simple, post).toString({ parenthesis: 'keep', implicit: 'show' });
}

/**
 * `a .* (2 * b)` keeps its parentheses: mathjs's operator table calls `.*` associative
 * with `*`, so it prints that tree as `a .* 2 * b`, which reads back as `(a .* 2) * b`, a
 * matrix product. Where a matrix product or quotient (`*`, `/`) and an entry-by-entry
 * one (`.*`, `./`) meet, the inner one is put in parentheses (a ParenthesisNode, which
 * printing with parenthesis 'keep' writes): `(a .* b) * c` is written so too, as a reader needs it.
 */
function apart(m: Math, n: MathNode): MathNode {
  const o = n as unknown as Op;
  if (!PRODUCT_KIND.has(o.fn) || !o.args.some((a) => mixedIn(o, a) && a.type !== 'ParenthesisNode')) return n;
  return new m.OperatorNode(
    o.op as never,
    o.fn as never,
    o.args.map((a) => (mixedIn(o, a) && a.type !== 'ParenthesisNode' ? new m.ParenthesisNode(a) : a)),
  );
}

/** Operand a of the product o is a product of the other kind (in parentheses or not). */
function mixedIn(o: Op, a: MathNode): boolean {
  const inner = a.type === 'ParenthesisNode' ? (a as unknown as { content: MathNode }).content : a;
  const kind = inner.type === 'OperatorNode' ? PRODUCT_KIND.get((inner as unknown as Op).fn) : undefined;
  return kind !== undefined && PRODUCT_KIND.has(o.fn) && kind !== PRODUCT_KIND.get(o.fn);
}

/** The name of an operand held in place while its product is written as LaTeX (formulaToTex). */
const APART = 'zzApartOperand';

/** Rebuild a tree from the leaves up, so a replacement's children are already replaced. */
function bottomUp(node: MathNode, f: (n: MathNode) => MathNode): MathNode {
  return f(node.map((child) => bottomUp(child, f)));
}

/**
 * A formula as LaTeX (mathjs toTex), for `derive --latex`: `x'` is a transpose,
 * `ifelse` placeholders never reach here (the text is our own formula syntax).
 */
export function formulaToTex(expr: string): string {
  math ??= make();
  const m = math;
  // a transpose on paper is ᵀ (mathjs writes the Hermitian ^H); a variable is a variable, not a unit (mathjs: W is watts)
  const handler = (node: MathNode, options: object): string | undefined => {
    // where `*` and `.*` meet, the parentheses stay (see apart; parenthesis 'auto' would drop them): the operand written in their place
    if (node.type === 'OperatorNode' && (node as unknown as Op).args.some((a) => mixedIn(node as unknown as Op, a))) {
      const o = node as unknown as Op;
      const inner = o.args.map((a) => (a.type === 'ParenthesisNode' ? (a as unknown as { content: MathNode }).content : a));
      const held = new m.OperatorNode(
        o.op as never,
        o.fn as never,
        o.args.map((a, k) => (mixedIn(o, a) ? new m.SymbolNode(`${APART}${k}`) : a)),
      );
      return held.toTex(options).replace(new RegExp(`${APART}(\\d)`, 'g'), (_, k: string) => `\\left(${inner[Number(k)].toTex(options)}\\right)`);
    }
    if (node.type === 'SymbolNode' && (node as unknown as { name: string }).name.startsWith(APART)) return (node as unknown as { name: string }).name;
    if (node.type === 'OperatorNode' && (node as unknown as Op).fn === 'ctranspose') {
      const arg = (node as unknown as Op).args[0];
      const inner = arg.toTex(options);
      return arg.type === 'SymbolNode' ? `${inner}^{\\top}` : `\\left(${inner}\\right)^{\\top}`;
    }
    if (node.type === 'SymbolNode') {
      const name = (node as unknown as { name: string }).name;
      if (/^[A-Za-z]$/.test(name)) return ` ${name}`;
    }
    // x.^2 is x² entry by entry: a power on paper (mathjs writes x.^\wedge2)
    if (node.type === 'OperatorNode' && (node as unknown as Op).fn === 'dotPow')
      return new m.OperatorNode('^', 'pow', (node as unknown as Op).args as never).toTex(options);
    return undefined;
  };
  return textbookTex(m.parse(expr).toTex({ parenthesis: 'auto', implicit: 'show', handler } as never));
}
