import { AgError, type Span } from '../errors.js';
import { limitsFrom, type Limits } from '../limits.js';
import { ALIASES, MATHJS_CODE_FUNCTIONS } from '../ops/functions.js';
import type { Expr, IndexDim, Program, Stmt } from './ast.js';
import { mathParse } from './mathjs.js';
import { recoverSpans } from './spans.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type MNode = { type: string; [k: string]: any };

/** mathjs operator function names we accept, mapped to our call names. */
const OPERATORS: Record<string, string> = {
  add: 'add',
  subtract: 'subtract',
  multiply: 'multiply',
  divide: 'divide',
  pow: 'pow',
  dotMultiply: 'dotMultiply',
  dotDivide: 'dotDivide',
  dotPow: 'dotPow',
  unaryMinus: 'unaryMinus',
  unaryPlus: 'unaryPlus',
  ctranspose: 'transpose',
  transpose: 'transpose',
  larger: 'larger',
  smaller: 'smaller',
  largerEq: 'largerEq',
  smallerEq: 'smallerEq',
  equal: 'equal',
  unequal: 'unequal',
  and: 'and',
  or: 'or',
  not: 'not',
};

const OPERATOR_HINTS: Record<string, string> = {
  mod: 'the remainder is not differentiable everywhere; it is not supported',
  factorial: 'factorial is not supported; for real arguments use gamma-free forms',
  to: 'units are not supported',
  in: 'units are not supported',
};

/** Constants a formula may name (a null-prototype table: `constructor` is not a constant). */
export const CONSTANTS: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, {
    pi: Math.PI,
    PI: Math.PI,
    e: Math.E,
    E: Math.E,
    tau: 2 * Math.PI,
    Infinity: Infinity,
    inf: Infinity,
  }),
);

/** Names no formula may assign to. */
const RESERVED = new Set([...Object.keys(CONSTANTS), 'NaN', 'true', 'false', 'null', 'undefined', 'i', 'end', ...MATHJS_CODE_FUNCTIONS]);

export interface ParseOptions {
  /** Names that are functions (the op table plus anything the caller adds); assigning to them is refused. */
  isFunction?: (name: string) => boolean;
  /** maxLength (longest text) and maxDepth (deepest nesting) apply here; the defaults when not given */
  limits?: Limits;
}

/** mathjs parse, then the whitelist walk. Throws AgError pointing into `source`. */
export function parseProgram(source: string, opts: ParseOptions = {}): Program {
  const limits = limitsFrom(opts.limits);
  try {
    return parseChecked(source, opts, limits);
  } catch (e) {
    if (e instanceof AgError) throw e.withSource(source);
    // mathjs's parser and our walk recurse: a chain like - - - … x or x^x^…^x can run out of stack first
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw tooDeep(source, limits.maxDepth);
    throw e;
  }
}

function tooDeep(source: string, maxDepth: number): AgError {
  return new AgError(
    'limit',
    `the formula nests more deeply than can be parsed (prefix operators or ^ chains count as levels); the limit is ${maxDepth} (--max-depth)`,
    { source },
  );
}

