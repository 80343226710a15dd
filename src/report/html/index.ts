import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { renderDot } from '../graph/dot.js';
import { checkPictureSize, textWithin, type PictureOptions } from '../graph/picture.js';
import { dotToSvg } from '../graph/svg.js';
import { caption } from '../graph/text.js';
import { toJson } from '../json.js';
import { IDS, type PageData } from './data.js';
import { pageScript } from './script.js';
import { STYLE } from './style.js';

/**
 * The backprop explorer: one self-contained page (no network at view time) with the
 * graph laid out by Graphviz as in the SVG view, the result as a JSON block, and the
 * script that steps through the forward and backward passes (page.ts).
 */
export async function renderHtml(r: GraphResult, o: { digits?: number } & PictureOptions = {}): Promise<string> {
  const digits = o.digits ?? 6;
  const title = caption(r, digits);
  checkPictureSize(r, o);
  // the page draws its own title and legend; keep Graphviz's <svg> element only
  const [dot, left] = textWithin(o, () => renderDot(r, { digits, caption: false, compact: true }));
  const svg = (await dotToSvg(dot, left)).replace(/^[\s\S]*?(?=<svg[\s>])/, '');
  const { point: _point, ...result } = r;
  const data: PageData = { result, digits, title };
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)} — backprop explorer</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeHtml(title)}</h1></header>`,
    `<div id="${IDS.app}">`,
    `<main><section id="${IDS.graph}" aria-label="the computational graph">${svg}</section></main>`,
    '</div>',
    `<script type="application/json" id="${IDS.data}">${scriptJson(data)}</script>`,
    `<script>${scriptText(await pageScript())}</script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

/** Text in HTML content or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON inside <script>: no `<` (nor `>`, `&`, line separators) can end the element or start another. */
export function scriptJson(v: unknown): string {
  return toJson(v, 0).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A script inside <script>: `</script` and `<!--` written so the HTML parser reads past them. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
