import { failed, type CheckResult, type EntryCheck } from './fd.js';
import type { FunctionCheck } from './function.js';
import type { InputSpec } from './evaluator.js';
import { distinct } from './compare.js';
import { subscriptOf } from './forms.js';

/**
 * The verdict in words: what failed (each entry named `W[3,7]`, both numbers) and what
 * finite differences could not judge, and why. One place for every function under
 * test: a formula (grad), a JS function, a module or a program over a pipe.
 */

/** Something the check could not judge, or a note about how it judged. */
export interface Uncertainty {
  code: 'kink' | 'noisy';
  message: string;
}

/** Something wrong, with the numbers. */
export interface Finding {
  /** unjudged: too little was judged for a pass (nothing judged is not a pass) */
  kind: 'gradient' | 'nonfinite' | 'jvp' | 'reference' | 'unjudged';
  /** `∂f/∂W[3,7]`, `∂f[2]/∂x`, `J·v along v1` */
  entry: string;
  message: string;
  /** the derivative under test */
  yours: number;
  /** finite differences, or the reference's value */
  truth: number;
}

export function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v);
}

export function listed(entries: { entry: string }[]): string {
  return `${entries
    .map((e) => e.entry)
    .slice(0, 5)
    .join(', ')}${entries.length > 5 ? `, … (${entries.length} in all)` : ''}`;
}

/**
 * What the differences could not judge in a scalar check: kinks crossed, entries at the
 * edge of the domain, noise larger than the gap. `who`: `autodiff` for a formula,
 * `your gradient` for a function.
 */
export function uncertainties(check: CheckResult, who: string, subject: 'formula' | 'function'): Uncertainty[] {
  const out: Uncertainty[] = [];
  for (const e of check.entries.filter((x) => x.status === 'kink')) {
    out.push({
      code: 'kink',
      message: `${e.entry}: ${e.note ?? 'a step crosses a kink'}; finite differences cannot judge the derivative here (${who} gives ${fmt(e.ad)}, differences ${fmt(e.fd)})`,
    });
  }
  const undefinedNear = check.entries.filter((x) => x.status === 'noisy' && !Number.isFinite(x.fd));
  if (undefinedNear.length) {
    out.push({
      code: 'noisy',
      message: `the ${subject} is not finite within a finite-difference step of ${listed(undefinedNear)} (the point is at the edge of its domain); differences cannot judge there`,
    });
  }
  const noisy = check.entries.filter((x) => x.status === 'noisy' && Number.isFinite(x.fd));
  if (noisy.length) {
    const worst = noisy.reduce((a, b) => (b.fdError > a.fdError ? b : a));
    out.push({
      code: 'noisy',
      message: `finite differences cannot judge ${listed(noisy)}: ${worst.note ?? `estimated error ${fmt(worst.fdError)}`}, larger than the gap to ${who} (${fmt(worst.absError)}); ${check.steps === 'fixed' ? 'try --method richardson or a different --eps' : `a fixed --eps may suit this ${subject} better`}`,
    });
  }
  return out;
}

/** `∂f/∂W[3,7]` for a scalar f, `∂(uᵀf)/∂W[3,7]` for a projection. */
function partialOf(entry: string, mode: FunctionCheck['mode']): string {
  return mode === 'projection' ? `∂(uᵀf)/∂${entry}` : `∂f/∂${entry}`;
}

function gap(yours: number, truth: number, e?: { absError: number; relError: number }): string {
  if (!Number.isFinite(yours)) return '';
  const abs = e?.absError ?? Math.abs(yours - truth);
  const rel = e?.relError ?? abs / Math.max(Math.abs(truth), Number.MIN_VALUE);
  return ` (abs err ${fmt(abs)}, rel err ${fmt(rel)})`;
}

/**
 * The failures of a function's check, worst first, at most five per part: entries of
 * your gradient (or vjp, or Jacobian row) against finite differences, your jvp along
 * random directions, and your derivative against the reference.
 */
export function findings(r: FunctionCheck, inputs: InputSpec[], rows: string[], side: string): Finding[] {
  const out: Finding[] = [];
  const entryFail = (e: EntryCheck, entry: string): Finding => {
    const [y, t] = distinct(e.ad, e.fd);
    return e.status === 'nonfinite' && !Number.isFinite(e.ad)
      ? {
          kind: 'nonfinite',
          entry,
          message: `${entry}: your ${side} gives ${e.ad}${Number.isFinite(e.fd) ? `; finite differences give ${fmt(e.fd)}` : ''}`,
          yours: e.ad,
          truth: e.fd,
        }
      : e.status === 'nonfinite'
        ? { kind: 'nonfinite', entry, message: `${entry}: ${e.note ?? 'not finite'}`, yours: e.ad, truth: e.fd }
        : {
            kind: 'gradient',
            entry,
            message: `${entry}: your ${side} gives ${y}, finite differences give ${t}${gap(e.ad, e.fd, e)}`,
            yours: e.ad,
            truth: e.fd,
          };
  };
  if (r.check) {
    for (const e of r.check.failures) out.push(entryFail(e, partialOf(e.entry, r.mode)));
    const dir = r.check.directions?.filter((d) => failed(d.status)) ?? [];
    if (dir.length && !r.check.failures.length) {
      const d = dir[0];
      const [y, t] = distinct(d.ad, d.fd);
      out.push({
        kind: 'gradient',
        entry: '∇f·v',
        message: `along a random direction v: your ${side}·v = ${y}, finite differences give ${t}${gap(d.ad, d.fd, d)} (the sampled entries agree; ${dir.length} of ${r.check.directions!.length} directions disagree)`,
        yours: d.ad,
        truth: d.fd,
      });
    }
  }
  if (r.jacobian) for (const e of r.jacobian.failures) out.push(entryFail(e, `∂${e.row}/∂${e.column}`));
  if (r.jvp) {
    for (const e of r.jvp.entries.filter((x) => failed(x.status))) {
      const [y, t] = distinct(e.ad, e.fd);
      out.push({
        kind: 'jvp',
        entry: `(J·v)${e.entry}`,
        message: `your jvp: (J·v) at ${e.entry} = ${y}, finite differences give ${t}${gap(e.ad, e.fd, e)}`,
        yours: e.ad,
        truth: e.fd,
      });
    }
  }
  if (r.reference) {
    const cols = inputs.reduce((s, i) => s + i.size, 0);
    const m = r.analytic.length / cols;
    for (const inp of inputs) {
      const v = r.reference.variables[inp.name];
      if (!v?.worst) continue;
      const j = v.worst.flat % cols;
      const col = `${inp.name}${subscriptOf(inp.shape, j - inp.offset)}`;
      const entry = r.mode === 'jacobian' ? `∂${rows[Math.floor(v.worst.flat / cols)]}/∂${col}` : partialOf(col, r.mode);
      const [y, t] = distinct(v.worst.yours, v.worst.truth);
      const total = (r.mode === 'jacobian' ? m : 1) * inp.size;
      out.push({
        kind: 'reference',
        entry,
        message: `${entry}: your ${side} gives ${y}, the reference formula's autodiff gives ${t}${gap(v.worst.yours, v.worst.truth)}; wrong in ${v.wrong} of ${total} ${r.mode === 'jacobian' ? 'Jacobian entries' : 'entries'} of ${inp.name}`,
        yours: v.worst.yours,
        truth: v.worst.truth,
      });
    }
  }
  return out;
}
