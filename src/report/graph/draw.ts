import type { Viz } from '@viz-js/viz';
import { AgError } from '../../core/errors.js';
import { FONT } from './dot.js';

/**
 * Drawing in this thread: Graphviz (WASM) lays out the DOT, resvg draws the SVG as a
 * PNG. Neither can look at a deadline, so a run draws on the worker of picture.ts,
 * which uses these; here is where that worker's work is, and where it runs when there
 * is no worker bundle (from source).
 */

/**
 * Pictures are drawn at twice their size (crisp on slides), less when that would pass this
 * many pixels. resvg is native code: a deadline cannot stop it, not even by ending its
 * thread (the thread, and the process's exit, wait for it), so its work is what is
 * capped: 24 million pixels take a second or two and about 100 MB.
 */
const SCALE = 2;
const MAX_PIXELS = 24e6;
/** What resvg holds per pixel drawn (measured: the RGBA pixmap, and the PNG encoder's copies). */
const BYTES_PER_PIXEL = 8;
/** Below this scale the text is unreadable: say so instead of writing a blur. */
const MIN_SCALE = 0.5;

export interface DrawLimits {
  /** bytes the drawing may hold (--max-memory): fewer pixels when it would hold more */
  maxMemory?: number;
  /** the deadline has passed: the PNG is then not started */
  late?: () => boolean;
}

type ResvgModule = typeof import('@resvg/resvg-js');

let viz: Promise<Viz> | undefined;

/**
 * A renderer package, imported at run time: a broken install, or a machine its prebuilt
 * binary does not cover (resvg ships one per platform), is one clear line naming the
 * package and what still works, not a module-resolution trace.
 */
async function loadRenderer<T>(spec: string, format: 'svg' | 'png'): Promise<T> {
  try {
    return (await import(spec)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (
      code !== 'ERR_MODULE_NOT_FOUND' &&
      code !== 'MODULE_NOT_FOUND' &&
      !/Cannot find (module|package)|cannot open shared object/i.test(String((e as Error).message))
    )
      throw e;
    throw new AgError(
      'engine',
      `${format === 'png' ? 'a PNG' : 'an SVG'} picture needs the package ${spec}, which cannot be loaded here (not installed, or no build of it for ${process.platform}-${process.arch})`,
      {
        hint:
          format === 'png'
            ? 'write an SVG (-o graph.svg) or the ascii/dot formats, or reinstall autograd-cli (npm ci)'
            : 'write the ascii or dot format (--format dot), or reinstall autograd-cli (npm ci)',
      },
    );
  }
}

/** SVG, laid out by a WASM build of Graphviz (no system package). */
export async function layoutSvg(dot: string): Promise<string> {
  if (!viz) {
    // imported at run time, not bundled: the WASM build is large and only `graph --format svg` needs it
    const spec = '@viz-js/viz';
    viz = loadRenderer<typeof import('@viz-js/viz')>(spec, 'svg').then((m) => m.instance());
    // a failed load is not kept: the next picture tries again
    viz.catch(() => {
      viz = undefined;
    });
  }
  const res = (await viz).render(dot, { format: 'svg' });
  if (res.status !== 'success') {
    throw new Error(`Graphviz could not lay out the graph: ${res.errors.map((e) => e.message).join('; ')}`);
  }
  // drawn in the monospaced font the layout was measured for (see FONT)
  return res.output.replaceAll(`font-family="${FONT.graphviz},monospace"`, `font-family="${FONT.svg}"`);
}

/**
 * PNG, drawn from the SVG by resvg (a Rust renderer shipped as a prebuilt Node addon in
 * its npm package; no system packages), with the system's fonts: the monospaced font
 * the layout was measured for. Loaded only here.
 */
export async function svgToPng(svg: string, o: DrawLimits = {}): Promise<Uint8Array> {
  const view = /viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg);
  // Graphviz sizes the picture in points; a viewer draws 4/3 pixels to a point
  const [w, h] = view ? [(Number(view[1]) * 4) / 3, (Number(view[2]) * 4) / 3] : [0, 0];
  const byMemory = (o.maxMemory ?? Infinity) / BYTES_PER_PIXEL;
  const maxPixels = Math.min(MAX_PIXELS, byMemory);
  const scale = Math.min(SCALE, Math.sqrt(maxPixels / Math.max(1, w * h)));
  if (scale < MIN_SCALE) {
    const most =
      byMemory < MAX_PIXELS ? `${Number((maxPixels / 1e6).toPrecision(2))} million pixels within --max-memory` : `${MAX_PIXELS / 1e6} million pixels`;
    throw new AgError('limit', `the picture is ${Math.round(w)}×${Math.round(h)} pixels, too large for a readable PNG (at most ${most})`, {
      hint: 'write an SVG instead (-o graph.svg): it scales without limit',
    });
  }
  // a computed specifier: bundled as a run-time require of the package, loaded only for PNG
  const spec = '@resvg/resvg-js';
  const m = await loadRenderer<ResvgModule & { default?: ResvgModule }>(spec, 'png');
  const Resvg = m.Resvg ?? m.default!.Resvg;
  // past the deadline the picture is not wanted any more: do not start what cannot be stopped
  if (o.late?.()) throw new Error('the deadline passed before the PNG was drawn');
  const family = FONT.svg.split(',')[0].replace(/'/g, '').trim();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: family, monospaceFamily: family },
  }).render();
  return png.asPng();
}

/** SVG or PNG of a DOT graph, in this thread. */
export async function drawHere(dot: string, format: 'svg' | 'png', o: DrawLimits = {}): Promise<string | Uint8Array> {
  const svg = await layoutSvg(dot);
  return format === 'svg' ? svg : svgToPng(svg, o);
}
