import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The README is a front door and the rest lives in docs/: every relative link between them
 * must reach a file that exists and, when it names an anchor, a heading of that file (GitHub's
 * anchor: the heading in lower case, punctuation dropped, spaces as hyphens).
 */
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The lines outside fenced code blocks. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced && !line.startsWith('```');
  });
}

function anchors(file: string): Set<string> {
  const headings = prose(readFileSync(join(ROOT, file), 'utf8')).flatMap((l) => /^#+ (.*)/.exec(l)?.[1] ?? []);
  return new Set(
    headings.map((h) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}_\- ]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('README and docs/', () => {
  it('every relative link reaches an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      prose(readFileSync(join(ROOT, file), 'utf8')).forEach((line, i) => {
        for (const [, target] of line.matchAll(/\]\(([^)]+)\)/g)) {
          const [path, anchor] = target.split('#');
          const to = path ? relative(ROOT, join(ROOT, dirname(file), path)) : file;
          if (!existsSync(join(ROOT, to))) broken.push(`${file}:${i + 1}: ${target} (no such file)`);
          else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor)) broken.push(`${file}:${i + 1}: ${target} (no such heading)`);
        }
      });
    }
    expect(broken).toEqual([]);
  });

  it('the README stays a front door: at most ~400 lines, and it links every doc', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(400);
    for (const doc of DOCS.filter((d) => d !== 'README.md')) expect(readme, doc).toContain(`](${doc}`);
  });

  it('a link that points nowhere is caught', () => {
    // the checker itself: a made-up anchor is not among the headings
    expect(anchors('docs/glossary.md').has('no-such-heading')).toBe(false);
    expect(anchors('docs/checking.md').has('checking-float32-code')).toBe(true);
  });
});
