import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocumentText } from '../../src/core/io/document.js';
import { parsePlainYaml } from '../../src/core/io/plain-yaml.js';
import { Rng } from '../../src/core/random.js';
import { ROOT } from '../helpers.js';

/** The yaml package's reading of a text (value and places), or null when it refuses it. */
function byPackage(text: string): { value: unknown; root: unknown } | null {
  try {
    const d = parseDocumentText(text, 'doc.yaml', { format: 'yaml', plainYaml: false });
    return { value: d.value, root: d.root };
  } catch {
    return null;
  }
}

/** The plain reader either leaves the text to the yaml package or reads exactly what it reads. */
function expectSame(text: string): boolean {
  const plain = parsePlainYaml(text);
  if (plain === null) return false;
  const full = byPackage(text);
  expect(full, `the yaml package refuses what the plain reader read:\n${text}`).not.toBeNull();
  expect(plain.value, text).toEqual(full!.value);
  expect(plain.root, text).toEqual(full!.root);
  return true;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** A case file as bench/check-throughput.mjs writes one. */
function benchFile(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(`- name: case ${i + 1}`, `  f: "(x + ${0.5 + i / 1000}*y) * sin(x)"`, `  at: { x: ${(i % 7) / 10 - 0.3}, y: -0.${i % 10} }`);
    if (i % 2 === 0) lines.push('  expect:', '    gradient:', `      x: "sin(x) + (x + 1.2*y)*cos(x)"`, '      y: 1.5*sin(x)');
  }
  return `${lines.join('\n')}\n`;
}

describe('the plain YAML reader', () => {
  it('reads every YAML fixture and a generated case file as the yaml package does', () => {
    const files = yamlFiles(join(ROOT, 'fixtures'));
    expect(files.length).toBeGreaterThan(0);
    const read = files.filter((f) => expectSame(readFileSync(f, 'utf8')));
    // the fixtures are plain YAML: the fast path is the usual one, not an exception
    expect(read.length).toBeGreaterThanOrEqual(files.length / 2);
    expect(expectSame(benchFile(300))).toBe(true);
  });

  it('the forms case files use: nested lists, flow mappings and lists, quotes, numbers, words, comments', () => {
    const docs = [
      'f: x^2\nat: { x: 3 }\n',
      '# a comment\n- name: a\n  f: "-log(softmax(W*x+b)[y,1])"\n  at:\n    W: [[0.1, 0.5], [-0.3, 0.8]]\n    x: [0.2, 0.4]\n  # inside\n  expect:\n    gradient:\n      W: 2*(W*x)*x\'\n',
      'title: Homework 1\nproblems:\n- name: circuit\n  f: q = x + y; f = q*z\n  points: 5\n  parts: [value, gradient.x]\n  rtol: 1e-3\n  min_digits: 3\n',
      'a: -1\nb: +2\nc: .5\nd: 1.\ne: 0x1F\nf: 0o17\ng: -0\nh: 1e3\ni: true\nj: False\nk: null\nl: ~\nm: NULL\nn: yes\no: 1_000\np: 12:30\nq: -x\nr: x-1\ns: .inf\nt: -.Inf\nu: .nan\n',
      'x: \'single quoted\'\ny: "double: quoted # not a comment"\nz: [\'a\', "b", c]\n',
      '- 1\n- [1, 2]\n- { a: 1, b: [2, 3] }\n- "s"\n-   spaced\n',
      'list:\n  - a\n  - b\nsame:\n- c\n- d\nempty: []\nnone: {}\n',
      '__proto__: 1\nconstructor: 2\ntoString: { valueOf: 3 }\n',
      'a:   1   \nb: x * y   \n',
      'W: [ [1,2] , [3 , 4] ]\n',
    ];
    for (const d of docs) expect(expectSame(d), d).toBe(true);
  });

  it('leaves to the yaml package what it does not read: aliases, tags, block and multi-line values, escapes, repeated keys, tabs', () => {
    const others = [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a: >\n  text\n',
      'a: first\n  continued\n',
      'a: "x\\ny"\n',
      "a: 'it''s'\n",
      'a: 1\na: 2\n',
      'at: { x: 1, x: 2 }\n',
      'a:\tb\n',
      'a: 1\r\nb: 2\r\n',
      '---\na: 1\n',
      'a: 1 # a comment\n',
      '"quoted key": 1\n',
      'a:\n',
      'a: [1,\n  2]\n',
      'a: [1, 2,]\n',
      '- - 1\n',
      '-\n  a: 1\n',
      '? complex\n: key\n',
      'a: 1\n b: 2\n',
      'a:\n    b: 1\n  c: 2\n',
      'plain scalar alone\n',
      '[1, 2]\n',
      '',
      'a: { b: c: d }\n',
      'true: 1\n',
      'a: @x\n',
      'a: "unclosed\n',
      // nesting deeper than the reader takes
      `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      `${Array.from({ length: 100 }, (_, i) => `${' '.repeat(2 * i)}k:`).join('\n')} 1\n`,
    ];
    for (const d of others) expect(parsePlainYaml(d), JSON.stringify(d)).toBeNull();
  });

  it('random plain documents read as the yaml package reads them', () => {
    const rng = new Rng(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rng.next() * xs.length)];
    const words = ['x', 'W', 'sigma', 'f', 'q', 'name', 'at', 'expect', 'gradient', 'a_b', 'k.1', 'x-y'];
    const scalar = (): string =>
      pick([
        () => String(Math.round(rng.normal() * 1000) / 100),
        () => `${Math.round(rng.normal() * 10)}`,
        () => `${rng.normal().toExponential(2)}`,
        () => pick(words),
        () => `"${pick(words)}*${pick(words)} + 1"`,
        () => `'${pick(words)}^2'`,
        () => `${pick(words)}*(${pick(words)} - 1)`,
        () => pick(['true', 'False', 'null', '~', '-x', '.5', '-0.0', '1.', '0x1f']),
      ])();
    const flow = (depth: number): string =>
      depth > 1 || rng.next() < 0.5
        ? scalar().replace(/^(['"]?)(.*)\1$/, (m, q, body) => (q ? m : /[,:[\]{}]/.test(body) ? `"${body}"` : m))
        : rng.next() < 0.5
          ? `[${Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => flow(depth + 1)).join(pick([', ', ',', ' , ']))}]`
          : `{ ${[...new Set(Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => pick(words)))].map((k) => `${k}: ${flow(depth + 1)}`).join(', ')} }`;
    const block = (indent: number, depth: number): string[] => {
      const pad = ' '.repeat(indent);
      if (rng.next() < 0.35 && depth < 3) {
        return Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => {
          if (rng.next() < 0.5) return [`${pad}- ${flow(0)}`];
          const inner = block(indent + 2, depth + 1);
          return rng.next() < 0.5 && !inner[0].trimStart().startsWith('- ') ? [`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1)] : [`${pad}-`, ...inner];
        }).flat();
      }
      const keys = [...new Set(Array.from({ length: 1 + Math.floor(rng.next() * 4) }, () => pick(words)))];
      return keys.flatMap((k) =>
        rng.next() < 0.3 && depth < 3
          ? [`${pad}${k}:`, ...(rng.next() < 0.2 ? ['  # note'] : []), ...block(indent + 2, depth + 1)]
          : [`${pad}${k}: ${flow(0)}`],
      );
    };
    let read = 0;
    for (let n = 0; n < 400; n++) {
      const text = `${block(0, 0).join('\n')}\n`;
      if (expectSame(text)) read++;
    }
    // most of them are in the subset, so the comparison means something
    expect(read).toBeGreaterThan(200);
  });
});