function parseChecked(source: string, opts: ParseOptions, limits: Limits): Program {
  const { maxLength, maxDepth } = limits;
  if (source.trim() === '') throw new AgError('syntax', 'the formula is empty', { span: { start: 0, end: 0 } });
  if (source.length > maxLength) {
    throw new AgError('limit', `the formula is ${source.length} characters long; the limit is ${maxLength} (--max-length)`);
  }
  // levels as treeDepth counts them: x is 1, sin(x) 2; b brackets hold at least b + 1 levels, a run of k prefix operators or ^ k + 1
  const depth = nestingDepth(source);
  if (depth.depth + 1 > maxDepth) {
    throw new AgError(
      'limit',
      `the formula nests at least ${depth.depth + 1} levels deep (brackets ${depth.depth} deep); the limit is ${maxDepth} (--max-depth)`,
      {
        span: { start: depth.at, end: depth.at + 1 },
      },
    );
  }
  let root: MNode;
  const chain = operatorChain(source);
  if (chain.depth + 1 > maxDepth) {
    throw new AgError(
      'limit',
      `the formula nests at least ${chain.depth + 1} levels deep (a chain of ${chain.depth} prefix operators or ^); the limit is ${maxDepth} (--max-depth)`,
      {
        span: { start: chain.at, end: chain.at + 1 },
      },
    );
  }
  // the text mathjs reads: textbook transposes written over in place, so spans still point into `source`
  const text = textbookTranspose(source);
  try {
    root = mathParse(text) as unknown as MNode;
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw tooDeep(source, maxDepth);
    throw syntaxError(e, source);
  }
  const deepest = treeDepth(root);
  if (deepest.depth > maxDepth) {
    throw new AgError('limit', `the formula nests ${deepest.depth} levels deep; the limit is ${maxDepth} (--max-depth)`);
  }
  const spans = recoverSpans(root, text);
  const spanOf = (n: MNode): Span => spans.get(n) ?? { start: 0, end: source.length };
  const isFunction = opts.isFunction ?? (() => false);
  const nodes: MNode[] = root.type === 'BlockNode' ? (root.blocks as { node: MNode }[]).map((b) => b.node) : [root];
  const defined = new Set(nodes.filter((n) => n.type === 'FunctionAssignmentNode').map((n) => String(n.name)));

  const done = new Map<MNode, Expr>();
  const isBinary = (n: MNode | undefined) => n?.type === 'OperatorNode' && n.args.length === 2;
  const conv = (n: MNode): Expr => {
    const hit = done.get(n);
    if (hit) return hit;
    if (isBinary(n) && isBinary(n.args[0])) {
      // convert a long left-associative chain bottom-up in a loop, not by recursion
      const spine: MNode[] = [n];
      while (isBinary(spine[spine.length - 1].args[0])) spine.push(spine[spine.length - 1].args[0]);
      for (let i = spine.length - 1; i >= 1; i--) done.set(spine[i], convOne(spine[i]));
    }
    return convOne(n);
  };
  const convOne = (n: MNode): Expr => {
    const span = spanOf(n);
    switch (n.type) {
      case 'ConstantNode':
        if (typeof n.value === 'number') return { k: 'num', v: n.value, span };
        if (typeof n.value === 'string') return { k: 'str', v: n.value, span };
        throw new AgError('unsupported', `the constant ${String(n.value)} is not a number`, { span });
      case 'SymbolNode':
        return { k: 'sym', name: n.name, span };
      case 'ParenthesisNode':
        return conv(n.content);
      case 'OperatorNode': {
        const fn = OPERATORS[n.fn as string];
        if (!fn) {
          const hint = OPERATOR_HINTS[n.fn as string];
          throw new AgError('unsupported', `the operator ${n.op} is not supported`, { span, hint });
        }
        const args = (n.args as MNode[]).map(conv);
        const nameSpan = operatorSpan(n, args, span, source);
        return { k: 'call', fn, args, span, nameSpan, op: n.op };
      }
      case 'FunctionNode': {
        if (n.fn?.type !== 'SymbolNode') {
          throw new AgError('unsupported', 'only named functions can be called', { span });
        }
        const name = n.fn.name as string;
        // the lecture's ln is log, unless the formula defines its own ln
        const fn = ALIASES[name] !== undefined && !defined.has(name) ? ALIASES[name] : name;
        return { k: 'call', fn, args: (n.args as MNode[]).map(conv), span, nameSpan: spans.get(n.fn) ?? span };
      }
      case 'ConditionalNode':
        return { k: 'cond', test: conv(n.condition), then: conv(n.trueExpr), else: conv(n.falseExpr), span };
      case 'RelationalNode':
        throw new AgError('unsupported', 'chained comparisons are not supported; compare two values at a time', { span });
      case 'AccessorNode': {
        if (n.index?.dotNotation) {
          throw new AgError('unsupported', 'property access (a.b) is not allowed in formulas', { span });
        }
        const dims = (n.index.dimensions as MNode[]).map((d): IndexDim => {
          if (d.type === 'RangeNode') {
            const implicitEnd = d.end?.type === 'SymbolNode' && d.end.name === 'end' && spanOf(d.end).end === spanOf(d.end).start;
            return {
              k: 'range',
              start: d.start ? conv(d.start) : undefined,
              step: d.step ? conv(d.step) : undefined,
              end: implicitEnd ? undefined : conv(d.end),
              span: spanOf(d),
            };
          }
          return { k: 'at', e: conv(d), span: spanOf(d) };
        });
        return { k: 'index', obj: conv(n.object), dims, span };
      }
      case 'ArrayNode':
        return { k: 'array', items: (n.items as MNode[]).map(conv), span };
      case 'RangeNode':
        throw new AgError('unsupported', 'ranges (a:b) are only allowed inside an index, like v[2:4]', { span });
      case 'ObjectNode':
        throw new AgError('unsupported', 'objects are not allowed in formulas', { span });
      case 'AssignmentNode':
      case 'FunctionAssignmentNode':
      case 'BlockNode':
        throw new AgError('unsupported', 'assignments are only allowed as statements, like q = x + y; f = q*z', { span });
      default:
        throw new AgError('unsupported', `${n.type.replace(/Node$/, '').toLowerCase()} expressions are not supported`, { span });
    }
  };

  const checkName = (name: string, span: Span, step = false): void => {
    // a step may take the name of a constant or a function, as sources do (micrograd's e, CS231n's dot): it shadows it, and the build notes so
    if (step && (name in CONSTANTS || (isFunction(name) && !RESERVED.has(name)))) return;
    if (RESERVED.has(name) || isFunction(name)) {
      throw new AgError('unsupported', `cannot assign to ${name}: it is a built-in name`, {
        span,
        hint: `choose another name, like ${name}_1`,
      });
    }
  };

  const stmt = (n: MNode): Stmt => {
    const span = spanOf(n);
    if (n.type === 'AssignmentNode') {
      if (n.object?.type !== 'SymbolNode' || n.index) {
        throw new AgError('unsupported', 'only plain names can be assigned (q = ...)', { span });
      }
      const nameSpan = spans.get(n.object) ?? span;
      checkName(n.object.name, nameSpan, true);
      return { k: 'assign', name: n.object.name, expr: conv(n.value), span, nameSpan };
    }
    if (n.type === 'FunctionAssignmentNode') {
      const nameSpan = { start: span.start, end: span.start + String(n.name).length };
      checkName(n.name, nameSpan);
      for (const p of n.params as string[]) checkName(p, span);
      return { k: 'def', name: n.name, params: [...(n.params as string[])], body: conv(n.expr), span };
    }
    return { k: 'expr', expr: conv(n), span };
  };

  const stmts = nodes.map(stmt);
  const last = stmts[stmts.length - 1];
  if (last.k === 'def') {
    throw new AgError('syntax', `the last statement defines ${last.name}(...) but computes nothing`, {
      span: last.span,
      hint: `add a final expression, like ${last.name}(x)`,
    });
  }
  return { source, stmts };
}

