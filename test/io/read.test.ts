import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTextBounded } from '../../src/core/io/read.js';

/** The one reader's own rules for a file found in a folder: its tree, regular files, never /proc, /sys, /dev. */
describe('the reader keeps a file in its folder tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ag-read-'));
  const tree = join(dir, 'subs');
  mkdirSync(join(tree, 'deep'), { recursive: true });
  writeFileSync(join(tree, 'deep', 'real.yaml'), 'inside');
  writeFileSync(join(dir, 'secret.txt'), 'SECRET');
  symlinkSync(join(tree, 'deep', 'real.yaml'), join(tree, 'in.yaml'));
  symlinkSync(join(dir, 'secret.txt'), join(tree, 'out.yaml'));
  symlinkSync('/proc/self/environ', join(tree, 'env.yaml'));
  writeFileSync(join(tree, 'top.yaml'), 'top');
  symlinkSync(join(tree, 'top.yaml'), join(tree, 'deep', 'up.yaml'));
  const read = (name: string, o: { tree?: string } = { tree }) => readTextBounded(join(tree, name), { maxBytes: 1000, ...o });

  it('a link inside the tree is an ordinary file; one out of it is refused by name, unread', () => {
    expect(read('in.yaml')).toBe('inside');
    expect(() => read('out.yaml')).toThrow(/out\.yaml: it is a symlink that leads outside the folder .*subs; only files inside that folder tree are read/);
    // without a tree (a file the user names for a formula or values) the link is followed
    expect(read('out.yaml', {})).toBe('SECRET');
    // the tree is the folder named: deep/up.yaml may lead up to subs/ when subs/ was named, not when deep/ was
    expect(read('deep/up.yaml')).toBe('top');
    expect(() => read('deep/up.yaml', { tree: join(tree, 'deep') })).toThrow(/up\.yaml: it is a symlink that leads outside the folder .*deep/);
  });

  it('/proc, /sys and /dev are never read, with a tree or without', () => {
    expect(() => read('env.yaml')).toThrow(/env\.yaml: it leads into \/proc, which is never read/);
    expect(() => read('env.yaml', {})).toThrow(/it leads into \/proc/);
    expect(() => readTextBounded('/proc/self/status', { maxBytes: 1000 })).toThrow(/it leads into \/proc/);
    expect(() => readTextBounded('/dev/null', { maxBytes: 1000 })).toThrow(/a character device, not a regular file/);
  });
});
