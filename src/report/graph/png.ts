import { AgError } from '../../errors.js';
import type { GraphResult } from '../../graph-result.js';
import { FONT, type DotOptions } from './dot.js';
import { renderSvg } from './svg.js';

/** Pictures are drawn at twice their size (crisp on slides), less when that would pass this many pixels. */
const SCALE = 2;
const MAX_PIXELS = 40e6;
/** Below this scale the text is unreadable: say so instead of writing a blur. */
const MIN_SCALE = 0.5;

type ResvgModule = typeof import('@resvg/resvg-js');

/**
 * PNG, drawn in-process from the SVG by resvg (a Rust renderer shipped as a prebuilt
 * Node addon in its npm package; no system packages), with the system's fonts: the
 * monospaced font the layout was measured for. Loaded only here.
 */
export async function renderPng(r: GraphResult, o: DotOptions = {}): Promise<Uint8Array> {
  return svgToPng(await renderSvg(r, o));
}

export async function svgToPng(svg: string): Promise<Uint8Array> {
  const view = /viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg);
  // Graphviz sizes the picture in points; a viewer draws 4/3 pixels to a point
  const [w, h] = view ? [(Number(view[1]) * 4) / 3, (Number(view[2]) * 4) / 3] : [0, 0];
  const scale = Math.min(SCALE, Math.sqrt(MAX_PIXELS / Math.max(1, w * h)));
  if (scale < MIN_SCALE) {
    throw new AgError('limit', `the picture is ${Math.round(w)}×${Math.round(h)} pixels, too large for a readable PNG (at most ${MAX_PIXELS / 1e6} million pixels)`, { hint: 'write an SVG instead (-o graph.svg): it scales without limit' });
  }
  // a computed specifier: bundled as a run-time require of the package, loaded only for PNG
  const spec = '@resvg/resvg-js';
  const m = (await import(spec)) as ResvgModule & { default?: ResvgModule };
  const Resvg = m.Resvg ?? m.default!.Resvg;
  const family = FONT.svg.split(',')[0].replace(/'/g, '').trim();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: family, monospaceFamily: family },
  }).render();
  return png.asPng();
}