/**
 * Textbook transposes as mathjs can read them, each the same length as the text it
 * replaces: A^\top, A^{\top}, A^\intercal (LaTeX) and Aᵀ are A'; A^{T} is A^(T), which
 * the builder reads as the transpose unless T is a variable of the formula (`A^T` too).
 */
export function textbookTranspose(source: string): string {
  return source
    .replace(/\^(?:\{\\(?:top|intercal)\}|\\(?:top|intercal)(?![A-Za-z]))/g, (m) => "'".padEnd(m.length))
    .replace(/\^\{T\}/g, '^(T)')
    .replace(/\u1d40/g, "'");
}

/** The operator token of an OperatorNode: between its operands, or before/after its only one. */
function operatorSpan(n: MNode, args: Expr[], span: Span, source: string): Span {
  if (n.implicit) return span;
  const op = String(n.op);
  if (args.length === 1) {
    if (op === "'") return { start: span.end - 1, end: span.end };
    return { start: span.start, end: span.start + op.length };
  }
  const from = args[0].span.end;
  const at = source.indexOf(op, from);
  if (at >= 0 && at < args[1].span.start + 1) return { start: at, end: at + op.length };
  return span;
}

function syntaxError(e: unknown, source: string): AgError {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /\(char (\d+)\)\s*$/.exec(msg);
  const text = msg.replace(/\s*\(char \d+\)\s*$/, '');
  const pos = m ? Math.max(0, Math.min(source.length, Number(m[1]) - 1)) : source.length;
  const span = { start: pos, end: Math.min(source.length, pos + 1) };
  let hint: string | undefined;
  if (/Parenthesis \) expected|Unexpected end/.test(text)) hint = countHint(source);
  // Python's power operator: the error is at the second *
  const pow = source.indexOf('**');
  if (pow >= 0 && Math.abs(pos - pow) <= 2)
    hint = `powers are written with ^${source.length <= 60 ? `: ${source.replace(/\s*\*\*\s*/g, '^')}` : ', as in x^2'}`;
  return new AgError('syntax', sentence(text), { span, hint });
}

