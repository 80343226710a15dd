import { builderOf, type ArgsOf } from './options.js';
import { parseAt } from '../core/values.js';
import {
  checkDigits,
  colors,
  emit,
  jsonOr,
  ENGINE_OPTION,
  EXIT_FAIL,
  EXIT_OK,
  LIMIT_OPTIONS,
  type LimitArgs,
  limitsOf,
  parseList,
  positiveNumber,
  readFormula,
  run,
  VALUE_OPTIONS,
} from './common.js';

export const command = 'jacobian <formula>';
export const describe = 'the full Jacobian of a vector-valued formula by forward mode (n passes) and reverse mode (m passes), with their cost';

export const positionals = {
  formula: { type: 'string', describe: 'the formula, in mathjs syntax; @file reads it from a file, - from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  ...VALUE_OPTIONS,
  mode: {
    choices: ['both', 'auto', 'forward', 'reverse'] as const,
    default: 'both' as const,
    describe: 'both: run the two and compare; auto: the one with fewer passes, saying why',
  },
  wrt: { type: 'string', array: true, describe: 'differentiate only with respect to these variables (comma-separated)' },
  engine: ENGINE_OPTION,
  check: { type: 'boolean', default: true, describe: 'compare with central differences (--no-check to skip)' },
  rtol: { type: 'number', default: 1e-5, describe: 'relative tolerance of the checks' },
  atol: { type: 'number', default: 1e-7, describe: 'absolute tolerance of the checks' },
  eps: { type: 'number', describe: 'relative finite-difference step (default cbrt(machine ε))' },
  'fd-max': { type: 'number', default: 2000, describe: 'difference only while the inputs have at most this many entries' },
  digits: { type: 'number', default: 6, describe: 'significant digits in the human view' },
} as const;

const examples = [
  ['$0 jacobian "[x*y, sin(x), x+z]" --at x=2,y=3,z=1', 'three outputs, three inputs'],
  ['$0 jacobian "W*x" --at "W=[[1,2],[3,4]], x=[1,-1]" --wrt x', 'the Jacobian of a matrix-vector product is W'],
  ['$0 jacobian "softmax(v)" --at "v=[1,2,3]"', 'softmax: diag(s) − s sᵀ'],
  ['$0 jacobian "sum(W*x)" --at "W=randn(10,200), x=randn(200)" --mode auto', 'n ≫ m: auto picks reverse mode'],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const digits = args.digits;
    checkDigits(digits);
    const limits = limitsOf(args);
    const values = parseAt(args.at, { seed: args.seed, limits });
    // loaded when the command runs, off other commands' start-up
    const [{ jacobian }, { jacobianPassed, renderJacobian }] = await Promise.all([import('../subjects/formula/jacobian.js'), import('../report/jacobian.js')]);
    const result = jacobian(readFormula(args.formula, limits), values, {
      limits,
      mode: args.mode,
      wrt: parseList(args.wrt),
      engine: args.engine,
      check: args.check,
      rtol: positiveNumber('rtol', args.rtol),
      atol: positiveNumber('atol', args.atol),
      eps: positiveNumber('eps', args.eps),
      fdMax: positiveNumber('fd-max', args.fdMax),
    });
    emit(
      jsonOr(
        args,
        () => result,
        () => renderJacobian(result, { digits, color: colors(args) }),
      ),
    );
    return jacobianPassed(result) ? EXIT_OK : EXIT_FAIL;
  });
}
