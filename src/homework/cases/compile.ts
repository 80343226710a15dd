import { AgError, type Span } from '../../core/errors.js';
import { closest } from '../../core/graph/suggest.js';
import {
  compileCheck,
  compileFormula as compileFormulaOnly,
  Located,
  type Compiled as FormulaCompiled,
  type FormulaCheckOptions,
} from '../../subjects/formula/check/compile.js';
import { MAX_FILE_ATOL, MAX_FILE_RTOL, type CaseSpec } from './load.js';

/**
 * A case compiled: the formula check (subjects/formula/check) with what a case file adds —
 * its settings' caps, its problem as written, its fields named as the user wrote them.
 * Errors point at the field they are about.
 */

/** Settings from the command line: a case's own settings (and its file's defaults) win. */
export interface RunOptions extends Omit<FormulaCheckOptions, 'unjudgedAdvice' | 'fieldName'> {
  /** random evaluation points per case (--samples) */
  samples?: number;
  /** `@file` references in case files may name any file (default: only inside the case file's folder tree) */
  allowFiles?: boolean;
  /** the largest rtol and atol a case file may set (the command line may raise them) */
  maxRtol?: number;
  maxAtol?: number;
}

/** A case parsed and ready to run at points. */
export type Compiled = FormulaCompiled<CaseSpec>;

/** Why a case could not run, pointing at the field (and into the formula) it is about. */
export interface CaseError {
  code: string;
  message: string;
  field: string;
  line: number;
  /** column in the case file, when the error points into a formula whose place is known */
  col?: number;
  /** the text the span points into */
  source?: string;
  span?: Span;
  hint?: string;
}

/** A case file's author moves its point or gives the answer. */
const CASE_UNJUDGED = 'move the point off the kink (at:), or give the expected answer (expect:)';

export function compileCase(spec: CaseSpec, o: RunOptions = {}): Compiled {
  return compileCheck(admitted(spec, o), caseOptions(spec, o));
}

/** A case's formula and settings, without its answers (an answer key's problem is one). */
export function compileFormula(spec: CaseSpec, o: RunOptions = {}): Compiled {
  return compileFormulaOnly(admitted(spec, o), caseOptions(spec, o));
}

function caseOptions(spec: CaseSpec, o: RunOptions): FormulaCheckOptions {
  return { ...o, unjudgedAdvice: CASE_UNJUDGED, fieldName: (key) => fieldName(spec, key) };
}

/** The case as written may run: it has no problem, and a case file does not loosen its own judgement without bound (the command line can). */
function admitted(spec: CaseSpec, o: RunOptions): CaseSpec {
  if (spec.problem) throw new Located(spec.problem.key, new AgError('bad-value', spec.problem.message, { hint: spec.problem.hint }));
  if (spec.file !== '<inline>') {
    const caps = { rtol: o.maxRtol ?? MAX_FILE_RTOL, atol: o.maxAtol ?? MAX_FILE_ATOL };
    for (const k of ['rtol', 'atol'] as const) {
      const v = spec[k];
      if (v !== undefined && v > caps[k]) {
        throw new Located(
          k,
          new AgError('bad-value', `${k}: ${v} is above ${caps[k]}, the most a case file may set`, {
            hint: `a looser ${k} can only be given on the command line (--max-${k})`,
          }),
        );
      }
    }
  }
  return spec;
}

/** A field as the user wrote it: `expect.gradient.x:` in a file, `--expect x` on the command line. */
export function fieldName(spec: CaseSpec, key: string): string {
  if (spec.file !== '<inline>') return `${key}`;
  const [head, ...rest] = key.split('.');
  const name = rest.at(-1) ?? '';
  if (head === 'expect') return key === 'expect.value' ? '--expect-value' : rest[0] === 'jacobian' ? `--expect jacobian.${name}` : `--expect ${name}`;
  if (head === 'ranges') return `--range ${name}`;
  return `--${head}`;
}

/** A case's error (an AgError, or Located at one of its fields) as a report shows it. */
export function toCaseError(spec: CaseSpec, e: unknown, variables: string[] = []): CaseError {
  const fieldKey = e instanceof Located ? e.field : 'f';
  const ag =
    e instanceof Located
      ? e.error
      : e instanceof AgError
        ? e
        : new AgError('engine', `internal error: ${e instanceof Error ? e.message : String(e)}`, {
            hint: 'this is a bug in autograd-cli; please report it with the case',
          });
  const pos = spec.pos[fieldKey] ?? spec.pos[fieldKey.split('.')[0]];
  const inline = spec.file === '<inline>';
  let message = ag.message;
  let hint = ag.hint;
  const unknown = fieldKey.startsWith('expect.') && ag.code === 'missing-value' ? /no value for the variable (\S+)/.exec(message)?.[1] : undefined;
  if (unknown !== undefined) {
    // a name in an answer that f does not have is a typo in the answer, not a missing value
    const guess = closest(unknown, [...new Set([...variables, ...Object.keys(spec.at)])]);
    message = `${unknown} is not a variable of f`;
    hint = guess ? `did you mean ${guess}?` : variables.length ? `the variables of f are ${variables.join(', ')}` : undefined;
  } else if (!inline) {
    message = message.replace(/^--at (\w+):/, 'at: $1:').replace(/^--wrt /, 'wrt: ');
    if (ag.code === 'missing-value') hint = `give it a value under at:, or draw it at random with at: random (or ranges:)`;
  }
  const out: CaseError = {
    code: ag.code,
    message,
    field: fieldKey,
    line: pos?.line ?? spec.line,
    ...(ag.source !== undefined ? { source: ag.source } : {}),
    ...(ag.span ? { span: ag.span } : {}),
    ...(hint ? { hint } : {}),
  };
  // a caret into the file: where the formula's text starts, plus the span, while it stays on that line
  if (pos?.col !== undefined && ag.span && ag.source !== undefined && !ag.source.slice(0, ag.span.start).includes('\n')) {
    const formulaField = fieldKey === 'f' || /^(expect|answers)\./.test(fieldKey);
    if (formulaField && ag.source === (fieldKey === 'f' ? spec.f : ag.source)) out.col = pos.col + ag.span.start;
  }
  return out;
}
