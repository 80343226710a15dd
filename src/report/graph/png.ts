import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { renderDot, type DotOptions } from './dot.js';
import { checkPictureSize, drawPicture, textWithin, type PictureOptions } from './picture.js';

/**
 * PNG: the SVG drawn by resvg (draw.ts), on the same worker as the layout and within the
 * same bounds (picture.ts).
 */
export async function renderPng(r: GraphResult, o: DotOptions & PictureOptions = {}): Promise<Uint8Array> {
  checkPictureSize(r, o);
  const [dot, left] = textWithin(o, () => renderDot(r, o));
  return (await drawPicture(dot, 'png', left)) as Uint8Array;
}
