import { beforeAll, describe, expect, it } from 'vitest';
import { mathParse } from '../../src/core/parse/mathjs.js';

/**
 * src/core/parse/mathjs.ts builds mathjs's parser from its factories with small stand-ins
 * for typed-function and friends (for start-up time). Here full mathjs — `create(all)`
 * with the number type we configure — is the reference: the trees must be the same
 * node for node, field for field, and the errors the same class, message and position.
 */
type Parse = (src: string) => unknown;
let reference: Parse;

beforeAll(async () => {
  const math = await import('mathjs');
  const full = math.create(math.all, { number: 'number' });
  reference = full.parse as unknown as Parse;
});

/** A plain, comparable picture of a mathjs tree: node type plus every own field, recursively. */
function picture(x: unknown, seen = new Set<unknown>()): unknown {
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return { number: 'NaN' };
    if (Object.is(x, -0)) return { number: '-0' };
    if (!Number.isFinite(x)) return { number: String(x) };
    return x;
  }
  if (x === null || typeof x !== 'object') return typeof x === 'function' ? { function: (x as { name?: string }).name } : x;
  if (seen.has(x)) return { cycle: true };
  seen.add(x);
  const out: Record<string, unknown> = {};
  const obj = x as Record<string, unknown>;
  if (Array.isArray(x)) return x.map((v) => picture(v, seen));
  if (typeof obj.type === 'string') out['(type)'] = obj.type;
  out['(class)'] = x.constructor?.name;
  for (const k of Object.keys(obj).sort()) out[k] = picture(obj[k], seen);
  seen.delete(x);
  return out;
}

type Outcome = { tree: unknown } | { error: { class: string; message: string; char: unknown } };

function outcome(parse: Parse, src: string): Outcome {
  try {
    return { tree: picture(parse(src)) };
  } catch (e) {
    const err = e as Error & { char?: unknown };
    return { error: { class: err.constructor.name, message: err.message, char: err.char } };
  }
}

const same = (src: string) => expect(outcome(mathParse, src), JSON.stringify(src)).toEqual(outcome(reference, src));

const ACCEPTED = [
  // arithmetic, precedence, unary minus/plus, powers
  '1',
  '0',
  '-0',
  '1.5',
  '.5',
  '1e3',
  '1.5e-3',
  '2E+4',
  '1e400',
  '0.1 + 0.2',
  'x',
  'x_1',
  'αβ',
  'x1y',
  '(x+y)*sin(x)',
  'x + y * z',
  'x - y - z',
  'x / y / z',
  '-x',
  '+x',
  '--x',
  '-+-x',
  '-x^2',
  'x^-2',
  'x^y^z',
  '2^-x^2',
  '(x)',
  '((x))',
  'x % y',
  'x mod y',
  'x!',
  '-x!',
  '2^3!',
  'x^2!',
  '5%',
  '50% + 1',
  '5% * x',
  // implicit multiplication
  '2x',
  '2 x',
  '2(x+1)',
  '(x+1)(x-1)',
  'x y',
  '2x^2',
  '3 sin(x)',
  '2 pi',
  'x(2)',
  '(1+2)x',
  '1/2x',
  '2x/3y',
  '5 cm',
  '5cm + 2 mm',
  'x cm^2',
  '2.5 kg * 3 m / s^2',
  // elementwise, transpose
  "a'",
  "W'*x",
  "x'",
  "(a+b)'",
  "a''",
  'a .* b',
  'a ./ b',
  'a .^ 2',
  'a.^2',
  '2.^a',
  'a .^ -b',
  "A'*A",
  "A' .* B'",
  // comparisons, logic, conditionals
  'x > 0',
  'x >= 0',
  'x < y',
  'x <= y',
  'x == y',
  'x != y',
  'a < b < c',
  'a < b <= c > d',
  'x > 0 ? x : -x',
  'a ? b : c ? d : e',
  'x and y',
  'x or y',
  'not x',
  'x xor y',
  'x ?? y',
  'x & y',
  'x | y',
  'x ^| y',
  '~x',
  'x << 2',
  'x >> 2',
  'x >>> 2',
  'x to cm',
  'x in cm',
  // functions
  'sin(x)',
  'max(x, y)',
  'log(x, 2)',
  'f()',
  'sum((W*x).^2)',
  'norm(v, "fro")',
  "norm(v, 'fro')",
  'sqrt(x^2 + y^2)',
  'sigmoid(w*x + b)',
  'softmax(z)[3]',
  'f(x)(y)',
  'sum(A, 1)',
  // indexing, ranges, end
  'v[1]',
  'v[end]',
  'v[end-1]',
  'A[1,2]',
  'A[1,:]',
  'A[:,2]',
  'A[:, :]',
  'v[2:4]',
  'v[1:2:end]',
  'v[:]',
  'A[2, 1:end]',
  '1:3',
  '1:2:10',
  'a:b',
  's[3]',
  'A[2][1]',
  'v[[1,2]]',
  'x.y',
  'x.y.z',
  'a.b[2]',
  'obj["k"]',
  'x?.y',
  'x?.[1]',
  // arrays and matrices
  '[1, 2, 3]',
  '[1,2;3,4]',
  '[[1,2],[3,4]]',
  '[]',
  '[ ]',
  '[1;2;3]',
  '[1,2,]',
  '[x, y^2; -z, 1/w]',
  '[[1]]',
  "[1, 2; 3, 4]'",
  // strings, objects, constants
  '"fro"',
  "'fro'",
  '"a\\"b"',
  '"\\u00e9"',
  '{a: 1}',
  '{a: 1, b: x+y}',
  '{}',
  '{"k": 2}',
  'true',
  'false',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-Infinity',
  'pi',
  'e',
  'i',
  'tau',
  'phi',
  // number literal forms
  '0x1F',
  '0b101',
  '0o17',
  '0xffi8',
  '0x7fi8',
  '0b1.1',
  '0x1.8',
  '1_000',
  // assignments, function definitions, blocks, comments, newlines
  'q = x + y',
  'q = x + y; f = q*z',
  'f(x) = x^2; f(2)',
  'sigma(t) = 1/(1+exp(-t)); sigma(w*x)',
  'a = 1\nb = 2\na*b',
  'a = 1;',
  'a = 1; b = 2;',
  'x; y',
  'x\ny',
  '\n\nx\n\n',
  'x # comment',
  '# only a comment\nx',
  'x = 2 # note\ny = x^2',
  'A[1,2] = 3',
  'v[2] = x',
  'x.y = 2',
  'f(x, y) = x*y; f(1, 2)',
  'a = b = c',
  'x = y ? 1 : 2',
  'f(x) = x > 0 ? x : 0',
  '  x  ',
  '\tx\t+\ty',
  'x +\n y',
  '(x +\n y)',
  '[1,\n 2]',
  'x;;y',
  ';x',
  // lecture-sized formulas
  '2*(x*y + max(z, w))',
  '1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))',
  '-log(sigmoid(y * (w*x + b)))',
  'sum((max(X*W1, 0)*W2 - Y).^2)',
  'norm(W*x)^2',
  'logsumexp(s) - s[y]',
  'q = x + y; f = q * z',
];

