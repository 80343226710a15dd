import { AgError } from '../../core/errors.js';
import { checkDeadlineNow } from '../../core/limits.js';
import { renderHtml } from '../html/index.js';
import { renderAscii, type GraphColors } from './ascii.js';
import { renderDot } from './dot.js';
import { renderGraphJson } from './json.js';
import { renderMermaid } from './mermaid.js';
import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { renderPng } from './png.js';
import { renderSvg } from './svg.js';
import type { DotOptions } from './dot.js';
import { textWithin, type PictureOptions } from './picture.js';
import type { GraphFormat } from './formats.js';

export { renderAscii, renderDot, renderMermaid, renderSvg, renderPng, renderGraphJson, renderHtml };
export type { PictureOptions } from './picture.js';

export { GRAPH_FORMATS, type GraphFormat } from './formats.js';

const BY_EXTENSION: Record<string, GraphFormat> = {
  txt: 'ascii',
  dot: 'dot',
  gv: 'dot',
  mmd: 'mermaid',
  mermaid: 'mermaid',
  svg: 'svg',
  json: 'json',
  html: 'html',
  htm: 'html',
  png: 'png',
};

/** The format a file name asks for (`graph.svg` → svg). */
export function formatFromPath(path: string): GraphFormat {
  const ext = /\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase();
  const f = ext ? BY_EXTENSION[ext] : undefined;
  if (!f) {
    throw new AgError('usage', `-o ${path}: cannot tell the format from ${ext ? `the extension .${ext}` : 'a name without an extension'}`, {
      hint: `use one of .${Object.keys(BY_EXTENSION).join(' .')}, or give --format`,
    });
  }
  return f;
}

export interface GraphRenderOptions extends Pick<DotOptions, 'edges'>, PictureOptions {
  digits?: number;
  color?: GraphColors;
  /** the terminal's width (ascii) */
  width?: number;
}

/**
 * One picture of the graph in the given format (text; PNG is renderPng's). The text of
 * every format is written within what is left of the run's deadline (`o.within`,
 * picture.ts's textWithin); a picture's layout is bounded by its worker.
 */
export async function renderGraph(r: GraphResult, format: Exclude<GraphFormat, 'png'>, o: GraphRenderOptions = {}): Promise<string> {
  const within = <T>(fn: () => T): T => textWithin(o, fn)[0];
  switch (format) {
    case 'ascii':
      return within(() => renderAscii(r, o));
    case 'dot':
      return within(() => renderDot(r, o));
    case 'mermaid':
      return within(() => renderMermaid(r, o));
    case 'svg':
      return renderSvg(r, o);
    case 'json':
      return within(() => {
        checkDeadlineNow();
        return renderGraphJson(r);
      });
    case 'html':
      return renderHtml(r, o);
  }
}
