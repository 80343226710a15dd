import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, expectNoTrace, expectRefused, SLOW_MS } from './harness.js';

/**
 * Class 4: pictures are bounded. A Graphviz layout cannot look at a deadline and grows
 * much faster than the graph (`sin(x*1)+…+sin(x*100)`, 1.7 KB, took 16 s under
 * --timeout 2): a graph past --max-picture-nodes is refused before any layout, and a
 * layout allowed past it is stopped at the deadline with the worker it runs on.
 */
const dir = mkdtempSync(join(tmpdir(), 'ag-pictures-'));
const sines = (n: number) => Array.from({ length: n }, (_, i) => `sin(x*${i + 1})`).join('+');
/** the deadline the runs below are given, and what they may take past it: start-up, the graph, ending the worker, a loaded machine */
const TIMEOUT_S = 2;
const SLACK_MS = 8000;

// the child's own time bound (timeoutMs) is the test's; vitest's default would cut a loaded machine short
describe('pictures are bounded', { timeout: 120_000 }, () => {
  for (const n of [100, 200]) {
    it(`a sum of ${n} sines is refused before any layout, naming --max-picture-nodes`, () => {
      const out = join(dir, `refused-${n}.svg`);
      const r = attack(['graph', sines(n), '--at', 'x=0.5', '-o', out, '--timeout', String(TIMEOUT_S)]);
      expectRefused(r, /the graph has \d+ nodes and \d+ edges, too many to lay out as a picture \(at most 120 nodes and 240 edges; --max-picture-nodes\)/, {
        maxMs: TIMEOUT_S * 1000 + SLACK_MS,
      });
      // how to see it anyway
      expect(r.stderr).toMatch(/-f ascii.*--json/);
      expect(existsSync(out)).toBe(false);
    });

    for (const format of ['svg', 'png', 'html']) {
      it(`past the cap (raised), a sum of ${n} sines as ${format} stops at --timeout ${TIMEOUT_S}`, () => {
        const out = join(dir, `timeout-${n}.${format}`);
        const r = attack(['graph', sines(n), '--at', 'x=0.5', '-o', out, '--timeout', String(TIMEOUT_S), '--max-picture-nodes', '100000']);
        expectRefused(r, /^error: the run took longer than 2 s and was stopped \(--timeout\)\n/, { maxMs: TIMEOUT_S * 1000 + SLACK_MS });
        expect(existsSync(out)).toBe(false);
      });
    }
  }

  it('under the cap a picture is drawn: svg, png and the explorer page', () => {
    for (const format of ['svg', 'png', 'html']) {
      const out = join(dir, `lecture.${format}`);
      const r = attack(['graph', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      expectNoTrace(r);
      expect(r.stderr).toMatch(new RegExp(`wrote .*lecture\\.${format} \\(${format}: 5 nodes, 4 edges`));
      const bytes = readFileSync(out);
      if (format === 'png') expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      else expect(bytes.toString('utf8')).toMatch(/<svg[\s>][\s\S]*<\/svg>/);
    }
  });

  it('a sum of 25 sines (100 nodes) is under the default cap and is drawn', () => {
    const out = join(dir, 'sines-25.svg');
    const r = attack(['graph', sines(25), '--at', 'x=0.5', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\(svg: 100 nodes, 123 edges/);
    expect(readFileSync(out, 'utf8')).toMatch(/sin\(x\*25\)/);
  });

  it('a PNG holds what --max-memory allows: fewer pixels, or refused with the SVG to write instead', () => {
    // 120 nodes laid out top to bottom, about 4700×5300 pixels: at half size still more than 0.02 GiB of pixels
    const out = join(dir, 'sines-30.png');
    const r = attack(['graph', sines(30), '--at', 'x=0.5', '-o', out, '--max-memory', '0.02']);
    expectRefused(r, /too large for a readable PNG \(at most [\d.]+ million pixels within --max-memory\)\n.*hint: write an SVG instead/, {
      maxMB: 0.02 * 1024 + 300,
    });
    expect(existsSync(out)).toBe(false);
  });

  it('the graph’s names and numbers stop at the deadline too (a sum of 400 sines as json)', () => {
    // naming 1600 nodes of a long formula took 15 s under --timeout 2, before any picture
    const r = attack(['graph', sines(400), '--at', 'x=0.5', '-f', 'json', '--timeout', String(TIMEOUT_S)]);
    expect(r.signal, r.stderr).toBeNull();
    expectNoTrace(r);
    // a fast machine may finish in time; either way it ends by the deadline
    if (r.code !== 0) expectRefused(r, /^error: the run took longer than 2 s and was stopped \(--timeout\)\n/, { maxMs: TIMEOUT_S * 1000 + SLACK_MS });
    expect(r.ms).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS);
  });

  for (const format of ['ascii', 'dot', 'mermaid', 'json']) {
    it(`-f ${format} of a sum of 400 sines ends by --timeout ${TIMEOUT_S}: the text is written within the deadline too`, () => {
      // the renderers ran after the deadline, unchecked, and shortened every name in quadratic time (12–21 s with no --timeout on a loaded machine)
      const r = attack(['graph', sines(400), '--at', 'x=0.5', '-f', format, '--timeout', String(TIMEOUT_S)]);
      expect(r.signal, r.stderr).toBeNull();
      expectNoTrace(r);
      if (r.code !== 0) expectRefused(r, /^error: the run took longer than 2 s and was stopped \(--timeout\)\n/, { maxMs: TIMEOUT_S * 1000 + SLACK_MS });
      else expect(r.stdout).toMatch(/sin\(x\*400\)/);
      expect(r.ms).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS);
    });
  }

  it('a long title wraps between terms, never inside its own indent', () => {
    const r = attack(['graph', sines(400), '--at', 'x=0.5', '--timeout', '600'], { timeoutMs: SLOW_MS });
    expect(r.code, r.stderr).toBe(0);
    const title = r.stdout.split('\n').slice(
      0,
      r.stdout.split('\n').findIndex((l) => l.startsWith('reverse mode')),
    );
    expect(title.length).toBeGreaterThan(1);
    for (const line of title.slice(0, -1)) expect(line).toMatch(/\+$/);
    for (const line of title.slice(1)) expect(line).toMatch(/^ {2}sin\(x\*/);
  });

  it('the cap is the user’s to set, and checked', () => {
    const r = attack(['graph', 'q = x + y; f = q*z', '--at', 'x=-2,y=5,z=-4', '-f', 'svg', '--max-picture-nodes', '4']);
    expectRefused(r, /the graph has 5 nodes and 4 edges, too many to lay out as a picture \(at most 4 nodes and 8 edges; --max-picture-nodes\)/);
    for (const bad of ['0', '1.5', '-3']) {
      expectRefused(attack(['graph', 'x^2', '--at', 'x=1', '-f', 'svg', '--max-picture-nodes', bad]), /--max-picture-nodes must be a positive whole number/);
    }
    // text formats have no layout, and no cap
    const ascii = attack(['graph', sines(100), '--at', 'x=0.5', '--max-picture-nodes', '4']);
    expect(ascii.code, ascii.stderr).toBe(0);
    expect(ascii.stdout).toMatch(/400 nodes/);
  });
});
