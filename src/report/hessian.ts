import type { ChalkInstance } from 'chalk';
import type { SecondOrderVerdict } from '../verify/second-order.js';
import type { Curvature, HessianResult, HvpResult } from '../subjects/formula/hessian.js';
import type { Nested } from '../core/parse/values.js';
import { err, ms, num } from '../core/number-format.js';
import { norm2 } from '../core/tensor.js';
import type { Shown } from '../subjects/formula/grad.js';
import { isSummary } from './format.js';
import { matrixLines, pointText } from './matrix.js';

interface Style {
  digits: number;
  color: ChalkInstance;
}

/** Eigenvalues listed in full up to this many; beyond, the smallest and largest few. */
const SHOW_EIGEN = 10;

const MEANING: Record<Curvature, string> = {
  'positive definite': 'f curves up along every direction here, strictly convex near this point (a strict minimum where ∇f = 0)',
  'positive semidefinite': 'f curves up or stays flat (λ ≈ 0) along every direction, convex to second order and flat along some directions',
  'negative definite': 'f curves down along every direction here, strictly concave near this point (a strict maximum where ∇f = 0)',
  'negative semidefinite': 'f curves down or stays flat (λ ≈ 0) along every direction, concave to second order',
  indefinite: 'f curves up along some directions and down along others (a saddle where ∇f = 0)',
  zero: 'no curvature at all (f is affine near this point)',
};

/** The human view of `hessian`: the matrix with entry names, its symmetry, eigenvalues and curvature, the check. */
export function renderHessian(r: HessianResult, o: Style): string {
  const c = o.color;
  const out = head(r, o, `n = ${r.n} input entr${r.n === 1 ? 'y' : 'ies'}`);
  const wrt = r.variables.length === 1 ? `${r.variables[0]}²` : `(${r.variables.join(', ')})²`;
  const cost = `${r.passes} Hessian-vector product${r.passes === 1 ? '' : 's'} (reverse over reverse), ${ms(r.ms)}`;
  out.push(`${c.bold('Hessian')} ∂²f/∂${wrt}  ${c.dim(`${r.n} × ${r.n}; ${cost}`)}`);
  out.push(...matrixLines(r.entries, r.entries, r.hessian, o));
  out.push('');
  const sym = `max |H − Hᵀ| = ${err(r.symmetry.maxAbsDiff)}${r.symmetry.maxRelDiff ? ` (relative ${err(r.symmetry.maxRelDiff)})` : ''}`;
  out.push(`${c.bold('symmetry')}     ${r.symmetry.passed ? sym : c.red(`${sym}: not symmetric within the tolerance`)}`);
  if (r.eigen) {
    const tol = r.eigen.tolerance;
    // rounding leaves ±1e-17 where the exact eigenvalue is 0: say so rather than print the noise as a sign
    const v = r.eigen.values.map((x) => (x !== 0 && Math.abs(x) <= tol ? '≈0' : num(x, o.digits)));
    const list = v.length <= SHOW_EIGEN ? v.join(', ') : `${v.slice(0, 4).join(', ')}, …, ${v.slice(-4).join(', ')}  ${c.dim(`(${v.length}, ascending)`)}`;
    out.push(`${c.bold('eigenvalues')}  ${list}`);
    out.push(`${c.bold('curvature')}    ${c.bold(r.eigen.curvature)}: ${MEANING[r.eigen.curvature]}`);
  }
  for (const n of r.notes) out.push(`${c.yellow('note:')} ${n}`);
  out.push('');
  out.push(...verdictLines(r.check, r.symmetry.passed, 'Hessian', o));
  return out.join('\n');
}