const REJECTED = [
  '',
  ' ',
  '(',
  ')',
  '(x',
  'x)',
  '((x)',
  'x +',
  '+',
  '*x',
  'x *',
  'x * * y',
  'sin(',
  'sin(x',
  'sin(x,',
  'f(,)',
  '[1, 2',
  '[1, 2;',
  '[1,2;3]',
  '[1,2;3,4,5]',
  '[1;2,3]',
  '1 2',
  'x y z (',
  'x ? y',
  'x ? : y',
  'x ? y :',
  '"abc',
  "'abc",
  '"\\q"',
  '"\\u12"',
  '{a}',
  '{a: }',
  '{a: 1',
  '{1: 2}',
  '{a: 1 b: 2}',
  '2 = x',
  '(x) = 1',
  'f(1) = 2',
  'x + y = 3',
  'f(x+1) = x',
  '1e',
  '1e+',
  '1.2.3',
  '.',
  '..',
  '1..2',
  'x.',
  'x.1',
  '0x',
  '0xfi',
  '0x1ffi8',
  '0b2',
  '0o9',
  '@',
  '$',
  'x ` y',
  '2[1,2]',
  'a ? b ? c : d : e',
  '[1 2 3]',
  'x += 1',
  '\\',
  'x \\ y',
  'a[1',
  'a[1,',
  'a[]',
  'x?.y = 1',
  'x?.',
  '#',
  'x = ',
  '= x',
  'x ==',
  '!',
  '!x',
  'x !=',
  '>= x',
  '5 % %',
  'sin x',
  'f(x)(',
  '[',
  ']',
  '{',
  '}',
  '[,]',
  '[1,,2]',
  '"a" "b"',
  'x?.y?.',
  '1:',
  ':1',
  '::',
];

describe('the minimal mathjs parser gives full mathjs trees and errors', () => {
  it('accepts what mathjs accepts, with identical trees', () => {
    for (const src of ACCEPTED) same(src);
    // the corpus does parse (a typo here would otherwise test only errors)
    for (const src of ACCEPTED) expect(() => reference(src), src).not.toThrow();
  });

  it('rejects what mathjs rejects, with the same message and position', () => {
    for (const src of REJECTED) same(src);
    const accepted = REJECTED.filter((src) => !('error' in outcome(reference, src)));
    // a few of these are legal mathjs after all; what matters is the two agree
    expect(accepted.length).toBeLessThan(REJECTED.length / 4);
  });

  it('agrees with mathjs on random token soup', () => {
    // deterministic: a small linear congruential generator
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const TOKENS = [
      'x',
      'y',
      'A',
      'sin',
      'f',
      'end',
      'pi',
      'cm',
      'NaN',
      '1',
      '2.5',
      '1e-3',
      '0x1f',
      '.5',
      '"s"',
      "'t'",
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ';',
      ':',
      '\n',
      ' ',
      '+',
      '-',
      '*',
      '/',
      '^',
      '.*',
      './',
      '.^',
      "'",
      '!',
      '%',
      '=',
      '==',
      '<',
      '>=',
      '?',
      '.',
      '?.',
      '#c\n',
      'and',
      'not',
      'to',
      'mod',
      '&',
      '|',
      '~',
      '<<',
    ];
    let trees = 0;
    for (let i = 0; i < 3000; i++) {
      const len = 1 + rnd(9);
      let src = '';
      for (let j = 0; j < len; j++) src += TOKENS[rnd(TOKENS.length)];
      const ref = outcome(reference, src);
      if ('tree' in ref) trees++;
      expect(outcome(mathParse, src), JSON.stringify(src)).toEqual(ref);
    }
    expect(trees).toBeGreaterThan(100);
  });

  it('builds its parse tree without evaluating anything', () => {
    const t = mathParse('f(x) = x^2; f(2)') as unknown as { type: string; blocks: { node: { type: string } }[] };
    expect(t.type).toBe('BlockNode');
    expect(t.blocks.map((b) => b.node.type)).toEqual(['FunctionAssignmentNode', 'FunctionNode']);
  });
});
