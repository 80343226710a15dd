import { mathParse } from '../parse/mathjs.js';

/**
 * LaTeX for `--latex`: mathjs's toTex of our own formulas (parsed by the parser the CLI
 * already has: no evaluation, no simplify). Transposes are written ᵀ (mathjs writes the
 * conjugate transpose ^H); text that is not a formula (a name shortened with …) is \text.
 */
export function toTex(formula: string): string {
  try {
    return mathParse(formula)
      .toTex({ parenthesis: 'auto', implicit: 'hide' })
      .replace(/\^H\b/g, '^{\\top}')
      .replace(/\s+/g, ' ')
      .trim();
  } catch {
    return `\\text{${formula.replace(/[\\{}$&#^_%~]/g, (c) => `\\${c}`)}}`;
  }
}

/** `lhs &= rhs` lines in one align* block, ready to paste. */
export function alignBlock(rows: [string, ...string[]][]): string {
  return ['\\begin{align*}', ...rows.map((r, i) => `  ${r[0]} &= ${r.slice(1).join(' = ')}${i < rows.length - 1 ? ' \\\\' : ''}`), '\\end{align*}'].join('\n');
}
