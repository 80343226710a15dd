import { toJson } from '../json.js';
import type { GraphResult } from '../../subjects/formula/graph-result.js';

/** The picture's data as one JSON document: nodes with values and gradients (or tangents), edges with their flows. */
export function renderGraphJson(r: GraphResult): string {
  return toJson(r);
}
