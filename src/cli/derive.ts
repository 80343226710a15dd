import { builderOf, type ArgsOf } from './options.js';
import { AgError } from '../core/errors.js';
import { parseAt } from '../core/values.js';
import { renderDerive } from '../report/derive.js';
import {
  checkDigits,
  colors,
  emit,
  EXIT_OK,
  JSON_OPTION,
  jsonOr,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  readFormula,
  run,
  terminalWidth,
} from './common.js';

export const command = 'derive <formula>';
export const describe = 'the symbolic derivative, built from the graph by reverse accumulation of local derivatives, simplified and cross-checked';

export const positionals = {
  formula: { type: 'string', describe: 'a scalar formula (a vector one: its Jacobian), in mathjs syntax; @file reads it from a file, - from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  wrt: { type: 'string', array: true, describe: 'differentiate only with respect to these variables (comma-separated)' },
  at: {
    type: 'string',
    array: true,
    requiresArg: true,
    default: [] as string[],
    describe: 'also evaluate at this point (name=value,...); it is cross-checked first',
  },
  seed: { type: 'number', default: 42, describe: 'seed of the random cross-check points' },
  points: { type: 'number', default: 5, describe: 'random points where the expression must agree with reverse mode' },
  digits: { type: 'number', default: 6, describe: 'significant digits of the numbers' },
  json: JSON_OPTION,
  latex: { type: 'boolean', default: false, describe: 'also print each derivative as LaTeX' },
} as const;

const examples = [
  ['$0 derive "sin(x^2)"', 'the lecture example: 2*x*cos(x^2)'],
  ['$0 derive "q = x + y; f = q*z" --wrt x,z', 'named steps, some variables'],
  ['$0 derive "sigmoid(w*x + b)" --at w=2,x=-1,b=0.5', 'and its value at a point'],
  ['$0 derive "sigma(t) = 1/(1+exp(-t)); sigma(w*x + b)" --latex', 'the inline function kept, in LaTeX too'],
  ['$0 derive "sum((W*x).^2)" --wrt W --at "W=randn(3,4), x=randn(4)"', "matrix calculus: 2*W*x*x' (the values give the shapes)"],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const digits = args.digits;
    checkDigits(digits);
    if (!Number.isInteger(args.points) || args.points < 1 || args.points > 1000)
      throw new AgError('usage', `--points must be an integer from 1 to 1000, not ${args.points}`);
    const limits = limitsOf(args);
    const values = parseAt(args.at, { seed: args.seed, limits });
    // mathjs simplify is a chunk of its own (see scripts/build.mjs), loaded only by derive
    const { derive } = await import('../subjects/formula/derive/index.js');
    const result = derive(readFormula(args.formula, limits), {
      limits,
      wrt: parseList(args.wrt),
      at: Object.keys(values).length ? values : undefined,
      seed: args.seed,
      points: args.points,
      latex: args.latex,
    });
    emit(
      jsonOr(
        args,
        () => result,
        () => renderDerive(result, { digits, color: colors(args), width: terminalWidth() }),
      ),
    );
    return EXIT_OK;
  });
}
