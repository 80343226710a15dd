import { describe, expect, it } from 'vitest';
import { localText } from '../../src/core/ops/text.js';
import { shorten } from '../../src/core/graph/describe.js';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { TimeoutError } from '../../src/core/limits.js';
import { renderGraph } from '../../src/report/graph/index.js';
import { shorten as shortenText } from '../../src/core/safe-text.js';

/** The definition, as it was written first: collapse the deepest group (the longest of the deepest) until the text fits — quadratic. */
function byDefinition(s: string, max: number): string {
  let t = s;
  for (;;) {
    if (t.length <= max) break;
    const stack: number[] = [];
    let best: { open: number; close: number; depth: number } | null = null;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '(' || t[i] === '[') stack.push(i);
      else if ((t[i] === ')' || t[i] === ']') && stack.length) {
        const open = stack.pop()!;
        if (t.slice(open + 1, i) === '…') continue;
        if (!best || stack.length > best.depth || (stack.length === best.depth && i - open > best.close - best.open))
          best = { open, close: i, depth: stack.length };
      }
    }
    if (!best) break;
    t = `${t.slice(0, best.open + 1)}…${t.slice(best.close)}`;
  }
  return shortenText(t, max, 'end');
}

const sines = (n: number) => Array.from({ length: n }, (_, i) => `sin(x*${i + 1})`).join('+');

describe('display names', () => {
  it('are shortened as the definition says, for random bracket soups', () => {
    const alphabet = ['(', ')', '[', ']', 'a', 'x', '1', '…', '+', '*', 'sin('];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 20_000; run++) {
      let s = '';
      for (let i = Math.floor(random() * 50); i > 0; i--) s += alphabet[Math.floor(random() * alphabet.length)];
      const max = 1 + Math.floor(random() * 30);
      expect(shorten(s, max), JSON.stringify([s, max])).toBe(byDefinition(s, max));
    }
    expect(shorten('1/(1+exp(-(w0*x0 + w1*x1 + w2)))')).toBe('1/(1+exp(-(…)))');
  });

  it('are shortened in time linear in the length: a sum of 20 000 sines, and 50 000 nested brackets', () => {
    // by the definition, each collapse rescans the text: 20 000 groups × 230 kB, minutes; once over it, milliseconds
    const wide = sines(20_000);
    const deep = `${'('.repeat(50_000)}x${')'.repeat(50_000)}`;
    const t0 = performance.now();
    expect(shorten(wide)).toBe('sin(…)+sin(…)+sin(…)+si…');
    expect(shorten(deep)).toBe(`${'('.repeat(11)}…${')'.repeat(11)}`);
    // a bound a quadratic shortening misses by orders of magnitude on any machine
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('the text renderers look at the deadline', () => {
  const r = graphResult(sines(50), { x: 0.5 });
  for (const format of ['ascii', 'dot', 'mermaid', 'json', 'svg', 'html'] as const) {
    // svg and html: the DOT they lay out is written within the deadline too, before the layout's worker
    it(`${format}: with no time left, a timeout naming the run's --timeout`, async () => {
      await expect(renderGraph(r, format, { within: { ms: 0, timeout: 7 }, maxPictureNodes: 100_000 })).rejects.toThrow(TimeoutError);
      await expect(renderGraph(r, format, { within: { ms: 0, timeout: 7 }, maxPictureNodes: 100_000 })).rejects.toThrow(/longer than 7 s/);
    });
  }

  it('with time left, the same text as with no deadline', async () => {
    for (const format of ['ascii', 'dot', 'mermaid', 'json'] as const) {
      expect(await renderGraph(r, format, { within: { ms: 600_000, timeout: 600 } })).toBe(await renderGraph(r, format));
    }
  });
});

describe('local derivatives are read off the one rule of each op', () => {
  it('tensor ops print their reverse rule with the upstream gradient g', () => {
    expect(
      localText(
        'matmul',
        {},
        [
          [2, 3],
          [3, 4],
        ],
        [2, 4],
        0,
      ),
    ).toBe("g*b'");
    expect(
      localText(
        'matmul',
        {},
        [
          [2, 3],
          [3, 4],
        ],
        [2, 4],
        1,
      ),
    ).toBe("a'*g");
    // v*B read as a row: ∂/∂v = B·g, ∂/∂B = v·gᵀ; a dot product: g times the other vector
    expect(localText('matmul', {}, [[3], [3, 4]], [4], 0)).toBe('b*g');
    expect(localText('matmul', {}, [[3], [3, 4]], [4], 1)).toBe("a*g'");
    expect(localText('matmul', {}, [[3], [3]], [], 0)).toBe('g*b');
    expect(localText('transpose', {}, [[2, 3]], [3, 2], 0)).toBe("g'");
    expect(localText('softmax', {}, [[4]], [4], 0)).toBe('s.*(g - sum(g.*s))');
    expect(localText('sum', {}, [[4]], [], 0)).toBe('g');
    expect(localText('subset', { gather: Int32Array.of(1), outShape: [] }, [[3]], [], 0)).toBe('g at the index');
  });

  it("elementwise ops print their partial as the table states it, guards decided on numbers in the edge's view", () => {
    expect(localText('sin', {}, [[]], [], 0)).toBe('cos(a)');
    expect(localText('pow', {}, [[], []], [], 0)).toBe('b == 0 ? 0 : b*a^(b-1)');
    const r = graphResult('x^2 + 2^x', { x: { shape: [], data: Float64Array.of(1.5) } });
    const locals = r.edges.map((e) => e.local);
    expect(locals).toContain('2*x');
    expect(locals).toContain('(2^x)*log(2)');
  });
});
