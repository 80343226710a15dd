import type { Viz } from '@viz-js/viz';
import { FONT, renderDot, type DotOptions } from './dot.js';
import type { GraphResult } from '../../graph-result.js';

let viz: Promise<Viz> | undefined;

/** SVG, laid out in-process by a WASM build of Graphviz (no system package). */
export async function renderSvg(r: GraphResult, o: DotOptions = {}): Promise<string> {
  return dotToSvg(renderDot(r, o));
}

export async function dotToSvg(dot: string): Promise<string> {
  if (!viz) {
    // imported at run time, not bundled: the WASM build is large and only `graph --format svg` needs it
    const spec = '@viz-js/viz';
    viz = (import(spec) as Promise<typeof import('@viz-js/viz')>).then((m) => m.instance());
  }
  const res = (await viz).render(dot, { format: 'svg' });
  if (res.status !== 'success') {
    throw new Error(`Graphviz could not lay out the graph: ${res.errors.map((e) => e.message).join('; ')}`);
  }
  // drawn in the monospaced font the layout was measured for (see FONT)
  return res.output.replaceAll(`font-family="${FONT.graphviz},monospace"`, `font-family="${FONT.svg}"`);
}
