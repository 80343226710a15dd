import type { AgError } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import type { Program } from '../../../core/parse/ast.js';
import type { Nested } from '../../../core/parse/values.js';
import type { Tensor } from '../../../core/tensor.js';
import type { Factor } from '../../../verify/mistakes.js';
import type { EdgeReport, GradResult } from '../grad.js';
import type { JacobianResult } from '../jacobian.js';
import type { SecondOrderTape } from '../hessian.js';
import { located, type Compiled } from './compile.js';
import { evaluateTogether } from './expect.js';

export const flat = (n: Nested): number[] => (typeof n === 'number' ? [n] : (n.flat(2) as number[]));

/** One point a check is judged at: its values, autodiff's result there, and the named steps' values asked for. */
export interface Sample {
  values: Record<string, Tensor>;
  r: GradResult;
  steps: Record<string, Tensor>;
  /** the graph's edges here, and their local derivatives (computed when a wrong answer needs them) */
  edges?: EdgeReport[];
  factors?: Factor[];
  /** formula answers' values here, by their text (see answerAt) */
  answers?: Map<string, Tensor | AgError>;
  /** autodiff's gradients here with one square matrix made symmetric, by the matrix (null: it could not run) */
  symmetric?: Map<string, Record<string, Nested> | null>;
  /** the tape with its gradient's graph here (built when a second derivative is asked for) */
  second?: SecondOrderTape;
  /**
   * a vector f's Jacobian here (a case whose answers are Jacobians): then `r` holds only
   * the point and variables, and its value and gradient are not f's
   */
  jac?: JacobianResult;
  /** what judging here could not settle (a second-order direction across a kink) */
  notes?: string[];
}

/** The values of the named steps asked for, at a point: f's statements evaluated up to them, all from one tape. */
export function stepTruths(c: Compiled, values: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = Object.create(null);
  if (c.stepValues.length === 0) return out;
  const got = located('f', () => evaluateTogether(stepsProgram(c), c.stepValues, values, c.grad.limits as Limits));
  c.stepValues.forEach((name, k) => (out[name] = got[k]));
  return out;
}

/** Each case's program of its steps' values, made once for the steps asked for: the same program at every point finds its tape built (expect.ts). */
const stepsPrograms = new WeakMap<Compiled, { names: string[]; program: Program }>();

/** f's statements, then the first step asked for as the value (every one asked for is kept: evaluateTogether). */
function stepsProgram(c: Compiled): Program {
  let made = stepsPrograms.get(c);
  // the steps asked for are a new list whenever more are asked for (compile.ts wantTruths)
  if (made?.names !== c.stepValues) {
    const span = { start: 0, end: 0 };
    made = { names: c.stepValues, program: { source: c.spec.f, stmts: [...c.steps, { k: 'expr', expr: { k: 'sym', name: c.stepValues[0], span }, span }] } };
    stepsPrograms.set(c, made);
  }
  return made.program;
}
