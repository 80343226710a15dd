/** A half-open range [start, end) of character offsets into the formula text. */
export interface Span {
  start: number;
  end: number;
}

export type ErrorCode =
  | 'syntax'
  | 'unsupported'
  | 'unknown-function'
  | 'unknown-variable'
  | 'missing-value'
  | 'bad-value'
  | 'arity'
  | 'shape'
  | 'index'
  | 'recursion'
  | 'limit'
  | 'usage'
  | 'io'
  | 'engine';

/**
 * Errors are values with a code, a message and (where there is one) a source span.
 * Only the CLI decides how to print them and which exit code they mean.
 */
export class AgError extends Error {
  readonly code: ErrorCode;
  readonly span?: Span;
  readonly hint?: string;
  /** The text the span points into (a formula, or a value expression). */
  readonly source?: string;

  constructor(code: ErrorCode, message: string, opts: { span?: Span; hint?: string; source?: string } = {}) {
    super(message);
    this.name = 'AgError';
    this.code = code;
    this.span = opts.span;
    this.hint = opts.hint;
    this.source = opts.source;
  }

  /** The same error, pointing into `source` (kept if already set). */
  withSource(source: string): AgError {
    if (this.source !== undefined) return this;
    return new AgError(this.code, this.message, { span: this.span, hint: this.hint, source });
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.span ? { span: this.span } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.source !== undefined ? { source: this.source } : {}),
    };
  }
}

export function isAgError(e: unknown): e is AgError {
  return e instanceof AgError;
}
