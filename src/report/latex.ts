import type { GradResult } from '../subjects/formula/grad.js';
import { atomic } from '../core/graph/describe.js';
import { num } from '../core/number-format.js';
import { mathParse, textbookTex } from '../core/parse/mathjs.js';
import { safeText } from '../core/safe-text.js';

/**
 * LaTeX for `--latex`: mathjs's toTex of our own formulas (parsed by the parser the CLI
 * already has: no evaluation, no simplify). Transposes are written ᵀ (mathjs writes the
 * conjugate transpose ^H); text that is not a formula (a name shortened with …) is \text.
 */
export function toTex(formula: string): string {
  try {
    return textbookTex(
      mathParse(formula)
        .toTex({ parenthesis: 'auto', implicit: 'hide' })
        .replace(/\^H\b/g, '^{\\top}')
        // x.^2 is x^2 of each entry (the other elementwise operators: textbookTex)
        .replace(/\.\^\\wedge/g, '^')
        .replace(/\s+/g, ' ')
        .trim(),
    );
  } catch {
    return `\\text{${formula.replace(/[\\{}$&#^_%~]/g, (c) => TEXT_ESCAPE[c] ?? `\\${c}`).replace(LINE_BREAK, ' ')}}`;
  }
}

// in \text, a backslash, ~ and ^ are commands of their own, not escapes
const TEXT_ESCAPE: Record<string, string> = { '\\': '\\textbackslash{}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' };

// what a TeX engine or an editor may take for the end of a line
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;

/**
 * Text as a LaTeX comment: every line of it starts with `%`, so a formula written over
 * several lines (a `# \input{…}` comment on its second line) stays a comment.
 */
export function texComment(text: string): string {
  return text
    .split(LINE_BREAK)
    .map((line) => `% ${safeText(line, { max: Infinity, oneLine: true })}`.trimEnd())
    .join('\n');
}

/** `lhs &= rhs` lines in one align* block, ready to paste. */
export function alignBlock(rows: [string, ...string[]][]): string {
  return ['\\begin{align*}', ...rows.map((r, i) => `  ${r[0]} &= ${r.slice(1).join(' = ')}${i < rows.length - 1 ? ' \\\\' : ''}`), '\\end{align*}'].join('\n');
}

/** A number in LaTeX: `1.22465\cdot10^{-16}`. */
function texNumber(v: number, digits: number): string {
  const t = num(v, digits);
  const m = /^(-?[\d.]+)e(-?\d+)$/.exec(t);
  return m ? `${m[1]}\\cdot10^{${m[2]}}` : t;
}

/** `grad --latex`: each edge's local derivative ∂to/∂from in backprop order, with its value where it is a number. */
export function renderGradLatex(r: GradResult, digits = 6): string {
  const part = (name: string) => (atomic(name) ? toTex(name) : `\\left(${toTex(name)}\\right)`);
  const rows: [string, ...string[]][] = r.edges.map((e) => {
    const d = `\\frac{\\partial ${part(r.nodes[e.to].name)}}{\\partial ${part(r.nodes[e.from].name)}}`;
    const value = typeof e.localValue === 'number' ? [texNumber(e.localValue, digits)] : [];
    const local = toTex(e.localFull);
    return value.length && value[0] !== local ? [d, local, ...value] : [d, local];
  });
  return [texComment(`${r.formula}: local derivatives edge by edge, in backprop order (downstream = upstream × local)`), alignBlock(rows)].join('\n');
}
