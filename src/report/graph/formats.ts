/**
 * The graph's formats, in --help's order: one list for the library (GRAPH_FORMATS, the
 * text formats renderGraph writes) and for the CLI's --format. Data only, so the
 * command reads it without loading the renderers.
 */
export const FORMATS = ['ascii', 'dot', 'mermaid', 'svg', 'png', 'json', 'html'] as const;

/** `png` is the one binary format (renderPng). */
export type BinaryFormat = 'png';

/** The text formats (renderGraph). */
export const GRAPH_FORMATS: readonly Exclude<GraphFormat, BinaryFormat>[] = FORMATS.filter(
  (f): f is Exclude<(typeof FORMATS)[number], BinaryFormat> => f !== 'png',
);
export type GraphFormat = (typeof FORMATS)[number];
