import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, cli, cliJson, ROOT } from '../helpers.js';

const LECTURE = ['(x+y)*sin(x)', '--at', 'x=pi,y=pi'];

describe('autograd-cli graph (the real bin)', () => {
  it('ascii by default: the lecture picture, exactly', () => {
    const r = cli(['graph', ...LECTURE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'fixtures/graph/lecture-xy-sinx.txt'), 'utf8'));
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('colours only when asked (or on a terminal): values green, gradients red', () => {
    // the helper sets NO_COLOR (any value disables colour); take it away and force colour on
    const forced = cli(['graph', ...LECTURE], { env: { FORCE_COLOR: '1', NO_COLOR: undefined as unknown as string } });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/\x1b\[32m3\.14159/);
    expect(forced.stdout).toMatch(/\x1b\[31m-6\.28319/);
  });

  it('-o picks the format from the extension: svg, mermaid, dot, json, txt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-graph-'));
    const svg = join(dir, 'g.svg');
    let r = cli(['graph', ...LECTURE, '-o', svg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    // the size written is the file's
    expect(r.stderr).toContain(`wrote ${svg} (svg: 5 nodes, 5 edges, ${(statSync(svg).size / 1e3).toFixed(1)} kB)`);
    const text = readFileSync(svg, 'utf8');
    expect(XMLValidator.validate(text)).toBe(true);
    expect(text.match(/class="node"/g)).toHaveLength(5);

    r = cli(['graph', ...LECTURE, '-o', join(dir, 'g.mmd')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'g.mmd'), 'utf8').match(/^ {2}n\d+[[(]/gm)).toHaveLength(5);

    r = cli(['graph', ...LECTURE, '-o', join(dir, 'g.dot')]);
    expect(readFileSync(join(dir, 'g.dot'), 'utf8')).toMatch(/^digraph autograd \{/);

    r = cli(['graph', ...LECTURE, '-o', join(dir, 'g.json')]);
    expect(JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')).nodes).toHaveLength(5);

    // an explicit --format wins over the extension; files never get colour codes
    r = cli(['graph', ...LECTURE, '-o', join(dir, 'g.txt'), '--format', 'dot', '--color']);
    expect(readFileSync(join(dir, 'g.txt'), 'utf8')).toMatch(/^digraph/);
    r = cli(['graph', ...LECTURE, '-o', join(dir, 'pic.txt'), '--color']);
    expect(readFileSync(join(dir, 'pic.txt'), 'utf8')).not.toMatch(/\x1b\[/);
  });

  it('-o graph.png draws the picture in-process: a PNG twice the SVG size, with the size written, or to a pipe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-graph-'));
    const png = join(dir, 'g.png');
    const r = cli(['graph', ...LECTURE, '-o', png]);
    expect(r.code).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(r.stderr).toContain(`wrote ${png} (png: 5 nodes, 5 edges, ${(bytes.length / 1e3).toFixed(1)} kB)`);
    // IHDR: width and height, twice the SVG's size (4/3 pixels to each of its points)
    const svg = cli(['graph', ...LECTURE, '-f', 'svg']).stdout;
    const [, w, h] = /viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg)!.map(Number);
    expect(Math.abs(bytes.readUInt32BE(16) - (2 * 4 * w) / 3)).toBeLessThanOrEqual(2);
    expect(Math.abs(bytes.readUInt32BE(20) - (2 * 4 * h) / 3)).toBeLessThanOrEqual(2);
    // to a pipe it is written as it is
    const piped = spawnSync(process.execPath, [BIN, 'graph', ...LECTURE, '-f', 'png'], { env: { ...process.env, NO_COLOR: '1' } });
    expect(piped.status).toBe(0);
    expect(piped.stdout.subarray(1, 4).toString()).toBe('PNG');
  });

  it('--edges works as in grad: full writes tensors whole, none leaves the edges unlabelled', () => {
    const args = ['graph', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '-f', 'dot'];
    const summary = cli(args).stdout;
    const full = cli([...args, '--edges', 'full']).stdout;
    const none = cli([...args, '--edges', 'none']).stdout;
    expect(summary).toMatch(/n\d+ -> n\d+ \[id="e\d+", label=<<font color="#1a7f37">\[2x2\] norm 5\.477/);
    expect(full).toMatch(/n\d+ -> n\d+ \[id="e\d+", label=<<font color="#1a7f37">\[\[1, 2\]<\/font><br\/><font color="#1a7f37"> \[3, 4\]\]/);
    expect(none).not.toMatch(/ -> [^\n]*label=/);
    expect(none.match(/ -> /g)).toHaveLength(summary.match(/ -> /g)!.length);
    const ascii = cli(['graph', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]', '--edges', 'full']).stdout;
    expect(ascii).toContain('[[1, 2], [3, 4]]');
    expect(cli([...args, '--edges', 'most']).stderr).toMatch(/--edges must be summary, full or none, not most/);
  });

  it('-o backprop.html writes the explorer page and says how large it is; --format html writes it to stdout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-graph-'));
    const file = join(dir, 'backprop.html');
    const r = cli(['graph', '1/(1+exp(-(w0*x0+w1*x1+w2)))', '--at', 'w0=2,x0=-1,w1=-3,x1=-2,w2=-3', '-o', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`wrote ${file} (html: 14 nodes, 14 edges, ${(statSync(file).size / 1e3).toFixed(1)} kB)\n`);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    const data = JSON.parse(/<script type="application\/json" id="ag-data">([\s\S]*?)<\/script>/.exec(html)![1]);
    // both passes and every input for the forward-mode toggle, whatever --mode says
    expect(data.result.backprop).toHaveLength(12);
    expect(data.result.seeds.map((s: { wrt: string }) => s.wrt)).toEqual(['w0', 'x0', 'w1', 'x1', 'w2']);
    const fwd = cli(['graph', '(x+y)*sin(x)', '--at', 'x=pi,y=pi', '--mode', 'forward', '--wrt', 'y', '--format', 'html']);
    expect(fwd.code).toBe(0);
    const page = JSON.parse(/<script type="application\/json" id="ag-data">([\s\S]*?)<\/script>/.exec(fwd.stdout)![1]);
    expect([page.result.mode, page.result.wrt, page.result.backprop.length]).toEqual(['forward', 'y', 5]);
  });

  it('--json is the model; --format svg on stdout is one SVG', () => {
    const { code, json } = cliJson(['graph', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4']);
    expect(code).toBe(0);
    expect(json.nodes.map((n: { name: string }) => n.name)).toEqual(['x', 'y', 'q', 'z', 'f']);
    expect(json.nodes.find((n: { name: string }) => n.name === 'x').grad).toBe(-4);
    const svg = cli(['graph', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '-f', 'svg']);
    expect(XMLValidator.validate(svg.stdout)).toBe(true);
    expect(svg.stdout.match(/class="node"/g)).toHaveLength(5);
  });

  it('--mode forward --wrt x shows tangents', () => {
    const r = cli(['graph', ...LECTURE, '--mode', 'forward', '--wrt', 'x']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/value ▶ +∂·\/∂x ▶/);
    expect(r.stdout).toMatch(/^└─ sin {2}sin\(x\) +1\.22465e-16 +-1$/m);
    expect(r.stdout).toContain('∂f/∂x = -6.28319');
  });

  it('tensor nodes show shape and norm', () => {
    const r = cli(['graph', 'sum((W*x).^2)', '--at', 'W=[[1,2],[3,4]], x=[1,-1]']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/matmul {2}W\*x +\[2\] ‖·‖=1\.414 +\[2\] ‖·‖=2\.828/);
  });

  it('--json with another --format: exit 2, the error as JSON', () => {
    const { code, json } = cliJson(['graph', ...LECTURE, '--format', 'dot']);
    expect(code).toBe(2);
    expect(json.error.message).toBe('--json and --format dot ask for different formats');
  });

  it('bad usage: exit 2 with one clear line, no stack trace', () => {
    for (const [args, msg] of [
      [[...LECTURE, '-o', '/tmp/x.bmp'], /cannot tell the format from the extension \.bmp/],
      [[...LECTURE, '--mode', 'forward'], /--mode forward needs the input to seed/],
      [[...LECTURE, '-o', '/nonexistent-dir/g.svg'], /cannot write \/nonexistent-dir\/g\.svg/],
      [['sinn(x)', '--at', 'x=1'], /unknown function sinn/],
    ] as const) {
      const r = cli(['graph', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
