import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, expectRefused } from './harness.js';

/** Class 10: the smaller items found on the way. */
const dir = mkdtempSync(join(tmpdir(), 'ag-small-'));

function npy(header: string, body = Buffer.alloc(0)): string {
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = Buffer.from(`${header}${' '.repeat(pad)}\n`, 'latin1');
  const f = join(dir, `${Math.random().toString(36).slice(2)}.npy`);
  writeFileSync(f, Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, h.length & 255, h.length >> 8]), h, body]));
  return f;
}

describe('smaller items', () => {
  it('deep unary chains and ^ towers name --max-depth', () => {
    for (const f of [`${'-'.repeat(50_000)}x`, Array.from({ length: 20_000 }, () => 'x').join('^'), `${'not '.repeat(300)}x`]) {
      const file = join(dir, 'deep.txt');
      writeFileSync(file, f);
      expectRefused(attack(['grad', `@${file}`, '--at', 'x=1']), /--max-depth/);
    }
  });

  it('JSON case files reject duplicate keys, as YAML ones do', () => {
    const j = join(dir, 'dup.json');
    writeFileSync(j, '[{"f": "x^2", "f": "y^2"}]');
    const r = attack(['check', j]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dup\.json:1:\d+: the case file is not valid JSON: a key appears twice in one object/);
    const y = join(dir, 'dup.yaml');
    writeFileSync(y, '- f: x^2\n  f: y^2\n');
    expect(attack(['check', y]).stderr).toMatch(/a key appears twice/);
    const v = join(dir, 'dupv.json');
    writeFileSync(v, '{"x": 1, "x": 2}');
    expectRefused(attack(['grad', 'x^2', '--at', `@${v}`]), /the name "x" is given twice/);
  });

  it('.npy headers are read strictly', () => {
    const ok = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", Buffer.from(new Float64Array([1, 2]).buffer));
    expect(attack(['grad', 'sum(v.^2)', '--at', `v=@${ok}`]).code).toBe(0);
    for (const [header, why] of [
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<f4', }", /gives descr twice/],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (2; 3), }", /shape must be a tuple/],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", /--max-entries|too large/],
      ["{'descr': '<f8', 'shape': (2,), }", /has no fortran_order/],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", /unexpected header key/],
      ["{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", /fortran_order must be True or False/],
    ] as const) {
      expectRefused(attack(['grad', 'sum(v)', '--at', `v=@${npy(header, Buffer.alloc(16))}`]), why);
    }
  });

  it('--shard 0/0 and friends give a sensible message', () => {
    for (const s of ['0/0', '1/0', '3/2', 'a/b']) expectRefused(attack(['check', 'fixtures/ci/passing', '--shard', s]), /--shard/);
  });
});
