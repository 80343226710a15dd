import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

/** Vectors are columns, as on paper: the two examples and the errors a student meets, through the real CLI. */
const CE_AT = 'W=[[0.5,-0.2],[0.1,0.3],[-0.4,0.2]], x=[[-15],[22]], b=[[0],[0.2],[-0.3]], y=2';

describe('vectors as columns through the CLI', () => {
  it("check: the lecture's ∂/∂W = 2·(W·x)·xᵀ written as 2*(W*x)*x' passes; the transposed answer does not", () => {
    const at = 'W=[[0.1,0.5],[-0.3,0.8]], x=[0.2,0.4]';
    const right = cli(['check', 'sum((W*x).^2)', '--at', at, '--expect', "W=2*(W*x)*x'"]);
    expect(right.code, right.stdout + right.stderr).toBe(0);
    expect(right.stdout).toContain('1 passed');
    const xw = cli(['check', 'sum((W*x).^2)', '--at', at, '--expect', "W=2*x*(W*x)'"]);
    expect(xw.code).toBe(1);
    // ∂/∂x = 2·Wᵀ(W·x), with x a vector and with x a column
    expect(cli(['check', 'sum((W*x).^2)', '--at', at, '--expect', "x=2*W'*(W*x)"]).code).toBe(0);
    expect(cli(['check', 'sum((W*x).^2)', '--at', 'W=[[0.1,0.5],[-0.3,0.8]], x=[[0.2],[0.4]]', '--expect', "W=2*(W*x)*x', x=2*W'*(W*x)"]).code).toBe(0);
  });

  it('grad: softmax of a column without a dimension is an error with a caret and the fix', () => {
    const r = cli(['grad', '-log(softmax(W*x+b)[y,1])', '--at', CE_AT]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'error: softmax(W*x+b): W*x+b is a column [3,1]: without a dimension a matrix is taken row by row, and each row here has one entry',
        '  -log(softmax(W*x+b)[y,1])',
        '       ^^^^^^^',
        '  hint: write softmax(W*x+b, 1): dimension 1 runs down the columns',
        '',
      ].join('\n'),
    );
    const j = cliJson(['grad', '-log(softmax(W*x+b)[y,1])', '--at', CE_AT]);
    expect(j.code).toBe(2);
    expect(j.json.error).toMatchObject({ code: 'shape', span: { start: 5, end: 12 }, hint: 'write softmax(W*x+b, 1): dimension 1 runs down the columns' });
  });

  it('grad: softmax(W*x+b, 1) gives ∂/∂b = p − e_y, ∂/∂W = (p − e_y)·xᵀ, ∂/∂x = Wᵀ(p − e_y)', () => {
    const { code, json } = cliJson(['grad', '-log(softmax(W*x+b, 1)[y,1])', '--at', CE_AT]);
    expect(code).toBe(0);
    const W = [
      [0.5, -0.2],
      [0.1, 0.3],
      [-0.4, 0.2],
    ];
    const x = [-15, 22];
    const z = W.map((r, i) => r[0] * x[0] + r[1] * x[1] + [0, 0.2, -0.3][i]);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / e.reduce((a, c) => a + c, 0));
    const d = p.map((v, i) => v - (i === 1 ? 1 : 0));
    expect(json.value).toBeCloseTo(-Math.log(p[1]), 12);
    const close = (got: number[][], want: number[][]) => got.forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 9)));
    close(
      json.gradient.b,
      d.map((v) => [v]),
    );
    close(
      json.gradient.W,
      d.map((v) => [v * x[0], v * x[1]]),
    );
    close(
      json.gradient.x,
      [0, 1].map((j) => [W.reduce((s, r, i) => s + r[j] * d[i], 0)]),
    );
    expect(json.check.passed).toBe(true);
    // the edge table's local formula names the dimension
    expect(json.edges.map((ed: { local: string }) => ed.local)).toContain('softmax(W*x+b, 1).*(g - sum(g.*softmax(W*x+b, 1), 1))');
  });

  it("A*v' is a shape error that suggests A*v; u*w between vectors of two lengths suggests the outer product", () => {
    const a = cli(['grad', "sum(A*v')", '--at', 'A=[[1,2],[3,4],[5,6]], v=[1,2]']);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(
      ["error: A*v': [3,2] * [1,2] — inner dimensions differ (2 and 1)", "  sum(A*v')", '       ^', "  hint: v' is a row [1,2]; did you mean A*v?", ''].join(
        '\n',
      ),
    );
    const b = cli(['grad', 'sum(u*w)', '--at', 'u=[1,2,3], w=[1,2]']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("hint: between two vectors * is the dot product; for the outer product write u*w' or outer(u, w)");
    const c = cli(['grad', 'sum(v + c)', '--at', 'v=[1,2,3], c=[[1],[2]]']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('v + c: [3] + [2,1] — vectors are columns here, and a column of 3 does not match one of 2');
  });

  it('onehot in a formula; an index out of range points at it', () => {
    const ok = cliJson(['grad', "(softmax(z) - onehot(y, 3))'*z", '--at', 'z=[1,2,-1], y=2']);
    expect(ok.code).toBe(0);
    expect(ok.json.indexVariables).toEqual(['y']);
    const bad = cli(['grad', 'sum(z - onehot(y, 3))', '--at', 'z=[1,2,-1], y=5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      ['error: onehot(y, 3): the one-hot index y = 5 is out of range (1 to 3; indices are 1-based)', '  sum(z - onehot(y, 3))', '                 ^', ''].join(
        '\n',
      ),
    );
  });

  it("jacobian and graph show the paper shapes: u*v' is 2×3, v' is 1×3", () => {
    const jac = cliJson(['jacobian', "u*v'", '--at', 'u=[1,2], v=[3,4,5]']);
    expect(jac.code).toBe(0);
    expect(jac.json.value).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expect(jac.json.jacobian.length).toBe(6);
    const g = cliJson(['graph', "sum(u*v')", '--at', 'u=[1,2], v=[3,4,5]']);
    expect(g.code).toBe(0);
    const shapes = Object.fromEntries(g.json.nodes.map((n: { op: string; name: string; shape: number[] }) => [n.op === 'input' ? n.name : n.op, n.shape]));
    expect(shapes).toMatchObject({ u: [2], v: [3], transpose: [1, 3], matmul: [2, 3] });
  });

  it("derive: x' of a scalar is x", () => {
    const r = cliJson(['derive', "x'*y"]);
    expect(r.code).toBe(0);
    expect(r.json.derivatives).toEqual({ x: 'y', y: 'x' });
  });
});
