import { describe, expect, it } from 'vitest';
import { AgError } from '../../src/core/errors.js';
import type { Expr } from '../../src/core/parse/ast.js';
import { parseProgram } from '../../src/core/parse/parse.js';
import { isFunctionName } from '../../src/core/ops/index.js';

const parse = (src: string) => parseProgram(src, { isFunction: isFunctionName });
const text = (src: string, e: { span: { start: number; end: number } }) => src.slice(e.span.start, e.span.end);

/** Every node of our tree points at the text it came from. */
function collect(e: Expr, out: Expr[] = []): Expr[] {
  out.push(e);
  if (e.k === 'call') e.args.forEach((a) => collect(a, out));
  if (e.k === 'cond') [e.test, e.then, e.else].forEach((a) => collect(a, out));
  if (e.k === 'array') e.items.forEach((a) => collect(a, out));
  if (e.k === 'index') {
    collect(e.obj, out);
    for (const d of e.dims) if (d.k === 'at') collect(d.e, out);
  }
  return out;
}

describe('source spans recovered from mathjs trees', () => {
  const cases: [string, string[]][] = [
    ['(x+y)*sin(x)', ['(x+y)*sin(x)', 'x+y', 'x', 'y', 'sin(x)', 'x']],
    ['2x + 3', ['2x + 3', '2x', '2', 'x', '3']],
    ["W'*x", ["W'*x", "W'", 'W', 'x']],
    ['-x^2', ['-x^2', 'x^2', 'x', '2']],
    ['A[2, :] .* v[1:2]', ['A[2, :] .* v[1:2]', 'A[2, :]', 'A', '2', 'v[1:2]', 'v']],
    ['x > 0 ? x : -x', ['x > 0 ? x : -x', 'x > 0', 'x', '0', 'x', '-x', 'x']],
    ['norm(v, "fro")', ['norm(v, "fro")', 'v', '"fro"']],
    ['[x, y^2; 1, 2]', ['[x, y^2; 1, 2]', 'x, y^2', 'x', 'y^2', 'y', '2', '1, 2', '1', '2']],
  ];
  for (const [src, want] of cases) {
    it(src, () => {
      const p = parse(src);
      const st = p.stmts[0];
      expect(st.k).toBe('expr');
      const nodes = collect((st as { expr: Expr }).expr);
      expect(nodes.map((n) => text(src, n))).toEqual(want);
    });
  }

  it('operator and function-name spans for carets', () => {
    const src = 'sum(W*x)';
    const e = parse(src).stmts[0] as { expr: Expr };
    const inner = (e.expr as Extract<Expr, { k: 'call' }>).args[0] as Extract<Expr, { k: 'call' }>;
    expect(src.slice(inner.nameSpan.start, inner.nameSpan.end)).toBe('*');
    expect(src.slice((e.expr as Extract<Expr, { k: 'call' }>).nameSpan.start, (e.expr as Extract<Expr, { k: 'call' }>).nameSpan.end)).toBe('sum');
  });

  it('the caret of every two-character operator covers both characters (./ included)', () => {
    for (const sym of ['.*', './', '.^', '==', '!=', '<=', '>=']) {
      const src = `x ${sym} y`;
      const e = parse(src).stmts[0] as { expr: Extract<Expr, { k: 'call' }> };
      expect(src.slice(e.expr.nameSpan.start, e.expr.nameSpan.end), sym).toBe(sym);
    }
  });

  it('statements, named steps and definitions across ; and newlines', () => {
    const src = 'sigma(t) = 1/(1+exp(-t))\nq = w*x # a comment\nsigma(q)';
    const p = parse(src);
    expect(p.stmts.map((s) => s.k)).toEqual(['def', 'assign', 'expr']);
    const assign = p.stmts[1] as Extract<(typeof p.stmts)[number], { k: 'assign' }>;
    expect(text(src, assign.expr)).toBe('w*x');
    expect(text(src, { span: assign.nameSpan })).toBe('q');
  });

  it('a long left-associative chain parses without recursion trouble', () => {
    const src = `${'x+'.repeat(40_000)}x`;
    const p = parse(src);
    const top = (p.stmts[0] as { expr: Expr }).expr as Extract<Expr, { k: 'call' }>;
    expect(top.span).toEqual({ start: 0, end: src.length });
    expect(text(src, top.args[1])).toBe('x');
  });

  it('syntax errors carry the position mathjs reports', () => {
    try {
      parse('sin(x');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AgError);
      expect((e as AgError).span).toEqual({ start: 5, end: 5 });
      expect((e as AgError).source).toBe('sin(x');
    }
  });
});
