import { describe, expect, it } from 'vitest';
import { texComment, toTex } from '../../src/report/latex.js';
import { cli } from '../helpers.js';

/**
 * A formula's comment is the user's text: in LaTeX output it stays a comment on every
 * line, so a `# \input{/etc/passwd}` on the formula's second line is never live LaTeX.
 */
const PAYLOAD = '\\input{/etc/passwd}';

/** The lines of LaTeX output that TeX would read (not a comment) and that carry the user's text. */
function live(out: string): string[] {
  return out.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/).filter((l) => !l.startsWith('%') && /input|passwd/.test(l));
}

describe("LaTeX output keeps the user's text inert", () => {
  for (const [what, formula] of [
    ['a comment on the second line', `sin(x) # first\n# ${PAYLOAD}\n+ x`],
    ['a comment after a carriage return', `sin(x) # first\r# ${PAYLOAD}\r\n+ x # ${PAYLOAD}`],
    ['a line separator inside a comment', `sin(x) + x # first\u2028${PAYLOAD}`],
  ] as const) {
    it(`grad --latex: ${what}`, () => {
      const r = cli(['grad', formula, '--at', 'x=1', '--latex']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('\\begin{align*}');
      // the formula is there, as a comment, every line of it
      expect(r.stdout).toContain(PAYLOAD);
      expect(live(r.stdout)).toEqual([]);
    });
  }

  it('derive --latex: definitions and derivatives are rewritten from the parse, comments dropped', () => {
    const r = cli(['derive', `g(t) = t^2 # ${PAYLOAD}\n# ${PAYLOAD}\ng(x) + x`, '--latex']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\\frac{\\partial f}{\\partial x}');
    expect(r.stdout).not.toContain('passwd');
  });

  it('texComment comments every line; \\text escapes what would be a command', () => {
    expect(texComment(`a\n${PAYLOAD}\r\nb\rc\u2028d`).split('\n')).toEqual(['% a', `% ${PAYLOAD}`, '% b', '% c', '% d']);
    // control characters are shown, not written raw
    expect(texComment('a\u001b[2Jb')).toBe('% a\\x1b[2Jb');
    const t = toTex(`x +* ${PAYLOAD}\n~^%`);
    expect(t).toMatch(/^\\text\{/);
    expect(t).not.toContain('\n');
    expect(t).not.toMatch(/\\input/);
    expect(t).toContain('\\textbackslash{}input\\{/etc/passwd\\}');
  });
});
