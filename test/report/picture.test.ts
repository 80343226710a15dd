import { describe, expect, it } from 'vitest';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { FONT, renderDot } from '../../src/report/graph/dot.js';
import { dotToSvg, renderSvg } from '../../src/report/graph/svg.js';
import { parseAt } from '../../src/core/values.js';
import { lectures, type Lecture } from '../helpers.js';

/**
 * The pictures as a viewer draws them: every text's box from the laid-out SVG's own
 * coordinates (x, y, anchor, font size) and the font's advance, 0.6 em per character in
 * the monospaced font the SVG names. No two boxes may overlap, and every box lies inside
 * the picture (a title is never cut off).
 */
interface Box {
  text: string;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function textBoxes(svg: string): { boxes: Box[]; width: number; height: number } {
  const view = /viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg)!;
  const [tx, ty] = /class="graph" transform="[^"]*translate\(([-\d.]+) ([-\d.]+)\)"/.exec(svg)!.slice(1).map(Number);
  const boxes: Box[] = [];
  for (const m of svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
    const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(m[1])?.[1];
    const text = m[2]
      .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    const size = Number(attr('font-size'));
    const w = [...text].length * FONT.em * size;
    const x = Number(attr('x')) + tx;
    const y = Number(attr('y')) + ty;
    const anchor = attr('text-anchor') ?? 'start';
    const x0 = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
    boxes.push({ text, x0, x1: x0 + w, y0: y - 0.8 * size, y1: y + 0.2 * size });
  }
  return { boxes, width: Number(view[3]), height: Number(view[4]) };
}

function overlaps(a: Box, b: Box): boolean {
  const slack = 0.5;
  return a.x0 < b.x1 - slack && b.x0 < a.x1 - slack && a.y0 < b.y1 - slack && b.y0 < a.y1 - slack;
}

const LECTURES = lectures();

function lecture(l: Lecture, mode: 'reverse' | 'forward' = 'reverse') {
  const values = parseAt([l.at], { seed: 42 });
  const wrt = l.wrt?.split(',');
  if (mode === 'forward') {
    const first = Object.keys(values).find((k) => l.formula.includes(k) && (!wrt || wrt.includes(k)))!;
    const shape = values[first].shape;
    return graphResult(l.formula, values, { mode, wrt: [shape.length ? `${first}[${shape.map(() => 1).join(',')}]` : first] });
  }
  return graphResult(l.formula, values, { wrt });
}

describe('the pictures of the lecture examples', () => {
  for (const l of LECTURES) {
    it(`no two texts overlap and none is cut off: ${l.formula}`, async () => {
      for (const svg of [await renderSvg(lecture(l)), await renderSvg(lecture(l), { edges: 'full' }), await renderSvg(lecture(l, 'forward'))]) {
        const { boxes, width, height } = textBoxes(svg);
        expect(boxes.length).toBeGreaterThan(3);
        for (const b of boxes) {
          expect(b.x0, b.text).toBeGreaterThanOrEqual(-0.5);
          expect(b.x1, b.text).toBeLessThanOrEqual(width + 0.5);
          expect(b.y0, b.text).toBeGreaterThanOrEqual(-0.5);
          expect(b.y1, b.text).toBeLessThanOrEqual(height + 0.5);
        }
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            expect(overlaps(boxes[i], boxes[j]), `"${boxes[i].text}" overlaps "${boxes[j].text}"`).toBe(false);
          }
        }
      }
    });
  }

  it('names no generated label, and gives each edge its local derivative as text, not only a tooltip', () => {
    for (const l of LECTURES) {
      const r = lecture(l);
      const dot = renderDot(r);
      expect(dot, l.formula).not.toMatch(/[a-z]#\d/);
      const labelled = r.edges.filter((e) => r.nodes[e.from].kind !== 'const').length;
      expect((dot.match(/>local /g) ?? []).length, l.formula).toBe(labelled);
    }
  });

  it('draws a small tensor whole and a large one as its shape, norm and first entries', () => {
    const small = renderDot(
      graphResult('sum((W*x).^2)', {
        W: [
          [1, -2, 0.5],
          [0.25, 3, -1],
        ],
        x: [2, -1, 0.5],
      }),
    );
    expect(small).toContain('[[1, -2, 0.5]');
    expect(small).toContain('[0.25, 3, -1]]');
    const data = Array.from({ length: 20 }, (_, i) => i / 10);
    const large = renderDot(graphResult('sum(v.^2)', { v: data }));
    expect(large).toMatch(/\[20\] norm 7\.\d+/);
    expect(large).toContain('0, 0.1, 0.2, ...');
  });

  it('keeps a readable aspect: a long chain is laid out top to bottom, a short one left to right like the slides', async () => {
    const size = (svg: string) => textBoxes(svg);
    for (const l of LECTURES) {
      const { width, height } = size(await renderSvg(lecture(l)));
      // at most three times as wide as tall, or narrow enough for a page at normal size
      expect(width <= 3 * height || width <= 1300, `${l.formula}: ${Math.round(width)} x ${Math.round(height)} pt`).toBe(true);
    }
    const neuron = graphResult('1/(1+exp(-(w0*x0+w1*x1+w2)))', { w0: 2, x0: -1, w1: -3, x1: -2, w2: -3 });
    expect(renderDot(neuron)).toContain('rankdir=TB;');
    expect(size(await renderSvg(neuron)).width).toBeLessThan(1300);
    expect(renderDot(graphResult('(x+y)*sin(x)', { x: 1, y: 2 }))).toContain('rankdir=LR;');
  });

  it('shortens a long name in its box and gives the whole name on hover', () => {
    const name = 'a_rather_long_step_name_for_a_picture';
    const dot = renderDot(graphResult(`${name} = x^2; sin(${name})`, { x: 1 }));
    expect(dot).toContain(`tooltip="${name}"`);
    expect(dot).not.toContain(`<b>${name}</b>`);
  });

  it('is set in the monospaced font its layout was measured for', async () => {
    const svg = await dotToSvg(renderDot(lecture(LECTURES[0])));
    expect(svg).not.toContain('font-family="Courier,monospace"');
    expect(svg).toContain(`font-family="${FONT.svg}"`);
  });
});
