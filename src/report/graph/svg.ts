import { renderDot, type DotOptions } from './dot.js';
import type { GraphResult } from '../../graph-result.js';
import { checkPictureSize, drawPicture, type PictureOptions } from './picture.js';

/** SVG, laid out by a WASM build of Graphviz (no system package), within the picture's bounds (picture.ts). */
export async function renderSvg(r: GraphResult, o: DotOptions & PictureOptions = {}): Promise<string> {
  checkPictureSize(r, o);
  return dotToSvg(renderDot(r, o), o);
}

export async function dotToSvg(dot: string, o: PictureOptions = {}): Promise<string> {
  return (await drawPicture(dot, 'svg', o)) as string;
}
