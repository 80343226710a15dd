import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

describe('tensors through the CLI', () => {
  it('literals in --at, gradients shaped like the variables in JSON', () => {
    const { code, json } = cliJson(['grad', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]']);
    expect(code).toBe(0);
    expect(json.gradient.W).toEqual([
      [-2, 2],
      [-2, 2],
    ]);
    expect(json.gradient.x).toEqual([-8, -12]);
    expect(json.check.finiteDifference.W[1][1]).toBeCloseTo(2, 8);
  });

  it('a shape error exits 2 with a caret under the operator, naming both shapes', () => {
    const r = cli(['grad', 'sum(W*x)', '--at', 'W=[[1,2,3],[4,5,6]], x=[1,2]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('W*x: [2,3] * [2] — inner dimensions differ (3 and 2)');
    expect(r.stderr).toContain('  sum(W*x)\n       ^\n');
    const j = cliJson(['grad', 'sum(W*x)', '--at', 'W=[[1,2,3],[4,5,6]], x=[1,2]']);
    expect(j.code).toBe(2);
    expect(j.json.error.code).toBe('shape');
    expect(j.json.error.span).toEqual({ start: 5, end: 6 });
  });

  it('reads values from JSON and .npy files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-'));
    writeFileSync(
      join(dir, 'v.json'),
      JSON.stringify({
        W: [
          [1, 2],
          [3, 4],
        ],
        x: [1, -1],
      }),
    );
    // a 2×2 float64 C-order .npy, written by hand
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = `${header + ' '.repeat(pad)}\n`;
    const buf = Buffer.alloc(10 + h.length + 32);
    buf.writeUInt8(0x93, 0);
    buf.write('NUMPY', 1, 'latin1');
    buf.writeUInt8(1, 6);
    buf.writeUInt8(0, 7);
    buf.writeUInt16LE(h.length, 8);
    buf.write(h, 10, 'latin1');
    [1, 2, 3, 4].forEach((v, i) => buf.writeDoubleLE(v, 10 + h.length + 8 * i));
    writeFileSync(join(dir, 'w.npy'), buf);
    const a = cliJson(['grad', 'sum((W*x).^2)', '--at', `@${join(dir, 'v.json')}`]);
    expect(a.json.gradient.W).toEqual([
      [-2, 2],
      [-2, 2],
    ]);
    const b = cliJson(['grad', 'sum((W*x).^2)', '--at', `W=@${join(dir, 'w.npy')}`, '--at', 'x=[1,-1]']);
    expect(b.code).toBe(0);
    expect(b.json.gradient.W).toEqual([
      [-2, 2],
      [-2, 2],
    ]);
    writeFileSync(join(dir, 'bad.npy'), 'not numpy');
    const c = cli(['grad', 'sum(W)', '--at', `W=@${join(dir, 'bad.npy')}`]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('not a .npy file');
  });

  it('randn with --seed is deterministic, and a different seed differs', () => {
    const a = cliJson(['grad', 'sum(W.^2)', '--at', 'W=randn(2,3)', '--seed', '5']);
    const b = cliJson(['grad', 'sum(W.^2)', '--at', 'W=randn(2,3)', '--seed', '5']);
    const c = cliJson(['grad', 'sum(W.^2)', '--at', 'W=randn(2,3)', '--seed', '6']);
    expect(a.json.point.W).toEqual(b.json.point.W);
    expect(a.json.point.W).not.toEqual(c.json.point.W);
    expect(a.json.gradient.W).toEqual(a.json.point.W.map((r: number[]) => r.map((v) => 2 * v)));
  });

  it('indexing, ranges and array literals', () => {
    const { json } = cliJson(['grad', 'v[2]*A[1,2] + sum(v[2:3]) + sum(A[:,1]) + sum([x, x^2, 3*x])', '--at', 'v=[1,2,3], A=[[1,2],[3,4]], x=2']);
    expect(json.gradient.v).toEqual([0, 3, 1]);
    expect(json.gradient.A).toEqual([
      [1, 2],
      [1, 0],
    ]);
    expect(json.gradient.x).toBe(1 + 4 + 3);
  });

  it('an index out of range is a clear error', () => {
    const r = cli(['grad', 'v[4]', '--at', 'v=[1,2,3]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('index 4 is out of range for v (1 to 3; indices are 1-based)');
    expect(r.stderr).toContain('  v[4]\n    ^');
  });

  it('large tensors are summarised in the human view, edges can be full or hidden', () => {
    const r = cli(['grad', 'sum(tanh(W))', '--at', 'W=randn(10,10)']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[10×10\] ‖·‖=[\d.]+ *\n.*min -?[\d.e-]+ max -?[\d.e-]+ *\n.*first -?[\d.e-]+, /);
    const none = cli(['grad', 'sum(tanh(W))', '--at', 'W=randn(10,10)', '--edges', 'none']);
    expect(none.stdout).not.toContain('edges in backprop order');
    const full = cliJson(['grad', 'sum(tanh(W))', '--at', 'W=randn(10,10)', '--edges', 'full']);
    expect(full.json.edges[0].downstream.length).toBe(10);
  });

  it('the directional check is reported as such above --fd-max', () => {
    const { code, json } = cliJson(['grad', 'sum(sin(W))', '--at', 'W=randn(20,20)', '--fd-max', '100', '--sample', '10', '--directions', '3']);
    expect(code).toBe(0);
    expect(json.check.mode).toBe('directional');
    expect(json.check.directions.length).toBe(3);
    expect(json.check.sampled).toBe(10);
    expect(json.forward).toBeNull();
  });
});
