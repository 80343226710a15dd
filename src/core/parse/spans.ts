import type { Span } from '../errors.js';

/**
 * mathjs parse trees carry no source positions, so we recover them: tokenize the
 * text the way mathjs does, then walk the tree in source order, consuming the
 * tokens each node was made from. A node mathjs generated itself (the implicit
 * `1` and `end` of `A[:,1]`) consumes nothing and gets an empty span.
 */
interface Token {
  text: string;
  kind: 'num' | 'id' | 'str' | 'op';
  start: number;
  end: number;
}

const MULTI_OPS = ['>>>', '<<', '>>', '.*', './', '.^', ".'", '==', '!=', '<=', '>=', '??', '?.'];
const ID_START = /[A-Za-z_$\u00C0-\u02AF\u0370-\u03FF\u2100-\u214F]/;
const ID_PART = /[A-Za-z0-9_$\u00C0-\u02AF\u0370-\u03FF\u2100-\u214F]/;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const prevIsValue = () => {
    const t = out[out.length - 1];
    return !!t && (t.kind === 'num' || t.kind === 'id' || t.kind === 'str' || t.text === ')' || t.text === ']' || t.text === "'");
  };
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i, i + 400));
    if (num && !(c === '.' && /[*/^']/.test(src[i + 1] ?? ''))) {
      out.push({ text: num[0], kind: 'num', start: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    if (ID_START.test(c)) {
      let j = i + 1;
      while (j < src.length && ID_PART.test(src[j])) j++;
      out.push({ text: src.slice(i, j), kind: 'id', start: i, end: j });
      i = j;
      continue;
    }
    if (c === '"' || (c === "'" && !prevIsValue())) {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out.push({ text: src.slice(i, j + 1), kind: 'str', start: i, end: Math.min(j + 1, src.length) });
      i = j + 1;
      continue;
    }
    const op = MULTI_OPS.find((o) => src.startsWith(o, i)) ?? c;
    out.push({ text: op, kind: 'op', start: i, end: i + op.length });
    i += op.length;
  }
  return out;
}

// A structural view of the mathjs node classes we walk (duck-typed by `type`).
interface AnyNode {
  type: string;
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Source span of every node of a mathjs tree parsed from `src`. */
export function recoverSpans(root: AnyNode, src: string): Map<AnyNode, Span> {
  const toks = tokenize(src);
  const spans = new Map<AnyNode, Span>();
  let cur = 0;
  const at = (text: string) => toks[cur]?.text === text;
  const take = (text?: string): Token | null => {
    const t = toks[cur];
    if (!t || (text !== undefined && t.text !== text)) return null;
    cur++;
    return t;
  };

  const isBinary = (n: AnyNode | null | undefined): n is AnyNode => n?.type === 'OperatorNode' && n.args.length === 2;

  function walk(node: AnyNode | null | undefined): void {
    if (!node) return;
    const first = cur;
    if (isBinary(node) && isBinary(node.args[0])) {
      // a long left-associative chain (x + x + … + x) is walked in a loop, not by recursion
      const spine = [node];
      while (isBinary(spine[spine.length - 1].args[0])) spine.push(spine[spine.length - 1].args[0]);
      walk(spine[spine.length - 1].args[0]);
      for (let i = spine.length - 1; i >= 0; i--) {
        const n = spine[i];
        if (!n.implicit) take(n.op);
        walk(n.args[1]);
        const start = first < cur ? toks[first].start : (toks[cur]?.start ?? src.length);
        spans.set(n, { start, end: first < cur ? toks[cur - 1].end : start });
      }
      return;
    }
    visit(node);
    const start = first < cur ? toks[first].start : (toks[cur]?.start ?? src.length);
    const end = first < cur ? toks[cur - 1].end : start;
    spans.set(node, { start, end });
  }

  function list(items: AnyNode[], seps: string[]): void {
    items.forEach((item, k) => {
      if (k > 0) for (const s of seps) if (take(s)) break;
      walk(item);
    });
  }

  function visit(n: AnyNode): void {
    switch (n.type) {
      case 'ConstantNode':
        if (toks[cur] && (toks[cur].kind === 'num' || toks[cur].kind === 'str' || toks[cur].kind === 'id')) cur++;
        return;
      case 'SymbolNode':
        take(n.name);
        return;
      case 'ParenthesisNode':
        take('(');
        walk(n.content);
        take(')');
        return;
      case 'OperatorNode': {
        const args: AnyNode[] = n.args;
        if (args.length === 1) {
          if (n.op === "'" || n.op === '!') {
            walk(args[0]);
            take(n.op);
          } else {
            take(n.op);
            walk(args[0]);
          }
          return;
        }
        walk(args[0]);
        for (let k = 1; k < args.length; k++) {
          if (!n.implicit) take(n.op);
          walk(args[k]);
        }
        return;
      }
      case 'FunctionNode':
        if (n.fn?.type === 'SymbolNode') {
          const t = take(n.fn.name);
          if (t) spans.set(n.fn, { start: t.start, end: t.end });
        } else walk(n.fn);
        take('(');
        list(n.args, [',']);
        take(')');
        return;
      case 'AccessorNode':
        walk(n.object);
        if (n.index?.dotNotation) {
          take('.');
          if (toks[cur]?.kind === 'id') cur++;
        } else {
          take('[');
          list(n.index?.dimensions ?? [], [',']);
          take(']');
        }
        return;
      case 'IndexNode':
        take('[');
        list(n.dimensions, [',']);
        take(']');
        return;
      case 'RangeNode':
        if (!at(':')) walk(n.start);
        take(':');
        if (n.step) {
          walk(n.step);
          take(':');
        }
        if (!(n.end?.type === 'SymbolNode' && n.end.name === 'end' && !at('end'))) walk(n.end);
        return;
      case 'ArrayNode': {
        const open = take('[');
        list(n.items, [',', ';']);
        if (open) take(']');
        return;
      }
      case 'ObjectNode': {
        take('{');
        let depth = 1;
        while (cur < toks.length && depth > 0) {
          if (toks[cur].text === '{') depth++;
          if (toks[cur].text === '}') depth--;
          cur++;
        }
        return;
      }
      case 'ConditionalNode':
        walk(n.condition);
        take('?');
        walk(n.trueExpr);
        take(':');
        walk(n.falseExpr);
        return;
      case 'RelationalNode':
        (n.params as AnyNode[]).forEach((p, k) => {
          if (k > 0) take(); // the comparison operator
          walk(p);
        });
        return;
      case 'AssignmentNode':
        walk(n.object);
        if (n.index) walk(n.index);
        take('=');
        walk(n.value);
        return;
      case 'FunctionAssignmentNode':
        take(n.name);
        take('(');
        (n.params as string[]).forEach((_, k) => {
          if (k > 0) take(',');
          if (toks[cur]?.kind === 'id') cur++;
        });
        take(')');
        take('=');
        walk(n.expr);
        return;
      case 'BlockNode':
        for (const b of n.blocks as { node: AnyNode }[]) {
          walk(b.node);
          while (take(';') || take(',')) {
            /* statement separators */
          }
        }
        return;
      default:
        return;
    }
  }

  walk(root);
  return spans;
}
