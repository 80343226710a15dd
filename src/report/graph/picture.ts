import { AgError, type ErrorCode } from '../../core/errors.js';
import type { GraphResult } from '../../subjects/formula/graph-result.js';
import { DEFAULT_PICTURE_NODES, TimeoutError, withDeadline } from '../../core/limits.js';
import { collectWithin, workerScript } from '../../core/thread-budget.js';
import { drawHere } from './draw.js';
import type { DrawResult } from './draw-worker.js';

/**
 * Pictures are bounded. A Graphviz layout grows much faster than the graph (a sum of
 * 100 terms, 400 nodes, takes a quarter of a minute; 200 terms, minutes) and cannot
 * look at a deadline, so a picture is drawn on a worker thread ended at the run's
 * deadline (thread-budget.ts), and a graph past --max-picture-nodes is not laid out at
 * all: the text formats show it instead.
 */

/** A picture may have this many edges per node it may have. */
const EDGES_PER_NODE = 2;

export interface PictureOptions {
  /** most nodes a picture may have (default DEFAULT_PICTURE_NODES) */
  maxPictureNodes?: number;
  /** the time the drawing may take: milliseconds left, and the run's --timeout in seconds (for the message) */
  within?: { ms: number; timeout: number };
  /** bytes the drawing may hold (--max-memory; a PNG is drawn smaller, or refused, when it would hold more) */
  maxMemory?: number;
}

/**
 * Write a picture's text (`fn`: DOT, Mermaid, the terminal's tree) within what is left of
 * the run's deadline, and the options with what is left after it, for the layout. The
 * renderers look at the clock at each node and edge: a long formula's names take time.
 */
export function textWithin<T, O extends PictureOptions>(o: O, fn: () => T): [T, O] {
  if (!o.within) return [fn(), o];
  const started = performance.now();
  const out = withDeadline(o.within.ms / 1000, fn, o.within.timeout);
  return [out, { ...o, within: { ...o.within, ms: Math.max(0, o.within.ms - (performance.now() - started)) } }];
}

/** Refuse a graph too large to lay out in reasonable time, saying how to see it anyway. */
export function checkPictureSize(r: GraphResult, o: PictureOptions): void {
  const maxNodes = o.maxPictureNodes ?? DEFAULT_PICTURE_NODES;
  const maxEdges = maxNodes * EDGES_PER_NODE;
  if (r.nodes.length <= maxNodes && r.edges.length <= maxEdges) return;
  throw new AgError(
    'limit',
    `the graph has ${r.nodes.length} nodes and ${r.edges.length} edges, too many to lay out as a picture (at most ${maxNodes} nodes and ${maxEdges} edges; --max-picture-nodes)`,
    {
      hint: 'see it as text (-f ascii, or --json for every number), write -f dot for your own Graphviz, or raise --max-picture-nodes (the layout takes much longer)',
    },
  );
}

/** SVG or PNG of a DOT graph: on the drawing worker, ended at the deadline (in this thread when running from source). */
export async function drawPicture(dot: string, format: 'svg' | 'png', o: PictureOptions = {}): Promise<string | Uint8Array> {
  const script = workerScript('draw-worker.cjs');
  if (!script) return drawHere(dot, format, { maxMemory: o.maxMemory });
  let res: DrawResult = {};
  const ms = o.within?.ms ?? Infinity;
  const done = collectWithin<DrawResult>(script, { dot, format, endsAt: Date.now() + ms, maxMemory: o.maxMemory }, 1, ms, (m) => (res = m));
  if (!done) throw new TimeoutError(o.within?.timeout ?? 0);
  if (res.error) {
    const { code, message, hint } = res.error;
    throw code ? new AgError(code as ErrorCode, message, { hint }) : new Error(message);
  }
  return res.out!;
}
