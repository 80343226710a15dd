import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack } from './harness.js';

/** Class 9: names and text from case files never reach a terminal, a CI log or a page raw. */
const dir = mkdtempSync(join(tmpdir(), 'ag-escape-'));
const EVIL = 'evil\u202Egnp.exe\u001b[2J\u001b]8;;http://x\u0007 <b>&\r';
// raw control or bidi characters that must not appear in any output
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

describe('escaping everywhere', () => {
  const f = join(dir, 'evil.yaml');
  writeFileSync(f, `- name: ${JSON.stringify(EVIL)}\n  f: x^2\n  expect: { gradient: { x: 3*x } }\n- name: ${JSON.stringify(EVIL)}\n  f: sinn(x)\n`);
  for (const reporter of ['table', 'json', 'junit', 'tap', 'github']) {
    it(`${reporter}: the case name's control and bidi characters are neutralised`, () => {
      const r = attack(['check', f, '--reporter', reporter]);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(RAW);
      expect(r.stderr).not.toMatch(RAW);
      if (reporter === 'json') expect(JSON.parse(r.stdout).cases[0].name).toBe(EVIL);
      else expect(r.stdout).toMatch(/evil\\+u202egnp\.exe\\+x1b\[2J/);
    });
  }

  it('a huge formula used as a case name is shown shortened', () => {
    // 8 KB of formula, forty times what a name may show: the output bound below holds only if it is shortened
    const long = `${'x+'.repeat(4_000)}x`;
    const g = join(dir, 'long.yaml');
    writeFileSync(g, `- f: ${long}\n`);
    const r = attack(['check', g, '--reporter', 'junit']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThan(5000);
    expect(r.stdout).toContain('…');
  });

  it('the Mermaid title and the graph caption neutralise what a formula string carries', () => {
    const r = attack(['graph', 'norm(v, "fro\u202E")', '--at', 'v=[1,2]', '-f', 'mermaid']);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
  });

  it('graph -f json summarises large tensors as grad --json does', () => {
    const r = attack(['graph', 'sum(W*x)', '--at', 'W=randn(500,500),x=randn(500)', '-f', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThan(200_000);
    const d = JSON.parse(r.stdout);
    expect(d.point.W).toMatchObject({ shape: [500, 500] });
    expect(d.point.W.first).toHaveLength(4);
  });
});
