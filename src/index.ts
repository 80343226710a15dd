/**
 * autograd-cli as a library: the same result objects the CLI prints.
 *
 *   import { grad } from 'autograd-cli';
 *   const r = grad('(x+y)*sin(x)', { x: Math.PI, y: Math.PI });
 *   r.gradient.x; // -6.283185307179586
 */
import { checkSecondOrder as checkSecondOrderVerdict } from './verify/second-order.js';

export {
  grad,
  prepare,
  type GradOptions,
  type GradResult,
  type NodeReport,
  type EdgeReport,
  type Warning,
  type Summary,
  type Shown,
} from './subjects/formula/grad.js';
export {
  gradcheck,
  GradcheckError,
  type GradcheckOptions,
  type GradcheckResult,
  type GradcheckFailure,
  type FunctionGradcheckOptions,
  type FunctionGradcheckResult,
  type InputValues,
  type GradientValues,
} from './api/gradcheck.js';
export type { ValueLike, TensorLike, NestedArray } from './verify/forms.js';
export { compile, type CompiledFormula, type CompileOptions } from './subjects/formula/compiled.js';
export { checkGradient, type CheckOptions, type CheckResult, type EntryCheck, type FdMethod, MIN_JUDGED_SHARE } from './verify/fd.js';
export { DEFAULT_ATOL, DEFAULT_RTOL, DEFAULT_EPS, DEFAULT_FD_MAX } from './verify/tolerance.js';
export { DTYPES, type Dtype, type Precision } from './verify/dtype.js';
export { parseProgram } from './core/parse/parse.js';
export { parseAt } from './core/values.js';
export type { Nested } from './core/parse/values.js';
export { buildTape } from './core/graph/build.js';
export type { Tape, TapeNode } from './core/graph/tape.js';
export { OPS, getOp } from './core/ops/index.js';
export type { OpDef } from './core/ops/types.js';
export { AgError, type Span, type ErrorCode } from './core/errors.js';
export { DEFAULT_LIMITS, limitsFrom, type Limits } from './core/limits.js';
export { jacobian, type JacobianOptions, type JacobianResult } from './subjects/formula/jacobian.js';
export {
  hessian,
  hvp,
  secondOrderCheck,
  secondOrderTape,
  type HessianOptions,
  type HessianResult,
  type HvpResult,
  type SecondOrderCheckResult,
  type SecondOrderOptions,
  type SecondOrderTape,
  type SecondOrderCheck,
  type SecondOrderDirection,
  type Curvature,
} from './subjects/formula/hessian.js';
export type { SecondOrderFunction, SecondOrderVerdict, DirectionVerdict, SecondOrderEntry } from './verify/second-order.js';
/**
 * @deprecated The library's name for the second-order check is `secondOrderCheck`:
 * `secondOrderCheck(fn, directions, options)` is this call, unchanged.
 */
export const checkSecondOrder: typeof checkSecondOrderVerdict = checkSecondOrderVerdict;
export { TapeWriter } from './core/graph/append.js';
export { appendGradient, appendTangent } from './core/graph/gradient.js';
export { derive, crossCheck, type DeriveOptions, type DeriveResult, type DeriveEdge, type CrossCheck } from './subjects/formula/derive/index.js';
export { graphResult, type GraphResult, type GraphNode, type GraphEdge, type GraphSeed, type GraphOptions } from './subjects/formula/graph-result.js';
export {
  renderGraph,
  renderAscii,
  renderDot,
  renderMermaid,
  renderSvg,
  renderGraphJson,
  formatFromPath,
  GRAPH_FORMATS,
  type GraphFormat,
} from './report/graph/index.js';
export type { GraphColors } from './report/graph/ascii.js';
export type { Tensor, Shape } from './core/tensor.js';
