import { describe, expect, it } from 'vitest';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { formatFromPath, renderGraph } from '../../src/report/graph/index.js';
import { escapeHtml, renderHtml, scriptJson } from '../../src/report/html/index.js';

const SIGMOID = { formula: '1/(1+exp(-(w0*x0+w1*x1+w2)))', at: { w0: 2, x0: -1, w1: -3, x1: -2, w2: -3 } };

/** The page's JSON block, read back as the browser will. */
function pageData(html: string): { result: ReturnType<typeof graphResult>; digits: number; title: string } {
  const m = /<script type="application\/json" id="ag-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

describe('the explorer page (html)', () => {
  it('is one self-contained document: the picture, the data, the styles and the script, nothing fetched', async () => {
    const r = graphResult(SIGMOID.formula, SIGMOID.at, { seeds: 64 });
    const html = await renderHtml(r);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg[\s>]/g)).toHaveLength(1);
    expect(html.match(/<g id="n\d+" class="node"/g)).toHaveLength(r.nodes.length);
    expect(html.match(/<g id="e\d+" class="edge"/g)).toHaveLength(r.edges.length);
    // two scripts: the data and the page's code, inline
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script[^>]* src=|<link |@import|url\(/);
    // the only addresses are the SVG namespaces
    expect(html.match(/https?:\/\/[^"\s]+/g)?.every((u) => /^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u))).toBe(true);
    expect(html).toContain('<title>1/(1+exp(-(w0*x0+w1*x1+w2)))  at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3 — backprop explorer</title>');
  });

  it('carries the graph result: values, gradients, the backward order, the gradient as it builds, every seed', async () => {
    const r = graphResult(SIGMOID.formula, SIGMOID.at, { seeds: 64 });
    const data = pageData(await renderHtml(r, { digits: 4 }));
    const { point: _point, ...rest } = r;
    expect(data.result).toEqual(JSON.parse(JSON.stringify(rest)));
    expect(data.digits).toBe(4);
    expect(data.result.backprop).toHaveLength(12);
    expect(data.result.seeds!.map((s) => s.wrt)).toEqual(['w0', 'x0', 'w1', 'x1', 'w2']);
    expect(data.title).toBe('1/(1+exp(-(w0*x0+w1*x1+w2)))  at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3');
  });

  it('NaN and ±Infinity survive as the strings JSON has for them', async () => {
    const data = pageData(await renderHtml(graphResult('log(x) + 1/y', { x: -1, y: 0 }, { seeds: 8 })));
    const byOp = (op: string) => data.result.nodes.find((n) => n.op === op)!;
    expect(byOp('log').value).toBe('NaN');
    expect(byOp('divide').value).toBe('Infinity');
  });

  it('nothing from the formula can end the script or the title: < is never raw inside them', async () => {
    const formula = 'x^2 # </script><script>alert(1)</script> <!-- \u2028';
    const html = await renderHtml(graphResult(formula, { x: 3 }, { seeds: 8 }));
    const json = /<script type="application\/json" id="ag-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(json).not.toMatch(/[<>\u2028]/);
    expect(JSON.parse(json).result.formula).toBe(formula);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).toContain('x^2 # &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;!--');
    expect(scriptJson({ s: '</script>&\u2029' })).toBe('{"s":"\\u003c/script\\u003e\\u0026\\u2029"}');
    expect(escapeHtml(`<a href="x" title='y'>&`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
  });

  it('is a graph format: --format html, and -o x.html / x.htm by extension', async () => {
    expect(formatFromPath('backprop.html')).toBe('html');
    expect(formatFromPath('a/B.HTM')).toBe('html');
    const html = await renderGraph(graphResult('q = x + y; f = q*z', { x: -2, y: 5, z: -4 }, { seeds: 64 }), 'html');
    expect(html).toMatch(/^<!doctype html>/);
  });
});
