import { AgError } from '../../../core/errors.js';
import type { Tensor } from '../../../core/tensor.js';
import type { GradResult } from '../grad.js';
import { jacobian, type JacobianResult } from '../jacobian.js';
import { located, Located, type Compiled } from './compile.js';
import { flat } from './point.js';

/**
 * The truth when f is a vector and the answers are its Jacobians: the Jacobian at a point
 * (the `jacobian` command's computation, checked against central differences), for case
 * files and the library's gradcheck alike.
 */

/** Whether f's Jacobians are the truth at each point: a Jacobian is asked for (an answer, or a key's part). */
export function wantsJacobian(c: Compiled): boolean {
  return c.answers.some((a) => a.kind === 'jacobian') || (c.jacobians?.length ?? 0) > 0;
}

/** A vector f's Jacobian at a point, by the cheaper mode, against central differences. Refuses an f that is not a vector. */
export function jacobianAt(c: Compiled, values: Record<string, Tensor>): JacobianResult {
  const g = c.grad;
  const jac = located('f', () =>
    jacobian(c.spec.f, values, { wrt: g.wrt, engine: g.engine, mode: 'auto', rtol: g.rtol, atol: g.atol, eps: g.eps, method: g.method, limits: g.limits }),
  );
  // the Jacobians asked for: a case's answers, or an answer key's parts (graded before any answer is compiled)
  const asked = [
    ...c.answers.filter((a) => a.kind === 'jacobian').map((a) => ({ name: a.name, field: a.field, label: c.fieldName(a.field) })),
    ...(c.jacobians ?? []).map((name) => ({ name, field: 'parts', label: `${c.fieldName('parts')}: jacobian.${name}` })),
  ];
  const first = asked[0];
  if (jac.outputShape.length !== 1) {
    const what =
      jac.outputShape.length === 0
        ? `f is a scalar: its Jacobian is its gradient (answer it as gradient.${first.name})`
        : `f has shape ${jac.outputShape.join('×')}; a Jacobian answer needs f a vector`;
    throw new Located(first.field, new AgError('shape', `${first.label}: ${what}; Jacobians are checked for f a vector and x a scalar or a vector`));
  }
  for (const a of asked) {
    if (values[a.name] && values[a.name].shape.length > 1)
      throw new Located(
        a.field,
        new AgError(
          'shape',
          `${a.label}: ${a.name} is a matrix; Jacobians are checked for f a vector and x a scalar or a vector ([m, n] for f of shape [m], x of shape [n])`,
        ),
      );
  }
  return jac;
}

/** What a Sample keeps of autodiff's run when f is a vector: the point and the variables (no value or gradient of f). */
export function pointResult(j: JacobianResult): GradResult {
  return {
    formula: j.formula,
    engine: j.engine,
    point: j.point,
    variables: j.variables,
    value: Number.NaN,
    gradient: Object.create(null),
    forward: null,
    check: null,
    nodes: [],
    edges: [],
    warnings: [],
    indexVariables: [],
  };
}

export function jacobianFinite(j: JacobianResult): boolean {
  return flat(j.value).every(Number.isFinite) && j.jacobian.every((row) => row.every(Number.isFinite));
}