function sentence(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function countHint(source: string): string | undefined {
  const open = (source.match(/[([]/g) ?? []).length;
  const close = (source.match(/[)\]]/g) ?? []).length;
  if (open > close) return `${open - close} bracket${open - close > 1 ? 's are' : ' is'} not closed`;
  return undefined;
}

/**
 * Depth of the parse tree in levels (x is 1, sin(x) 2, sin(sin(x)) 3), walked with an
 * explicit stack: the unit of every --max-depth message. The left operand of a binary
 * operator does not count: long left-associative chains (x + x + … + x) are handled in
 * loops, while right-nested ones (x^x^…^x, - - - x) recurse. Statements (the block of a
 * program, `q = …`, `f(a) = …`) are not levels of an expression.
 */
function treeDepth(root: MNode): { depth: number } {
  let best = 0;
  const stack: [MNode, number][] = [[root, 1]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (d > best) best = d;
    const binary = n.type === 'OperatorNode' && n.args.length === 2;
    const statement = n.type === 'BlockNode' || n.type === 'AssignmentNode' || n.type === 'FunctionAssignmentNode';
    // mathjs's forEach visits a node's direct children only (a block's statements included): no recursion here
    n.forEach((k: MNode) => {
      stack.push([k, (binary && k === n.args[0]) || statement ? d : d + 1]);
    });
  }
  return { depth: best };
}

/**
 * The longest run of prefix operators (`- - - x`, `not not x`) or `^` (right-associative,
 * so `x^x^…^x` nests), measured before mathjs's recursive parser sees the text: each is
 * a level of its recursion. A quick scan of the characters, an upper bound of the nesting.
 */
function operatorChain(src: string): { depth: number; at: number } {
  let best = 0;
  let at = 0;
  let unary = 0;
  let pow = 0;
  // the last significant character: after an operand, + and - are binary
  let prev = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    const afterOperand = /[\w.)\]'!]/.test(prev);
    if ((c === '-' || c === '+' || c === '~') && !afterOperand) unary++;
    else if (c === '^') {
      pow++;
      unary = 0;
    } else if (/[\w.]/.test(c) || c === "'") {
      // an operand: a prefix run ends here, a ^ chain goes on through it
    } else {
      unary = 0;
      pow = 0;
    }
    if (unary + pow > best) {
      best = unary + pow;
      at = i;
    }
    prev = c;
  }
  return { depth: best, at };
}

/** Bracket nesting depth, measured before mathjs's recursive parser sees the text. */
function nestingDepth(src: string): { depth: number; at: number } {
  let d = 0;
  let best = 0;
  let at = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '(' || c === '[' || c === '{') {
      d++;
      if (d > best) {
        best = d;
        at = i;
      }
    } else if (c === ')' || c === ']' || c === '}') d--;
  }
  return { depth: best, at };
}
