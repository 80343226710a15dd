import { Chalk } from 'chalk';
import { builderOf, type ArgsOf } from './options.js';
import { AgError } from '../core/errors.js';
import { graphResult } from '../subjects/formula/graph-result.js';
import { assertNotInput } from '../core/io/write.js';
import { DEFAULT_PICTURE_NODES } from '../core/limits.js';
import { parseAt } from '../core/values.js';
import { FORMATS, type GraphFormat } from '../report/graph/formats.js';
import {
  checkDigits,
  checkEdges,
  colors,
  emit,
  EDGES_OPTION,
  ENGINE_OPTION,
  EXIT_OK,
  inputFiles,
  isTerminal,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  readFormula,
  run,
  terminalWidth,
  VALUE_OPTIONS,
  writeOut,
} from './common.js';
import { DEFAULT_WIDTH } from '../report/layout.js';

/** The explorer page steps through forward mode seeded at each input entry, up to this many. */
const EXPLORER_SEEDS = 64;
/** …and shows tensors up to this many entries whole (tables up to 16×16, heat-maps above). */
const EXPLORER_TENSOR_LIMIT = 4096;

export const command = 'graph <formula>';
export const describe =
  'draw the computational graph: values on the edges, gradients flowing back under them (ascii, dot, mermaid, svg, json; html: a page that steps through backprop)';

export const positionals = {
  formula: { type: 'string', describe: 'the formula, in mathjs syntax; @file reads it from a file, - from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  ...VALUE_OPTIONS,
  format: {
    alias: 'f',
    choices: FORMATS,
    describe:
      'ascii (terminal, the default), dot, mermaid, svg (Graphviz in WASM, in-process), png (the SVG drawn in-process), json, or html (one self-contained page that steps through the forward and backward passes); with -o, taken from the extension when not given',
  },
  output: {
    alias: 'o',
    type: 'string',
    requiresArg: true,
    describe: 'write to this file (.txt .dot .gv .mmd .mermaid .svg .png .json .html) instead of standard output',
  },
  edges: { ...EDGES_OPTION, describe: 'what edges carry: summary (numbers; tensors by shape and norm), full (whole tensors, on nodes too), none (no labels)' },
  mode: {
    choices: ['reverse', 'forward'] as const,
    default: 'reverse' as const,
    describe: 'reverse: gradients ∂f/∂· flow back; forward: tangents ∂·/∂x travel forward (needs --wrt x)',
  },
  wrt: { type: 'string', array: true, describe: 'reverse: differentiate only with respect to these; forward: the input (or one entry, "W[1,2]") to seed' },
  engine: ENGINE_OPTION,
  digits: { type: 'number', default: 6, describe: 'significant digits of the numbers' },
  'max-picture-nodes': {
    type: 'number',
    requiresArg: true,
    group: 'Limits (for untrusted input):',
    describe: `most graph nodes laid out as an svg, png or html picture, edges twice as many (default ${DEFAULT_PICTURE_NODES})`,
  },
} as const;

const examples = [
  ['$0 graph "(x+y)*sin(x)" --at x=pi,y=pi', 'the lecture picture in the terminal'],
  ['$0 graph "q = x + y; f = q*z" --at x=-2,y=5,z=-4 -o cs231n.svg', 'an SVG for the slides'],
  ['$0 graph "q = x + y; f = q*z" --at x=-2,y=5,z=-4 -o cs231n.png', 'a PNG, drawn in-process'],
  ['$0 graph "(x+y)*sin(x)" --at x=pi,y=pi --mode forward --wrt x', 'tangents ∂·/∂x instead of gradients'],
  ['$0 graph "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 -o backprop.html', 'a page that steps through backprop in the browser'],
  ['$0 graph "sum((W*x).^2)" --at "W=[[1,2],[3,4]], x=[1,-1]" -f mermaid', 'tensors show their shape and norm'],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    // the picture's layout is bounded by what is left of --timeout when it starts
    const started = performance.now();
    const digits = args.digits;
    checkDigits(digits);
    const maxPictureNodes = args.maxPictureNodes;
    if (maxPictureNodes !== undefined && !(Number.isInteger(maxPictureNodes) && maxPictureNodes > 0))
      throw new AgError('usage', `--max-picture-nodes must be a positive whole number, not ${maxPictureNodes}`);
    // the renderers are a chunk of their own, off other commands' start-up
    const { formatFromPath, renderGraph, renderPng } = await import('../report/graph/index.js');
    const format = pickFormat(args.format, args.output, args.json, formatFromPath);
    const limits = limitsOf(args);
    if (args.output) assertNotInput(args.output, inputFiles([args.formula], args.at), '-o');
    const values = parseAt(args.at, { seed: args.seed, limits });
    // computed once; every renderer only reads it (the page needs both passes and every seed)
    const edges = checkEdges(args.edges);
    if (format === 'png' && !args.output && isTerminal('stdout'))
      throw new AgError('usage', 'a PNG is binary: give the file to write', { hint: 'add -o graph.png' });
    const explore =
      format === 'html' ? { seeds: EXPLORER_SEEDS, fullTensorLimit: EXPLORER_TENSOR_LIMIT } : edges === 'full' ? { fullTensorLimit: Infinity } : {};
    const result = graphResult(readFormula(args.formula, limits), values, {
      mode: args.mode,
      wrt: parseList(args.wrt),
      engine: args.engine,
      limits,
      ...explore,
    });
    // colour only for a terminal: never in files
    const color = args.output ? new Chalk({ level: 0 }) : colors(args);
    const within = { ms: Math.max(0, limits.timeout * 1000 - (performance.now() - started)), timeout: limits.timeout };
    const o = { digits, color, edges, width: args.output ? DEFAULT_WIDTH : terminalWidth(), maxPictureNodes, within, maxMemory: limits.maxMemory };
    const out = format === 'png' ? await renderPng(result, o) : `${await renderGraph(result, format, o)}\n`;
    emit(out, { output: args.output });
    if (args.output) {
      writeOut(
        `wrote ${args.output} (${format}: ${result.nodes.length} nodes, ${result.edges.length} edges, ${size(typeof out === 'string' ? Buffer.byteLength(out) : out.byteLength)})\n`,
        'stderr',
      );
    }
    return EXIT_OK;
  });
}

function pickFormat(format: GraphFormat | undefined, output: string | undefined, json: boolean, fromPath: (p: string) => GraphFormat): GraphFormat {
  if (json && format && format !== 'json') throw new AgError('usage', `--json and --format ${format} ask for different formats`);
  if (format) return format;
  if (json) return 'json';
  return output ? fromPath(output) : 'ascii';
}

/** `812 B`, `48.2 kB`, `1.3 MB` */
function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
