import { builderOf, type ArgsOf } from './options.js';
import { AgError } from '../core/errors.js';
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

export const command = 'hessian <formula>';
export const describe =
  'the Hessian (second derivatives) from the gradient graph: the matrix, its symmetry, eigenvalues, a check against differences of the gradient; --hvp for a Hessian-vector product';

export const positionals = {
  formula: { type: 'string', describe: 'a scalar formula, in mathjs syntax; @file reads it from a file, - from standard input' },
} as const;

export const options = {
  ...LIMIT_OPTIONS,
  ...VALUE_OPTIONS,
  hvp: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'only H·v for this direction v (name=value,... like --at; variables left out move by 0): for inputs too large for the whole Hessian',
  },
  wrt: { type: 'string', array: true, describe: 'differentiate only with respect to these variables (comma-separated)' },
  engine: ENGINE_OPTION,
  check: { type: 'boolean', default: true, describe: 'compare with central differences of the gradient (--no-check to skip)' },
  rtol: { type: 'number', default: 1e-5, describe: 'relative tolerance of the check' },
  atol: { type: 'number', default: 1e-7, describe: 'absolute tolerance of the check' },
  eps: { type: 'number', describe: 'relative finite-difference step (default cbrt(machine ε))' },
  'fd-max': { type: 'number', default: 2000, describe: 'difference every column while the inputs have at most this many entries; above, random directions' },
  directions: { type: 'number', default: 4, describe: 'random directions of the directional check' },
  'max-hessian': { type: 'number', default: 4000, describe: 'most input entries for the whole n × n Hessian (above: use --hvp)' },
  digits: { type: 'number', default: 6, describe: 'significant digits in the human view' },
} as const;

const examples = [
  ['$0 hessian "sum((W*x).^2)" --at "W=[[1,2],[3,4]], x=[1,-1]" --wrt x', '2WᵀW, positive definite'],
  ['$0 hessian "x^2*y + sin(x)*y^3" --at x=0.7,y=-1.3', 'a saddle: indefinite'],
  ['$0 hessian "log(1 + exp(-y*(w\'*x + b)))" --at "w=[1,-1], x=[0.5,2], b=0.1, y=1" --wrt w,b', 'the logistic loss: σ(z)(1−σ(z)) x xᵀ'],
  [
    '$0 hessian "sum((max(X*W1, 0)*W2 - Y).^2)" --at "X=randn(64,1000),W1=randn(1000,100),W2=randn(100,10),Y=randn(64,10)" --wrt W1,W2 --hvp "W1=randn(1000,100), W2=randn(100,10)"',
    'one H·v on the MLP (101,000 entries)',
  ],
] as const;

export const builder = builderOf({ positionals, options, examples });

type Args = ArgsOf<typeof positionals, typeof options> & LimitArgs;

export async function handler(args: Args): Promise<void> {
  await run(args, async () => {
    const digits = args.digits;
    checkDigits(digits);
    const maxHessian = args.maxHessian;
    if (!Number.isInteger(maxHessian) || maxHessian < 1) throw new AgError('usage', `--max-hessian must be a positive whole number, not ${maxHessian}`);
    const limits = limitsOf(args);
    const values = parseAt(args.at, { seed: args.seed, limits });
    // loaded when the command runs, off other commands' start-up
    const [{ hessian, hvp }, report] = await Promise.all([import('../subjects/formula/hessian.js'), import('../report/hessian.js')]);
    const opts = {
      wrt: parseList(args.wrt),
      engine: args.engine,
      check: args.check,
      rtol: positiveNumber('rtol', args.rtol),
      atol: positiveNumber('atol', args.atol),
      eps: positiveNumber('eps', args.eps),
      fdMax: positiveNumber('fd-max', args.fdMax),
      directions: positiveNumber('directions', args.directions),
      seed: args.seed,
      limits,
    };
    const formula = readFormula(args.formula, limits);
    if (args.hvp) {
      // the direction is read like --at, with the same seed stream continued
      const direction = parseAt(args.hvp, { seed: args.seed + 1, limits });
      const r = hvp(formula, values, direction, opts);
      emit(
        jsonOr(
          args,
          () => r,
          () => report.renderHvp(r, { digits, color: colors(args) }),
        ),
      );
      return report.hvpPassed(r) ? EXIT_OK : EXIT_FAIL;
    }
    const r = hessian(formula, values, { ...opts, maxHessian, json: args.json });
    emit(
      jsonOr(
        args,
        () => r,
        () => report.renderHessian(r, { digits, color: colors(args) }),
      ),
    );
    return report.hessianPassed(r) ? EXIT_OK : EXIT_FAIL;
  });
}