/** The human view of `hessian --hvp`: v, H·v per variable, the check along v. */
export function renderHvp(r: HvpResult, o: Style): string {
  const c = o.color;
  const out = head(r, o, `n = ${r.n} input entr${r.n === 1 ? 'y' : 'ies'}`);
  out.push(`${c.bold('v')}        ${shownPoint(r.direction, o.digits)}`);
  const hv = Object.entries(r.hvp)
    .map(([k, v]) => {
      const flat = typeof v === 'number' ? [v] : ((v as unknown[]).flat(2) as number[]);
      return flat.length <= 8 ? pointText({ [k]: v }, o.digits) : `${k} = [${shapeOf(v).join('×')}] ‖·‖=${num(norm2(flat), 4)}`;
    })
    .join(', ');
  out.push(`${c.bold('H·v')}      ${hv}  ${c.dim(`(one reverse pass over the gradient's graph, ${ms(r.ms)})`)}`);
  out.push('');
  out.push(...verdictLines(r.check, true, 'H·v', o));
  return out.join('\n');
}

function head(
  r: { formula: string; point: Record<string, Shown>; value: number; gradient: Record<string, Nested>; engine: string },
  o: Style,
  about: string,
): string[] {
  const c = o.color;
  return [
    `${c.bold('formula')}  ${r.formula}`,
    `${c.bold('at')}       ${shownPoint(r.point, o.digits)}`,
    `${c.bold('value')}    ${num(r.value, o.digits)}   ${c.dim(`(${about}; ${r.engine} engine)`)}`,
    `${c.bold('gradient')} ${pointText(r.gradient, o.digits)}`,
    '',
  ];
}

function verdictLines(
  check: (Omit<SecondOrderVerdict, 'directions'> & { kinks?: string[]; noisy?: number; mode?: string }) | null,
  symmetric: boolean,
  what: string,
  o: Style,
): string[] {
  const c = o.color;
  if (!check) return [c.dim('finite-difference check skipped') + (symmetric ? '' : `\n${c.red.bold('✗ check failed')}: the Hessian is not symmetric`)];
  const out: string[] = [];
  for (const f of check.failures)
    out.push(
      `${c.red('✗')} ${f.entry}: autodiff ${num(f.ad, o.digits)}, finite differences of the gradient ${num(f.fd, o.digits)} (abs err ${err(f.absError)})`,
    );
  if (check.kinks?.length)
    out.push(
      `${c.yellow('warning:')} a difference step crosses a kink for ${check.kinks.slice(0, 5).join(', ')}${check.kinks.length > 5 ? ', …' : ''}; finite differences cannot judge those columns`,
    );
  if (check.noisy)
    out.push(`${c.yellow('warning:')} ${check.noisy} entr${check.noisy === 1 ? 'y is' : 'ies are'} too ill-conditioned for finite differences to judge`);
  const along = check.mode === 'directional' ? ' along random directions' : '';
  if (check.passed && symmetric)
    out.push(
      `${c.green.bold('✓')} ${what} = finite differences of the gradient${along} (max rel err ${err(check.maxRelError)}${check.byAtol ? `; ${check.byAtol} entr${check.byAtol === 1 ? 'y' : 'ies'} only within atol ${check.atol}` : ''}; ${check.evaluations} gradient evaluations)`,
    );
  else {
    const why = [
      check.passed
        ? ''
        : `${check.failures.length}${check.failures.length === 5 ? '+' : ''} entr${check.failures.length === 1 ? 'y differs' : 'ies differ'} from finite differences of the gradient (rtol ${check.rtol}, atol ${check.atol})`,
      symmetric ? '' : 'the Hessian is not symmetric',
    ]
      .filter(Boolean)
      .join('; ');
    out.push(`${c.red.bold('✗ check failed')}: ${why}`);
  }
  return out;
}

function shapeOf(v: Nested): number[] {
  return Array.isArray(v) ? (Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length]) : [];
}

/** Values that may be summarised ({shape, norm, …}): small ones written out, large ones by their shape. */
function shownPoint(point: Record<string, Shown>, digits: number): string {
  return Object.entries(point)
    .map(([k, v]) => (isSummary(v) ? `${k} = [${v.shape.join('×')}]` : pointText({ [k]: v }, digits)))
    .join(', ');
}

export function hessianPassed(r: HessianResult): boolean {
  return Number.isFinite(r.value) && r.symmetry.passed && (r.check?.passed ?? true);
}

export function hvpPassed(r: HvpResult): boolean {
  return Number.isFinite(r.value) && (r.check?.passed ?? true);
}
