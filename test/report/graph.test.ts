import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { formatFromPath, renderAscii, renderDot, renderGraph, renderMermaid, renderSvg } from '../../src/report/graph/index.js';
import { dotToSvg } from '../../src/report/graph/svg.js';
import { ROOT } from '../helpers.js';

const LECTURE = { formula: '(x+y)*sin(x)', at: { x: Math.PI, y: Math.PI } };

/** `<g class="node">` elements of a Graphviz SVG, wherever they sit in the tree. */
function svgNodes(svg: string): { title: string }[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(svg);
  const found: { title: string }[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (typeof x !== 'object' || x === null) return;
    const o = x as Record<string, unknown>;
    if (o['@class'] === 'node') found.push({ title: String(o.title) });
    Object.values(o).forEach(walk);
  };
  walk(doc);
  return found;
}

describe('graph renderers', () => {
  it('ASCII: the lecture picture of (x+y)*sin(x) matches its snapshot', () => {
    const want = readFileSync(join(ROOT, 'fixtures/graph/lecture-xy-sinx.txt'), 'utf8');
    expect(`${renderAscii(graphResult(LECTURE.formula, LECTURE.at))}\n`).toBe(want);
  });

  it('ASCII: a shared node is drawn once with its inputs, then marked', () => {
    const text = renderAscii(graphResult('s = sin(x); s*s + s', { x: 0.5 }));
    expect(text.match(/sin {2}s/g)).toHaveLength(3);
    expect(text.match(/└─ x|├─ x/g)).toHaveLength(1);
    expect(text.match(/↑/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it('ASCII: a long chain is listed node by node rather than drawn 300 levels deep', () => {
    const text = renderAscii(graphResult(Array.from({ length: 300 }, () => 'x').join(' * '), { x: 1.001 }));
    expect(text).toMatch(/too large or deep to draw as a tree/);
    expect(text.split('\n').length).toBeLessThan(320);
  });

  it('SVG is well-formed XML with one node element per tape node', async () => {
    for (const [formula, at] of [
      [LECTURE.formula, LECTURE.at],
      ['q = x + y; f = q*z', { x: -2, y: 5, z: -4 }],
      [
        'sum((W*x).^2)',
        {
          W: [
            [1, 2],
            [3, 4],
          ],
          x: [1, -1],
        },
      ],
      ['2*(x*y + max(z, w))', { x: 3, y: -4, z: 2, w: -1 }],
    ] as const) {
      const r = graphResult(formula, at as Record<string, number>);
      const svg = await renderSvg(r);
      expect(XMLValidator.validate(svg)).toBe(true);
      const nodes = svgNodes(svg);
      expect(nodes).toHaveLength(r.nodes.length);
      expect(nodes.map((n) => n.title).sort()).toEqual(r.nodes.map((n) => `n${n.id}`).sort());
    }
  });

  it('labels with <, >, & and quotes are escaped in DOT, SVG and Mermaid', async () => {
    const r = graphResult('x > y ? x : y', { x: 2, y: 1 });
    const dot = renderDot(r);
    expect(dot).toContain('x &gt; y ? x : y');
    const svg = await dotToSvg(dot);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(renderMermaid(r)).toContain('x #gt; y ? x : y');
  });

  it('DOT renders with Graphviz, one node statement per tape node, values green and gradients red', async () => {
    const r = graphResult(LECTURE.formula, LECTURE.at);
    const dot = renderDot(r);
    expect(dot.match(/^ {2}n\d+ \[/gm)).toHaveLength(r.nodes.length);
    expect(dot.match(/^ {2}n\d+ -> n\d+ /gm)).toHaveLength(r.edges.length);
    expect(dot).toContain(
      'n0 -> n3 [id="e2", label=<<font color="#1a7f37">3.14159</font><br/><font color="#cf222e">-6.28319</font><br/><font point-size="9" color="#57606a">local cos(x) = -1</font>>',
    );
    const svg = await dotToSvg(dot);
    expect(svg).toMatch(/<svg /);
    await expect(dotToSvg('digraph { a -> }')).rejects.toThrow(/Graphviz could not lay out/);
  });

  it('Mermaid has one node line per tape node and one link per edge', () => {
    for (const [formula, at] of [
      [LECTURE.formula, LECTURE.at],
      ['[x*y, sin(x), x+z]', { x: 2, y: 3, z: 1 }],
      ['sigma(t) = 1/(1+exp(-t)); sigma(w*x + b)', { w: 2, x: -1, b: 0.5 }],
    ] as const) {
      const r = graphResult(formula, at);
      const text = renderMermaid(r);
      expect(text.split('\n')[3]).toBe('flowchart LR');
      expect(text.match(/^ {2}n\d+[[(]/gm)).toHaveLength(r.nodes.length);
      expect(text.match(/^ {2}n\d+ -->/gm)).toHaveLength(r.edges.length);
    }
    // a formula that starts with [ stays a YAML string in the front matter
    expect(renderMermaid(graphResult('[x*y, sin(x)]', { x: 2, y: 3 }))).toMatch(/^title: "\[x\*y, sin\(x\)\]/m);
  });

  it('forward mode colours tangents blue and labels them ∂·/∂x', () => {
    const r = graphResult(LECTURE.formula, LECTURE.at, { mode: 'forward', wrt: ['x'] });
    expect(renderDot(r)).toContain('<font color="#0969da">-6.28319</font>');
    expect(renderAscii(r)).toContain('∂f/∂x = -6.28319');
  });

  it('JSON is the model, and formats come from file extensions', async () => {
    const r = graphResult(LECTURE.formula, LECTURE.at);
    const json = JSON.parse(await renderGraph(r, 'json'));
    expect(json.nodes).toHaveLength(5);
    expect(json.edges).toHaveLength(5);
    expect(formatFromPath('a/b.svg')).toBe('svg');
    expect(formatFromPath('g.MMD')).toBe('mermaid');
    expect(formatFromPath('g.gv')).toBe('dot');
    expect(formatFromPath('g.txt')).toBe('ascii');
    expect(formatFromPath('g.png')).toBe('png');
    expect(() => formatFromPath('g.bmp')).toThrow(/\.bmp/);
    expect(() => formatFromPath('graph')).toThrow(/without an extension/);
  });
});
