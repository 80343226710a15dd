import type { Argv, ArgumentsCamelCase } from 'yargs';
import { grad } from '../grad.js';
import { parseAt } from '../values.js';
import { gradJson, toJson } from '../report/json.js';
import { renderGradLatex } from '../report/latex.js';
import { renderGrad } from '../report/table.js';
import { checkDigits, checkEdges, colors, EDGES_OPTION, ENGINE_OPTION, EXIT_FAIL, EXIT_OK, limitOptions, limitsOf, parseList, positiveNumber, readFormula, run, terminalWidth, writeOut, valueOptions } from './common.js';

export const command = 'grad <formula>';
export const describe = 'value and gradient by reverse and forward mode, every edge explained, checked against finite differences';

export function builder(y: Argv) {
  return limitOptions(valueOptions(y))
    .positional('formula', { type: 'string', describe: 'the formula, in mathjs syntax (statements separated by ;); @file reads it from a file, - from standard input' })
    .option('wrt', { type: 'string', array: true, describe: 'differentiate only with respect to these variables (comma-separated)' })
    .option('engine', ENGINE_OPTION)
    .option('check', { type: 'boolean', default: true, describe: 'compare with finite differences (--no-check to skip)' })
    .option('method', { choices: ['central', 'richardson'] as const, default: 'central' as const, describe: 'finite-difference method' })
    .option('rtol', { type: 'number', describe: 'relative tolerance of the check', default: 1e-5 })
    .option('atol', { type: 'number', describe: 'absolute tolerance of the check', default: 1e-7 })
    .option('eps', { type: 'number', describe: 'relative finite-difference step: h = eps·max(1,|x|) (default cbrt(machine ε) ≈ 6.06e-6)' })
    .option('fd-max', { type: 'number', default: 2000, describe: 'difference every entry while the inputs have at most this many; above, a directional check' })
    .option('directions', { type: 'number', default: 4, describe: 'random directions of the directional check' })
    .option('sample', { type: 'number', default: 64, describe: 'entries sampled by the directional check above --fd-max (not check\'s --samples: random points)' })
    .option('allow-unjudged', { type: 'boolean', default: false, describe: 'pass even when finite differences judged no entry (every one at a kink or in noise)' })
    .option('edges', { ...EDGES_OPTION, describe: 'the edge table: summary (large tensors summarised), full (whole tensors), none' })
    .option('digits', { type: 'number', default: 6, describe: 'significant digits in the human view' })
    .option('latex', { type: 'boolean', default: false, describe: 'print the edges\' local derivatives as LaTeX (an align* block), ready for a homework sheet' })
    .example('$0 grad "(x+y)*sin(x)" --at x=pi,y=pi', 'the lecture example: d/dx = -2π, d/dy = sin(π)')
    .example('$0 grad "q = x + y; f = q*z" --at x=-2,y=5,z=-4', 'named steps label the graph')
    .example('$0 grad "sum((W*x).^2)" --at "W=[[1,2],[3,4]], x=[1,-1]"', 'vectors and matrices')
    .example('$0 grad "sum((max(X*W1, 0)*W2 - Y).^2)" --at "X=randn(64,1000),W1=randn(1000,100),W2=randn(100,10),Y=randn(64,10)" --wrt W1,W2 --edges none', 'a two-layer ReLU net')
    .example('$0 grad "sigmoid(w*x + b)" --at @values.json --json', 'values from a file, JSON out');
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(args: Args): Promise<void> {
  await run(args, () => {
    const digits = args.digits;
    checkDigits(digits);
    checkEdges(args.edges);
    const limits = limitsOf(args);
    const values = parseAt(args.at, { seed: args.seed, limits });
    const result = grad(readFormula(args.formula, limits), values, {
      wrt: parseList(args.wrt),
      engine: args.engine,
      check: args.check,
      method: args.method,
      rtol: positiveNumber('rtol', args.rtol),
      atol: positiveNumber('atol', args.atol),
      eps: positiveNumber('eps', args.eps),
      fdMax: positiveNumber('fd-max', args.fdMax),
      directions: positiveNumber('directions', args.directions),
      sample: positiveNumber('sample', args.sample),
      allowUnjudged: args.allowUnjudged,
      seed: args.seed,
      edges: args.edges !== 'none',
      fullTensorLimit: args.edges === 'full' ? Infinity : 64,
      limits,
    });
    if (args.at.some((a) => /\brandn?\s*\(/.test(a))) result.seed = args.seed;
    if (args.json) writeOut(`${toJson(gradJson(result))}\n`);
    else if (args.latex) writeOut(`${renderGradLatex(result, digits)}\n`);
    else writeOut(`${renderGrad(result, { digits, edges: args.edges !== 'none', color: colors(args), width: terminalWidth() })}\n`);
    // a NaN or infinite value or gradient fails, whatever else the check says
    const finite = Number.isFinite(result.value) && !result.warnings.some((w) => w.code === 'nonfinite');
    return finite && (result.check?.passed ?? true) ? EXIT_OK : EXIT_FAIL;
  });
}
