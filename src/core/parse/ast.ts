import type { Span } from '../errors.js';

/** Our own small expression tree: what survives the whitelist walk over mathjs's tree. */
export type Expr =
  | { k: 'num'; v: number; span: Span }
  | { k: 'str'; v: string; span: Span }
  | { k: 'sym'; name: string; span: Span }
  | { k: 'call'; fn: string; args: Expr[]; span: Span; nameSpan: Span; op?: string }
  | { k: 'cond'; test: Expr; then: Expr; else: Expr; span: Span }
  | { k: 'index'; obj: Expr; dims: IndexDim[]; span: Span }
  | { k: 'array'; items: Expr[]; span: Span };

export type IndexDim =
  | { k: 'at'; e: Expr; span: Span }
  /** `a:b`, `a:s:b`, `:`; a missing end means "to the end" */
  | { k: 'range'; start?: Expr; step?: Expr; end?: Expr; span: Span };

export type Stmt =
  | { k: 'assign'; name: string; expr: Expr; span: Span; nameSpan: Span }
  | { k: 'def'; name: string; params: string[]; body: Expr; span: Span }
  | { k: 'expr'; expr: Expr; span: Span };

export interface Program {
  source: string;
  stmts: Stmt[];
}
