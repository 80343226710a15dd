import { AgError } from '../../errors.js';
import { renderHtml } from '../html/index.js';
import { renderAscii, type GraphColors } from './ascii.js';
import { renderDot } from './dot.js';
import { renderGraphJson } from './json.js';
import { renderMermaid } from './mermaid.js';
import type { GraphResult } from '../../graph-result.js';
import { renderSvg } from './svg.js';

export { renderAscii, renderDot, renderMermaid, renderSvg, renderGraphJson, renderHtml };

export const GRAPH_FORMATS = ['ascii', 'dot', 'mermaid', 'svg', 'json', 'html'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

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

/** One picture of the graph in the given format. */
export async function renderGraph(r: GraphResult, format: GraphFormat, o: { digits?: number; color?: GraphColors } = {}): Promise<string> {
  switch (format) {
    case 'ascii':
      return renderAscii(r, o);
    case 'dot':
      return renderDot(r, o);
    case 'mermaid':
      return renderMermaid(r, o);
    case 'svg':
      return renderSvg(r, o);
    case 'json':
      return renderGraphJson(r);
    case 'html':
      return renderHtml(r, o);
  }
}
