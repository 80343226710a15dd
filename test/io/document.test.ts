import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DocumentError, parseDocumentText, parseJsonValues } from '../../src/core/io/document.js';
import { readTextBounded, resolveReference } from '../../src/core/io/read.js';

describe('the document door', () => {
  it('keeps the place of every node, in YAML and JSON alike', () => {
    const y = parseDocumentText('- f: x\n  at: { x: "1" }\n', 'a.yaml', { format: 'yaml' });
    const j = parseDocumentText('[{"f": "x",\n  "at": {"x": "1"}}]', 'a.json', { format: 'json' });
    for (const d of [y, j]) {
      const item = d.root!.items![0];
      expect(d.at(item.entries!.get('at')!.key.start).line).toBe(2);
      expect(d.at(item.entries!.get('f')!.value.textStart!).line).toBe(1);
    }
  });

  it('mappings are null-prototype tables: __proto__ is a key like any other', () => {
    const d = parseDocumentText('{"__proto__": 1, "constructor": 2}', 'n.json', { format: 'json' }).value as Record<string, number>;
    expect(Object.getPrototypeOf(d)).toBeNull();
    expect(Object.keys(d)).toEqual(['__proto__', 'constructor']);
    expect(parseJsonValues('{"__proto__": 3}', 'v.json').__proto__).toBe(3);
  });

  it('refuses duplicate keys, alias bombs and bad syntax, without quoting the text', () => {
    const bad = (text: string, format: 'yaml' | 'json') => {
      try {
        parseDocumentText(text, 'd', { format, showLines: false });
      } catch (e) {
        expect(e).toBeInstanceOf(DocumentError);
        expect((e as DocumentError).source).toBeUndefined();
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad('{"SECRET": 1, "SECRET": 2}', 'json')).toMatch(/^d:1:15: .*a key appears twice/);
    expect(bad('{"SECRET": 1, "SECRET": 2}', 'json')).not.toContain('SECRET');
    expect(bad('a: 1\na: 2\n', 'yaml')).toMatch(/^d:2:1: .*a key appears twice/);
    expect(bad('SECRET-TEXT', 'json')).not.toContain('SECRET');
    // the yaml package's messages may name what they met, and a value is offered back quoted in a hint: neither for a file the user did not name
    for (const text of ['f: @SECRET\n', 'a: [SECRET\n', 'x: "SECRET\n', '- SECRET: 1\n SECRET\n'])
      expect(bad(text, 'yaml')).toMatch(/^d:\d+:\d+: the case file is not valid YAML: (?!.*SECRET)/);
    const bomb = [
      'a: &a [1,1,1,1,1,1,1,1,1,1]',
      ...Array.from(
        { length: 6 },
        (_, i) =>
          `b${i}: &b${i} [${Array(10)
            .fill(i ? `*b${i - 1}` : '*a')
            .join(',')}]`,
      ),
    ].join('\n');
    expect(bad(bomb, 'yaml')).toMatch(/too many aliases/);
  });

  it('thousands of nested brackets are a clear limit error, in YAML and JSON, not a stack overflow', () => {
    for (const [format, text] of [
      ['yaml', `- f: x\n  at: { x: ${'['.repeat(20000)}1${']'.repeat(20000)} }\n`],
      ['json', `[{"f": "x", "at": {"x": ${'['.repeat(50000)}1${']'.repeat(50000)}}}]`],
    ] as const) {
      let err: unknown;
      try {
        parseDocumentText(text, 'deep', { format, showLines: false });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DocumentError);
      expect((err as DocumentError).code).toBe('limit');
      expect((err as Error).message).toMatch(/^deep: the case file nests too deeply to read/);
    }
  });
});

describe('the one reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ag-read-'));
  mkdirSync(join(dir, 'box'));
  writeFileSync(join(dir, 'box', 'in.txt'), 'inside');
  writeFileSync(join(dir, 'out.txt'), 'outside');
  symlinkSync(join(dir, 'out.txt'), join(dir, 'box', 'link.txt'));

  it('keeps references inside a sandbox', () => {
    const scope = { sandbox: join(dir, 'box') };
    expect(readTextBounded('in.txt', { maxBytes: 100, scope })).toBe('inside');
    expect(() => resolveReference('../out.txt', scope)).toThrow(/a path with \.\./);
    expect(() => resolveReference(join(dir, 'out.txt'), scope)).toThrow(/an absolute path/);
    expect(() => resolveReference('link.txt', scope)).toThrow(/through a symlink/);
  });

  it('reads only regular files, never past the cap', () => {
    expect(() => readTextBounded('/dev/zero', { maxBytes: 100 })).toThrow(/a character device, not a regular file/);
    expect(() => readTextBounded(dir, { maxBytes: 100 })).toThrow(/it is a folder/);
    expect(() => readTextBounded(join(dir, 'out.txt'), { maxBytes: 3 })).toThrow(/the limit is 1 KiB \(--max-file-size\)/);
  });
});
