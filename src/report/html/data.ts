import type { GraphResult } from '../../subjects/formula/graph-result.js';

/** The page's data: one JSON block in the page, read by page.ts. */
export interface PageData {
  /** the graph result; the point is in the title (its tensors whole would only weigh the page down) */
  result: Omit<GraphResult, 'point'>;
  /** significant digits of the numbers shown */
  digits: number;
  /** the formula and the point */
  title: string;
}

/** Where the page finds its parts. */
export const IDS = { data: 'ag-data', graph: 'ag-graph', app: 'ag-app' } as const;
