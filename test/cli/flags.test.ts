import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, cliJson, ROOT } from '../helpers.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('flags that keep their word', () => {
  it("--version prints this package's version from any folder, inside another project too", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-version-'));
    expect(cli(['--version'], { cwd: dir }).stdout.trim()).toBe(VERSION);
    // another project's package.json in the folder it runs from is not ours
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
    const r = cli(['--version'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
    expect(BIN.startsWith(dir)).toBe(false);
  });

  it('--color wins over NO_COLOR; --no-color wins over FORCE_COLOR', () => {
    const args = ['grad', 'x^2', '--at', 'x=1'];
    expect(cli([...args, '--color'], { env: { NO_COLOR: '1' } }).stdout).toMatch(/\x1b\[/);
    expect(cli(args, { env: { NO_COLOR: '1' } }).stdout).not.toMatch(/\x1b\[/);
    expect(cli([...args, '--no-color'], { env: { FORCE_COLOR: '1', NO_COLOR: undefined as unknown as string } }).stdout).not.toMatch(/\x1b\[/);
    // an empty NO_COLOR is no request (no-color.org): FORCE_COLOR still turns colour on
    expect(cli(args, { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).stdout).toMatch(/\x1b\[/);
  });

  it('graph --mode forward --wrt "W[1,2]" seeds that one entry, as documented', () => {
    const r = cli(['graph', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--mode', 'forward', '--wrt', 'W[1,2]']);
    expect(r.code).toBe(0);
    // ∂/∂W[1,2] of (W x)_1² = 2 (W x)_1 x_2 = 2·(-1)·(-1) = 2
    expect(r.stdout).toContain('∂f/∂W[1,2] = 2');
    const bad = cli(['graph', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--mode', 'forward', '--wrt', 'W[3,1]']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/W has shape \[2,2\]/);
  });

  it('jacobian: the timings of a small run are called noise, never set against the pass counts', () => {
    const r = cli(['jacobian', '[x*y, sin(x), x+z, x]', '--at', 'x=2,y=3,z=1']);
    expect(r.code).toBe(0);
    const table = r.stdout.slice(r.stdout.indexOf('mode'));
    const ms = [...table.matchAll(/^(?:forward|reverse) .* ([\d.]+) ms$/gm)].map((m) => Number(m[1]));
    expect(ms).toHaveLength(2);
    if (Math.max(...ms) < 1) expect(table).toMatch(/times under 1 ms are noise/);
    // forward takes 3 passes, reverse 4: if forward timed slower, the table says the timings point the other way
    else if (ms[0] > ms[1]) expect(table).toMatch(/timings point the other way/);
  });

  it('engine auto: the lecture example runs on the TypeScript engine without the addon; a large tape on the native one when built', () => {
    expect(cliJson(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi']).json.engine).toBe('js');
    const big = cliJson(['grad', 'sum((W*x).^2)', '--at', 'W=randn(40,40), x=randn(40)', '--no-check', '--edges', 'none']);
    const doctor = JSON.parse(cli(['doctor', '--json']).stdout) as { engine: string };
    if (doctor.engine === 'native') expect(big.json.engine).toBe('native');
    else expect(big.json.engine).toBe('js');
  });

  it('README links nowhere outside the repository', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
    for (const l of links) expect(l, l).toMatch(/^(#|\.\/|[\w-]+\/)/);
    expect(readme).not.toMatch(/https?:\/\//);
  });
});

describe('grad --latex', () => {
  it('writes each edge as ∂to/∂from = its local derivative = its value, in an align* block', () => {
    const r = cli(['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--latex']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toBe('\\begin{align*}');
    expect(lines[lines.length - 1]).toBe('\\end{align*}');
    expect(r.stdout).toContain('\\frac{\\partial \\sin\\left( x\\right)}{\\partial x} &= \\cos\\left( x\\right) = -1 \\\\');
    expect(r.stdout).toContain('&= \\sin\\left( x\\right) = 1.22465\\cdot10^{-16} \\\\');
    expect(lines).toHaveLength(5 + 3);
  });
});
