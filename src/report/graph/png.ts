import type { GraphResult } from '../../graph-result.js';
import { renderDot, type DotOptions } from './dot.js';
import { checkPictureSize, drawPicture, type PictureOptions } from './picture.js';

/**
 * PNG: the SVG drawn by resvg (draw.ts), on the same worker as the layout and within the
 * same bounds (picture.ts).
 */
export async function renderPng(r: GraphResult, o: DotOptions & PictureOptions = {}): Promise<Uint8Array> {
  checkPictureSize(r, o);
  return (await drawPicture(renderDot(r, o), 'png', o)) as Uint8Array;
}
