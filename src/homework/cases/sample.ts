import { AgError } from '../../core/errors.js';
import { grad, type GradResult, type Warning } from '../../subjects/formula/grad.js';
import { located, Located } from '../../subjects/formula/check/compile.js';
import { jacobianAt, jacobianFinite, pointResult, wantsJacobian } from '../../subjects/formula/check/jacobian-point.js';
import { flat, stepTruths, type Sample } from '../../subjects/formula/check/point.js';
import { folderOf } from '../../core/io/read.js';
import type { FileScope } from '../../core/io/scope.js';
import type { Limits } from '../../core/limits.js';
import { fromNested } from '../../core/parse/values.js';
import { Rng } from '../../core/random.js';
import { scalar, type Tensor } from '../../core/tensor.js';
import { parseAt, valueOf } from '../../core/values.js';
import type { CaseSpec } from './load.js';
import { fieldName, type Compiled, type RunOptions } from './compile.js';

/**
 * The points a case is judged at: fixed values, random expressions redrawn, variables
 * drawn from their ranges; autodiff there; the named steps' values asked for.
 */

/** Where variables without a value are drawn from, unless `ranges:` says otherwise. */
export const DEFAULT_RANGE: [number, number] = [-3, 3];
/** Random evaluation points per case when values are drawn at random (samples:). */
export const DEFAULT_SAMPLES = 5;
/** Random draws per wanted point before giving up on finding points where f is finite. */
const TRIES_PER_POINT = 20;

function hasRandomValues(spec: CaseSpec): boolean {
  const rand = /\brandn?\s*\(/;
  return spec.atText.some((t) => rand.test(t)) || Object.values(spec.at).some((v) => typeof v === 'string' && rand.test(v));
}

/**
 * Where a case's `@file` references resolve: the case file's folder, and without
 * --allow-files only inside it (the command line's own case resolves as the command line does).
 */
export function caseScope(spec: CaseSpec, o: RunOptions): FileScope {
  if (spec.file === '<inline>') return {};
  const dir = folderOf(spec.file);
  return { base: dir, sandbox: o.allowFiles ? undefined : dir };
}

/** The values of point number k: fixed ones, redrawn random expressions, and variables drawn from their ranges. */
function drawValues(c: Compiled, k: number, rng: Rng, random: boolean, o: RunOptions): Record<string, Tensor> {
  const { spec } = c;
  const limits = c.grad.limits as Limits;
  const scope = caseScope(spec, o);
  const values: Record<string, Tensor> = Object.create(null);
  let held = 0;
  if (spec.atText.length) {
    const given = located('at', () => parseAt(spec.atText, { seed: c.seed + k, limits, scope }));
    for (const name of Object.keys(given)) {
      values[name] = given[name];
      held += given[name].data.length;
    }
  }
  for (const name of Object.keys(spec.at)) {
    const raw = spec.at[name];
    values[name] = located(`at.${name}`, () => (typeof raw === 'string' ? valueOf(name, raw, rng, limits, held, scope) : fromNested(raw, `at: ${name}`)));
    held += values[name].data.length;
  }
  if (random) {
    for (const v of c.variables) {
      if (v in values) continue;
      const [lo, hi] = spec.ranges[v] ?? DEFAULT_RANGE;
      values[v] = scalar(lo + (hi - lo) * rng.next());
    }
  }
  return values;
}

/**
 * The points a case is judged at: drawn (or fixed) values, autodiff there (with the
 * named steps' gradients asked for), and the named steps' values. Random points where f
 * or its gradient is not finite are drawn again. Throws Located when no point is found.
 * `quiet`: autodiff's warnings of these kinds are not passed on.
 */
export function samplePoints(c: Compiled, o: RunOptions, quiet: Warning['code'][] = []): { samples: Sample[]; warnings: string[] } {
  const { spec } = c;
  const random = spec.random;
  const redraw = random || hasRandomValues(spec);
  const want = redraw ? (spec.samples ?? o.samples ?? DEFAULT_SAMPLES) : 1;
  const warnings = new Set<string>(c.warnings);
  for (const name of Object.keys(spec.ranges)) {
    if (!c.variables.includes(name)) warnings.add(`${fieldName(spec, `ranges.${name}`)}: the formula has no variable ${name}; the range is not used`);
  }
  if (redraw && spec.points !== undefined && spec.samples === undefined && spec.points !== 1) {
    warnings.add(`points: ${spec.points} is grade points; the number of random evaluation points is samples: (${want} here)`);
  }
  const rng = new Rng(c.seed);
  // Jacobian answers: f is a vector, so its Jacobian (checked against finite differences) is the truth, not grad's gradient
  const vector = wantsJacobian(c);
  const samples: Sample[] = [];
  let skipped = 0;
  const tries = random ? want * TRIES_PER_POINT : want;
  for (let k = 0; k < tries && samples.length < want; k++) {
    const values = drawValues(c, k, rng, random, o);
    const jac = vector ? jacobianAt(c, values) : undefined;
    const r = jac ? pointResult(jac) : located('f', () => grad(spec.f, values, c.grad));
    if (random && !(jac ? jacobianFinite(jac) : finiteAt(r))) {
      skipped++;
      continue;
    }
    samples.push({ values, r, steps: stepTruths(c, values), ...(jac ? { jac, ...(jac.notes.length ? { notes: [...jac.notes] } : {}) } : {}) });
    for (const w of r.warnings) if (w.code !== 'nonfinite' && !quiet.includes(w.code)) warnings.add(w.message);
  }
  if (samples.length === 0) {
    const ranges = c.variables.filter((v) => !(v in spec.at)).map((v) => `${v} in [${(spec.ranges[v] ?? DEFAULT_RANGE).join(', ')}]`);
    throw new Located(
      'f',
      new AgError('bad-value', `f or its gradient is not finite at any of the ${skipped} random points tried (${ranges.join(', ')})`, {
        hint: `give ranges inside the formula's domain, e.g. ${spec.file === '<inline>' ? `--range ${c.variables[0] ?? 'x'}=[0.1,3]` : `ranges: { ${c.variables[0] ?? 'x'}: [0.1, 3] }`}`,
      }),
    );
  }
  if (skipped) warnings.add(`${skipped} random point${skipped > 1 ? 's' : ''} skipped where f or its gradient is not finite`);
  if (samples.length < want) warnings.add(`only ${samples.length} of ${want} points found where f and its gradient are finite`);
  return { samples, warnings: [...warnings] };
}

function finiteAt(r: GradResult): boolean {
  if (!Number.isFinite(r.value)) return false;
  return Object.values(r.gradient).every((g) => flat(g).every(Number.isFinite));
}
