import { builderOf, type ArgsOf } from './options.js';
import { grad } from '../subjects/formula/grad.js';
import { parseAt } from '../core/values.js';
import { gradJson } from '../report/json.js';
import { renderGradLatex } from '../report/latex.js';
import { renderGrad } from '../report/table.js';
import {
  checkDigits,
  checkEdges,
  colors,
  EDGES_OPTION,
  ENGINE_OPTION,
  EXIT_FAIL,
  EXIT_OK,
  emit,
  jsonOr,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  positiveNumber,
  readFormula,
  run,
  terminalWidth,
  VALUE_OPTIONS,
} from './common.js';

export const command = 'grad <formula>';
export const describe = 'value and gradient by reverse and forward mode, every edge explained, checked against finite differences';

export const positionals = {
  formula: { type: 'string', describe: 'the formula, in mathjs syntax (statements separated by ;); @file reads it from a file, - from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  ...VALUE_OPTIONS,
  wrt: { type: 'string', array: true, describe: 'differentiate only with respect to these variables (comma-separated)' },
  engine: ENGINE_OPTION,
  check: { type: 'boolean', default: true, describe: 'compare with finite differences (--no-check to skip)' },
  method: { choices: ['central', 'richardson'] as const, default: 'central' as const, describe: 'finite-difference method' },
  rtol: { type: 'number', describe: 'relative tolerance of the check', default: 1e-5 },
  atol: { type: 'number', describe: 'absolute tolerance of the check', default: 1e-7 },
  eps: { type: 'number', describe: 'relative finite-difference step: h = eps·max(1,|x|) (default cbrt(machine ε) ≈ 6.06e-6)' },
  'fd-max': { type: 'number', default: 2000, describe: 'difference every entry while the inputs have at most this many; above, a directional check' },
  directions: { type: 'number', default: 4, describe: 'random directions of the directional check' },
  sample: { type: 'number', default: 64, describe: "entries sampled by the directional check above --fd-max (not check's --samples: random points)" },
  'allow-unjudged': { type: 'boolean', default: false, describe: 'pass even when finite differences judged no entry (every one at a kink or in noise)' },
  edges: { ...EDGES_OPTION, describe: 'the edge table: summary (large tensors summarised), full (whole tensors), none' },
  digits: { type: 'number', default: 6, describe: 'significant digits in the human view' },
  latex: { type: 'boolean', default: false, describe: "print the edges' local derivatives as LaTeX (an align* block), ready for a homework sheet" },
} as const;

const examples = [
  ['$0 grad "(x+y)*sin(x)" --at x=pi,y=pi', 'the lecture example: d/dx = -2π, d/dy = sin(π)'],
  ['$0 grad "q = x + y; f = q*z" --at x=-2,y=5,z=-4', 'named steps label the graph'],
  ['$0 grad "sum((W*x).^2)" --at "W=[[1,2],[3,4]], x=[1,-1]"', 'vectors and matrices'],
  [
    '$0 grad "sum((max(X*W1, 0)*W2 - Y).^2)" --at "X=randn(64,1000),W1=randn(1000,100),W2=randn(100,10),Y=randn(64,10)" --wrt W1,W2 --edges none',
    'a two-layer ReLU net',
  ],
  ['$0 grad "sigmoid(w*x + b)" --at @values.json --json', 'values from a file, JSON out'],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

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
    emit(
      jsonOr(
        args,
        () => gradJson(result),
        () =>
          args.latex
            ? renderGradLatex(result, digits)
            : renderGrad(result, { digits, edges: args.edges !== 'none', color: colors(args), width: terminalWidth() }),
      ),
    );
    // a NaN or infinite value or gradient fails, whatever else the check says
    const finite = Number.isFinite(result.value) && !result.warnings.some((w) => w.code === 'nonfinite');
    return finite && (result.check?.passed ?? true) ? EXIT_OK : EXIT_FAIL;
  });
}
