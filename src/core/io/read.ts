import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AgError } from '../errors.js';
import { bytesText } from '../limits.js';
import type { FileScope } from './scope.js';

/**
 * The one file reader: every `@file` (a formula, `--at @values.json`, `name=@w.npy`),
 * every case file, and later grading submissions come through here. Only regular
 * files are read — the file is opened without blocking and its descriptor checked, so
 * a FIFO, /dev/zero, a socket or a symlink to one is refused at once instead of
 * hanging or filling memory — and never more than a size cap. References made from
 * inside a case file stay inside that file's folder tree (see `FileScope`); a case file
 * or submission stays inside the folder tree it was found in (`tree`), so a symlink in
 * a student's folder cannot lead to the grader's files. /proc, /sys and /dev are never
 * read (`/proc/self/environ` is a regular file holding the environment). Messages name
 * the file and what is wrong with it, never its contents.
 */

export type { FileScope };

export interface ReadOptions {
  /** largest size read, in bytes */
  maxBytes: number;
  /** what the file is, for messages (`the formula`, `the value file`) */
  what?: string;
  scope?: FileScope;
  /** the flag naming the size limit, for messages (default --max-file-size) */
  limitFlag?: string;
  /** the folder tree the file was found in (a folder named on the command line, or the file's own folder): no symlink may lead out of it */
  tree?: string;
}

/** Folders that describe the machine (its environment, memory, devices), not anyone's input: never read. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev'];

/** Whether the real path `real` is `root` or inside it (both already through realpath). */
export function isInside(root: string, real: string): boolean {
  const rel = relative(root, real);
  return !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/** The path a reference points at, checked against the scope's sandbox. */
export function resolveReference(ref: string, scope: FileScope = {}): string {
  if (ref === '') throw new AgError('io', 'an empty file name after @');
  if (scope.sandbox === undefined) return resolve(scope.base ?? process.cwd(), ref);
  const outside = (why: string) =>
    new AgError('io', `${ref}: ${why}; a case file may only name files in its own folder tree`, {
      hint: 'pass --allow-files on the command line to allow any file',
    });
  if (isAbsolute(ref) || /^[A-Za-z]:[\\/]/.test(ref)) throw outside('an absolute path');
  if (ref.split(/[\\/]+/).includes('..')) throw outside('a path with ..');
  const path = resolve(scope.base ?? scope.sandbox, ref);
  let root: string;
  let real: string;
  try {
    root = realpathSync(scope.sandbox);
    real = realpathSync(path);
  } catch (e) {
    throw ioError(ref, e);
  }
  if (real === root || !isInside(root, real)) throw outside('it leads outside the folder (through a symlink)');
  return real;
}

/**
 * The real path of a file about to be read: a regular file, not in /proc, /sys or /dev,
 * and (with `o.tree`) inside that folder tree. Checked by name before anything is opened,
 * so a device is never opened and a link out of the tree is refused without a look at
 * what it leads to.
 */
function realFile(ref: string, path: string, o: ReadOptions): { real: string; st: Stats } {
  let real: string;
  let st: Stats;
  try {
    real = realpathSync(path);
    st = statSync(real);
  } catch (e) {
    throw ioError(ref, e, o.what);
  }
  if (!st.isFile()) throw notRegular(ref, st, o);
  const system = SYSTEM_TREES.find((t) => isInside(t, real));
  if (system) throw new AgError('io', `cannot read ${label(ref, o.what)}: it leads into ${system}, which is never read (only ordinary files are inputs)`);
  if (o.tree !== undefined) {
    let root: string;
    try {
      root = realpathSync(o.tree);
    } catch (e) {
      throw ioError(o.tree, e);
    }
    if (!isInside(root, real))
      throw new AgError(
        'io',
        `cannot read ${label(ref, o.what)}: it is a symlink that leads outside the folder ${o.tree}; only files inside that folder tree are read`,
      );
  }
  return { real, st };
}

/** The contents of a regular file, at most `maxBytes` long. */
export function readBounded(ref: string, o: ReadOptions): Buffer {
  const checked = realFile(ref, resolveReference(ref, o.scope), o);
  const path = checked.real;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put there since the check opens at once (and is refused below); O_NOFOLLOW: so is a symlink
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    throw ioError(ref, e, o.what);
  }
  try {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      throw ioError(ref, e, o.what);
    }
    if (!st.isFile()) throw notRegular(ref, st, o);
    // a folder on the way swapped for a link since the check would open another file
    if (st.dev !== checked.st.dev || st.ino !== checked.st.ino) throw new AgError('io', `cannot read ${label(ref, o.what)}: it was replaced while being read`);
    if (st.size > o.maxBytes) throw tooLarge(ref, st.size, o);
    // the size can change under us: read to the end, never past the cap
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 0) + 1, o.maxBytes - total + 1, 1 << 24));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw ioError(ref, e, o.what);
      }
      if (n === 0) break;
      total += n;
      if (total > o.maxBytes) throw tooLarge(ref, total, o);
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** A file's text (UTF-8), through readBounded. */
export function readTextBounded(ref: string, o: ReadOptions): string {
  return readBounded(ref, o).toString('utf8');
}

/** Standard input, at most `maxBytes` (for `-`, the formula from a pipe). */
export function readStdinBounded(o: ReadOptions): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      throw ioError('standard input', e, o.what);
    }
    if (n === 0) break;
    total += n;
    // how much more would come is unknown: "larger than the limit"
    if (total > o.maxBytes) throw tooLarge('standard input', o.maxBytes + 1, o);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** The folder of a file, for the scope of the references it makes. */
export function folderOf(file: string): string {
  return dirname(resolve(file));
}

/** `base` joined with `ref` for display, as the user would write it. */
export function shownPath(ref: string, base?: string): string {
  return base && !isAbsolute(ref) ? join(base, ref) : ref;
}

function label(ref: string, what?: string): string {
  return what ? `${what} ${ref}` : ref;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'it is a folder';
  if (st.isFIFO()) return 'it is a pipe (FIFO)';
  if (st.isCharacterDevice()) return 'it is a character device';
  if (st.isBlockDevice()) return 'it is a block device';
  if (st.isSocket()) return 'it is a socket';
  return 'it is a special file';
}

function notRegular(ref: string, st: Stats, o: ReadOptions): AgError {
  return new AgError('io', `cannot read ${label(ref, o.what)}: ${kind(st)}, not a regular file`);
}

function tooLarge(ref: string, size: number, o: ReadOptions): AgError {
  return new AgError(
    'limit',
    `cannot read ${label(ref, o.what)}: it is ${size > o.maxBytes + 1 ? bytesText(size) : 'larger than the limit'}; the limit is ${bytesText(o.maxBytes)} (${o.limitFlag ?? '--max-file-size'})`,
  );
}

/** What a failed file operation's errno means, in words (reading and writing say a few differently). */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENXIO: 'it is a socket or a device with nothing behind it, not a regular file',
  ELOOP: 'a symlink loop',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

export function errnoText(e: unknown, overrides: Record<string, string> = {}): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return overrides[code] ?? ERRNO_WORDS[code] ?? (code ? code.toLowerCase() : 'unreadable');
}

export function ioError(ref: string, e: unknown, what?: string): AgError {
  return new AgError('io', `cannot read ${label(ref, what)}: ${errnoText(e)}`);
}
