import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphemeCut, safeName, shorten } from '../../src/core/safe-text.js';
import { cli, ROOT } from '../helpers.js';

/**
 * Names are shortened by grapheme: an emoji with its skin tone, a ZWJ family, a flag, a
 * letter with its combining marks is never cut apart, so no output holds half a
 * surrogate pair (U+FFFD once decoded) or a broken emoji.
 */
const SEG = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemes = (s: string): string[] => Array.from(SEG.segment(s), (g) => g.segment);
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const FAMILY = '👨‍👩‍👧‍👦';
const KISS = '🧑🏻‍❤️‍💋‍🧑🏼';
const FLAG = '🇩🇪';
const ENGLAND = '🏴󠁧󠁢󠁥󠁮󠁧󠁿';
const THUMB = '👍🏽';
const MARKS = 'e\u0301\u0323';
const UNITS = [FAMILY, KISS, FLAG, ENGLAND, THUMB, MARKS, '😀', `a${FLAG}`, `${FAMILY}x`];

/** Every grapheme of `t` is one of `s`'s (or the ellipsis), `t` has at most `max`, and no lone surrogate. */
function expectWhole(s: string, t: string, max: number): void {
  expect(LONE.test(t)).toBe(false);
  const g = graphemes(t);
  expect(g.length).toBeLessThanOrEqual(max);
  const ok = new Set([...graphemes(s), '…']);
  expect(g.filter((x) => !ok.has(x))).toEqual([]);
}

describe('shortening by grapheme', () => {
  it('never cuts an emoji, a flag or a letter with its marks, at any length, in the middle or at the end', () => {
    for (const unit of UNITS) {
      for (const n of [1, 3, 40, 150]) {
        const s = `x${unit.repeat(n)}y`;
        for (const max of [1, 2, 5, 40, 200]) {
          for (const at of ['middle', 'end'] as const) {
            const t = shorten(s, max, at);
            expectWhole(s, t, max);
            if (graphemes(s).length <= max) expect(t).toBe(s);
            else expect(t).toContain('…');
          }
        }
      }
    }
  });

  it('keeps as many graphemes as asked: 40 families are 40 characters, not 40 UTF-16 units', () => {
    const s = FAMILY.repeat(40);
    expect(s.length).toBe(440);
    expect(shorten(s, 40)).toBe(s);
    const t = shorten(FAMILY.repeat(100), 40);
    expect(graphemes(t)).toHaveLength(40);
    expect(t.startsWith(FAMILY) && t.endsWith(FAMILY)).toBe(true);
  });

  it('flags stay paired when the end of a run of them is kept', () => {
    for (const n of [7, 8, 301, 302]) {
      const s = `${FLAG}🇫🇷`.repeat(n);
      const t = shorten(s, 21);
      expectWhole(s, t, 21);
    }
  });

  it('graphemeCut finds the boundary at or before a position', () => {
    const s = `ab${FAMILY}cd${FLAG}${FLAG}`;
    for (let at = 0; at <= s.length; at++) {
      const cut = graphemeCut(s, at);
      expect(cut).toBeLessThanOrEqual(at);
      expectWhole(s, s.slice(0, cut), Infinity);
      expectWhole(s, s.slice(cut), Infinity);
    }
  });

  it('stacked combining marks are bounded too, and a long text is shortened quickly', () => {
    const zalgo = `a${'\u0301'.repeat(100_000)}b`;
    const t = shorten(zalgo, 200);
    expect(t.length).toBeLessThan(200 * 40);
    expect(LONE.test(t)).toBe(false);
    const big = '😀'.repeat(200_000);
    const u = safeName(big, 80);
    expect(graphemes(u)).toHaveLength(80);
  });
});

describe('shortened names in every output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ag-graphemes-'));
  const NAME = `case ${UNITS.join('').repeat(30)}`;
  const file = join(dir, 'emoji.yaml');
  writeFileSync(file, `- name: ${JSON.stringify(NAME)}\n  f: x^2\n  at: { x: 1 }\n  expect: { gradient: { x: 3 } }\n`);

  for (const reporter of ['table', 'json', 'junit', 'tap', 'github']) {
    it(`check --reporter ${reporter}: the long emoji name is shortened between graphemes`, () => {
      const r = cli(['check', file, '--reporter', reporter]);
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).not.toContain('\uFFFD');
      expect(LONE.test(out)).toBe(false);
      // JSON would write a lone surrogate as an escape
      expect(out).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
      expect(out).toContain('…');
      expect(out).toContain(FAMILY);
      if (reporter === 'json') {
        const name: string = JSON.parse(r.stdout).cases[0].name;
        expectWhole(NAME, name, 200);
      }
    });
  }

  it('grade: the gradebook, the feedback file, the table and the JSON report keep whole emoji', () => {
    const subs = join(dir, 'subs');
    mkdirSync(subs, { recursive: true });
    const STUDENT = `${THUMB}${FAMILY.repeat(250)}${MARKS}`;
    writeFileSync(join(subs, 'emoji.yaml'), `student: ${JSON.stringify(STUDENT)}\nanswers:\n  circuit:\n    value: -12\n`);
    const key = join(ROOT, 'fixtures', 'homework', 'key.yaml');
    const gradebook = join(dir, 'grades.csv');
    const feedback = join(dir, 'feedback');
    const table = cli(['grade', key, subs, '--gradebook', gradebook, '--feedback', feedback]);
    const json = cli(['grade', key, subs, '--json']);
    expect(table.code).toBe(0);
    const csv = readFileSync(gradebook, 'utf8');
    const [letter] = readdirSync(feedback);
    for (const out of [table.stdout, json.stdout, csv, readFileSync(join(feedback, letter), 'utf8')]) {
      expect(out).not.toContain('\uFFFD');
      expect(LONE.test(out)).toBe(false);
      expect(out).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
      expect(out).toContain(THUMB + FAMILY);
    }
    expect(csv).toContain('…');
    const student = csv.split('\r\n')[1].split(',')[0];
    expectWhole(STUDENT, student, 200);
  });
});

describe('invisible characters', () => {
  it('zero-width and other invisible format characters are shown as escapes; emoji joiners stay', () => {
    for (const c of ['\u200b', '\u2060', '\u2062', '\ufeff', '\u00ad', '\u061c', '\u180e', '\u206a']) {
      const shown = safeName(`x${c}y`);
      expect(shown, `U+${c.charCodeAt(0).toString(16)}`).not.toContain(c);
      expect(shown).toMatch(/^x\\(x|u)[0-9a-f]+y$/);
    }
    // a family emoji is joined by ZWJ, a script may need ZWNJ: both stay as they are
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    expect(safeName(family)).toBe(family);
    expect(safeName('a\u200cb')).toBe('a\u200cb');
  });
});
