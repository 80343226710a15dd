import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, expectNoTrace, expectRefused } from './harness.js';

/** Class 4: case files are untrusted — aliases, @file references, special files, tolerances. */
const dir = mkdtempSync(join(tmpdir(), 'ag-cases-'));
const secret = join(dir, 'secret.txt');
writeFileSync(secret, 'TOP-SECRET-LINE root:x:0:0\n');
const outside = join(dir, 'outside.json');
writeFileSync(outside, '{"x": 1}');
const home = join(dir, 'course');
mkdirSync(join(home, 'sub'), { recursive: true });
writeFileSync(join(home, 'sub', 'values.json'), '{"x": 2}');
symlinkSync(outside, join(home, 'link.json'));
symlinkSync('/dev/zero', join(home, 'zero.json'));

function caseFile(name: string, text: string): string {
  const f = join(home, name);
  writeFileSync(f, text);
  return f;
}
const noLeak = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout + r.stderr).not.toContain('TOP-SECRET');
  expect(r.stdout + r.stderr).not.toContain('root:x:0:0');
};

describe('case files are untrusted', () => {
  it('a 1 KB YAML alias bomb (billion laughs) is refused in well under a second of work', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    lines.push('cases: [{ f: "x^2", at: { x: *a9 } }]');
    const f = caseFile('bomb.yaml', `${lines.join('\n')}\n`);
    expect(readFileSync(f).length).toBeLessThan(1100);
    const r = attack(['check', f, caseFile('ok.yaml', '- f: x^2\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expands too many aliases/);
    expect(r.stdout).toMatch(/1 passed/);
    expectNoTrace(r);
    expect(r.cpuMs).toBeLessThan(5000);
    expect(r.peakMB).toBeLessThan(200);
  });

  for (const [name, at, why] of [
    ['an absolute path', `@${secret}`, /an absolute path/],
    ['a path with ..', '@../outside.json', /a path with \.\./],
    ['a symlink out of the folder', '@link.json', /outside the folder \(through a symlink\)/],
  ] as const) {
    it(`at: "${at}" (${name}) is refused without --allow-files, and nothing of the file is shown`, () => {
      const f = caseFile(`ref-${name.length}.yaml`, `- f: x^2\n  at: "${at}"\n- f: y^2\n`);
      const r = attack(['check', f]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(why);
      expect(r.stdout).toMatch(/--allow-files/);
      expect(r.stdout).toMatch(/1 passed, 1 error/);
      noLeak(r);
    });
  }

  it('the issue’s at: "@/etc/passwd" never prints a line of it, even with --allow-files', () => {
    const f = caseFile('passwd.yaml', '- f: x^2\n  at: "@/etc/passwd"\n');
    for (const extra of [[], ['--allow-files']]) {
      const r = attack(['check', f, ...extra, '--reporter', 'json']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).not.toMatch(/root:|nologin|\/bin\/(ba)?sh/);
    }
    const g = caseFile('secret.yaml', `- f: x^2\n  at: "@${secret}"\n`);
    noLeak(attack(['check', g, '--allow-files']));
  });

  it('a file inside the folder tree is read; --allow-files lets one outside be read', () => {
    const f = caseFile(
      'inside.yaml',
      '- f: x^2\n  at: "@sub/values.json"\n  expect: { gradient: { x: 4 } }\n- f: x^2\n  at: "@link.json"\n  expect: { gradient: { x: 2 } }\n',
    );
    const strict = attack(['check', f]);
    expect(strict.stdout).toMatch(/1 passed, 1 error/);
    const open = attack(['check', f, '--allow-files']);
    expect(open.code).toBe(0);
  });

  it('FIFOs, /dev/zero and symlinks to them are refused at once, never read', () => {
    const fifo = join(home, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const f = caseFile('special.yaml', '- f: x^2\n  at: "@pipe.json"\n- f: x^2\n  at: "@zero.json"\n');
    const r = attack(['check', f, '--allow-files'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/a pipe \(FIFO\), not a regular file/);
    expect(r.stdout).toMatch(/a character device, not a regular file/);
    // a read of the FIFO would block until the child's 20 s bound killed it; a read of /dev/zero would spin
    expect(r.signal).toBeNull();
    expect(r.cpuMs).toBeLessThan(8000);
    for (const args of [
      ['grad', 'x', '--at', `@${fifo}`],
      ['grad', 'x', '--at', '@/dev/zero'],
      ['grad', `@${fifo}`, '--at', 'x=1'],
      ['check', fifo],
      ['grad', 'sum(W)', '--at', 'W=@/dev/zero'],
    ]) {
      expectRefused(attack(args, { timeoutMs: 20_000 }), /not a regular file/, { maxCpuMs: 8000, maxMB: 150 });
    }
  });

  it('a case file cannot loosen its own judgement: rtol/atol above the caps, eps ≤ 0, .inf, .nan are case errors', () => {
    const f = caseFile(
      'loose.yaml',
      [
        '- f: x^2',
        '  rtol: 0.5',
        '- f: x^2',
        '  atol: 1',
        '- f: x^2',
        '  eps: 0',
        '- f: x^2',
        '  rtol: .inf',
        '- f: x^2',
        '  atol: .nan',
        '- f: x^2',
        '  eps: -1e-6',
        '- f: x^2',
        '  rtol: 0.05',
        '',
      ].join('\n'),
    );
    const r = attack(['check', f, '--reporter', 'json']);
    expect(r.code).toBe(1);
    const cases = JSON.parse(r.stdout).cases as { status: string; error?: { message: string } }[];
    expect(cases.map((c) => c.status)).toEqual(['error', 'error', 'error', 'error', 'error', 'error', 'pass']);
    expect(cases[0].error!.message).toMatch(/rtol: 0\.5 is above 0\.1, the most a case file may set/);
    expect(cases[2].error!.message).toMatch(/eps: should be a positive finite number, not 0/);
    expect(cases[3].error!.message).toMatch(/Infinity/);
    // the command line may raise the caps
    const raised = attack(['check', f, '--reporter', 'json', '--max-rtol', '1', '--max-atol', '2']);
    expect((JSON.parse(raised.stdout).cases as { status: string }[]).slice(0, 2).map((c) => c.status)).toEqual(['pass', 'pass']);
  });
});
