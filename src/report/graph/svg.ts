import { renderDot, type DotOptions } from './dot.js';
import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { checkPictureSize, drawPicture, textWithin, type PictureOptions } from './picture.js';

/** SVG, laid out by a WASM build of Graphviz (no system package), within the picture's bounds (picture.ts). */
export async function renderSvg(r: GraphResult, o: DotOptions & PictureOptions = {}): Promise<string> {
  checkPictureSize(r, o);
  const [dot, left] = textWithin(o, () => renderDot(r, o));
  return dotToSvg(dot, left);
}

export async function dotToSvg(dot: string, o: PictureOptions = {}): Promise<string> {
  return (await drawPicture(dot, 'svg', o)) as string;
}
