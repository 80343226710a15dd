import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, pythonWith, ROOT } from '../helpers.js';

/**
 * Fixtures from public coursework in its own notation (fixtures/courses/): each case's
 * published answer is accepted by `check`, and every value and gradient is PyTorch's,
 * recomputed here by the course's own code (micrograd's expressions, CS231n's
 * svm_loss_naive / softmax_loss_naive loops, the Matrix Cookbook's products), not by the
 * formula.
 */
const TORCH_PY = pythonWith('numpy, torch');
const FILES = ['micrograd.yaml', 'cs231n.yaml', 'cookbook.yaml'].map((f) => join('fixtures', 'courses', f));

interface Case {
  name: string;
  f: string;
  at: Record<string, unknown>;
  wrt?: string[];
  expect: { value?: number; gradient?: Record<string, unknown> };
}
const cases: Case[] = FILES.flatMap((f) => parse(readFileSync(join(ROOT, f), 'utf8')) as Case[]);

/** The course's own computation of each case, by the start of its name: PyTorch in float64, 0-based as the sources are. */
const RECIPES: Record<string, string> = {
  'micrograd lecture: L =': 'e = a*b; d = e + c; return d*f',
  'micrograd lecture: a tanh': 'n = x1*w1 + x2*w2 + b; return n.tanh()',
  'micrograd README': `c = a + b; d = a*b + b**3; c = c + c + 1; c = c + 1 + c + (-a)
    d = d + d*2 + (b + a).relu(); d = d + 3*d + (b - a).relu()
    e = c - d; f = e**2; g = f / 2.0; g = g + 10.0 / f; return g`,
  'CS231n backprop notes': 'dot = w[0]*x[0] + w[1]*x[1] + w[2]; return 1.0 / (1 + torch.exp(-dot))',
  'CS231n assignment 1: multiclass SVM': `loss = 0
    for i in range(X.shape[0]):
        s = X[i] @ W; yi = int(Y[i].argmax())
        for j in range(W.shape[1]):
            if j != yi and s[j] - s[yi] + 1 > 0: loss = loss + s[j] - s[yi] + 1
    return loss / X.shape[0]`,
  'CS231n assignment 1: softmax': `loss = 0
    for i in range(X.shape[0]):
        s = X[i] @ W + (b if 'b' in locals() else 0); s = s - s.max(); yi = int(Y[i].argmax())
        loss = loss - torch.log(torch.exp(s[yi]) / torch.exp(s).sum())
    return loss / X.shape[0]`,
  'Matrix Cookbook (70)': 'return a @ X @ b',
  'Matrix Cookbook (71)': 'return a @ X.T @ b',
  'Matrix Cookbook (81)': 'return x @ B @ x',
};
const recipeOf = (name: string) => Object.entries(RECIPES).find(([k]) => name.startsWith(k))?.[1];

/** Every case's value and gradients (all inputs) from PyTorch, in one interpreter run. */
function torchResults(): { value: number; grad: Record<string, number[]> }[] {
  const fns = cases.map((c, i) => `def case${i}(${Object.keys(c.at).join(', ')}):\n    ${recipeOf(c.name)}\n`).join('\n');
  const script = `import json, sys, torch
torch.set_default_dtype(torch.float64)
${fns}
out = []
for i, at in enumerate(json.load(sys.stdin)):
    xs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in at.items()}
    y = globals()['case%d' % i](**xs)
    y.backward()
    out.append({'value': y.item(), 'grad': {k: x.grad.reshape(-1).tolist() for k, x in xs.items() if x.grad is not None}})
print(json.dumps(out))
`;
  const r = spawnSync(TORCH_PY!, ['-c', script], { input: JSON.stringify(cases.map((c) => c.at)), encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
/** Decimal places a published number is written to (24.7041: 4). */
const decimals = (v: number) => (String(v).split('.')[1] ?? '').length;

describe('course fixtures: every published answer is accepted by check', () => {
  it('check passes every case, and notes the names that shadow a constant or function', () => {
    const r = cli(['check', ...FILES, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.cases).toHaveLength(cases.length);
    for (const c of out.cases) expect(c.status, c.name).toBe('pass');
    expect(r.stdout).toContain('the step e shadows the constant e (2.71828)');
    expect(r.stdout).toContain('the step dot shadows the name of the function dot');
  });
});

describe('course fixtures: wrong answers in the same notation fail, the mistake named', () => {
  const at = ['--at', 'x=randn(3)', '--at', 'B=randn(3,3)'];
  it('assuming B symmetric, 2 B x for x^T B x, fails', () => {
    const r = cli(['check', 'x^T B x', ...at, '--expect', 'x=2 B x', '--wrt', 'x', '--json']);
    // exit 1: a check failed
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).cases[0].status).toBe('fail');
  });
  it('b a^T for a^T X b is the transpose', () => {
    const r = cli(['check', 'a^T X b', '--at', 'a=randn(3)', '--at', 'X=randn(3,3)', '--at', 'b=randn(3)', '--expect', 'X=b a^T', '--wrt', 'X']);
    expect(r.stdout).toContain('your ∂f/∂X is the transpose of the true value');
    expect(r.stdout).toMatch(/✗ 1 case: 0 passed, 1 failed/);
    expect(r.code).toBe(1);
  });
});

describe('course fixtures: every value is PyTorch running the course code', () => {
  it('the published values, the CLI and PyTorch agree (the square-batch SVM included)', () => {
    expect(TORCH_PY, 'a python3 with NumPy and torch (apt-get install python3-numpy python3-torch)').toBeDefined();
    for (const c of cases) expect(recipeOf(c.name), `a PyTorch recipe for ${c.name}`).toBeDefined();
    const refs = torchResults();
    cases.forEach((c, i) => {
      const ref = refs[i];
      // the published value is PyTorch's, to the places it is written
      if (c.expect.value !== undefined) expect(Math.abs(ref.value - c.expect.value), c.name).toBeLessThanOrEqual(0.5 * 10 ** -decimals(c.expect.value) + 1e-12);
      for (const [name, published] of Object.entries(c.expect.gradient ?? {})) {
        if (typeof published === 'string') continue;
        flat(published).forEach((p, k) =>
          expect(Math.abs(ref.grad[name][k] - p), `${c.name} ∂/∂${name}[${k}]`).toBeLessThanOrEqual(0.5 * 10 ** -decimals(p) + 1e-12),
        );
      }
      // the CLI computes PyTorch's numbers to rounding
      const wrt = c.wrt ?? Object.keys(c.at);
      const at = Object.entries(c.at).flatMap(([k, v]) => ['--at', `${k}=${JSON.stringify(v)}`]);
      const r = cli(['grad', c.f, ...at, ...wrt.flatMap((w) => ['--wrt', w]), '--json']);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(Math.abs(j.value - ref.value), c.name).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref.value)));
      for (const name of wrt) {
        const got = flat(j.gradient[name]);
        got.forEach((g, k) =>
          expect(Math.abs(g - ref.grad[name][k]), `${c.name} ∂/∂${name}[${k}]`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(ref.grad[name][k]))),
        );
      }
    });
  });
});
