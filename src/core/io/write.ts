import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgError } from '../errors.js';
import { errnoText } from './read.js';

/**
 * Reports are written so that nothing is lost or destroyed: never over one of the run's
 * inputs (compared by device and inode, so a symlink or another spelling of the same
 * path is caught), and atomically — into a temporary file in the same folder, renamed
 * over the target once complete — so a failed or interrupted write leaves the old file
 * as it was. A target that exists and is not a regular file (/dev/null, a pipe) is
 * written in place.
 */

/** Refuse an output path that is one of the inputs. Call before the work, so a refusal costs nothing. */
export function assertNotInput(output: string, inputs: string[], flag = '--output'): void {
  let out;
  try {
    out = statSync(output);
  } catch {
    return; // does not exist yet: cannot be an input
  }
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch {
      continue;
    }
    if (st.dev === out.dev && st.ino === out.ino) {
      throw new AgError('usage', `${flag} ${output}: that is an input of this run (${input}); writing the report there would destroy it`, {
        hint: 'write the report to another file',
      });
    }
  }
}

/**
 * Write `text` to `path` atomically (see above). Throws AgError('io') when it cannot.
 * `durable: false` skips the fsync before the rename (still atomic for readers, not
 * across a power cut): for many small files that can be made again (grading feedback).
 */
export function writeAtomic(path: string, text: string | Uint8Array, o: { durable?: boolean } = {}): void {
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = undefined;
  }
  const fail = (e: unknown) => new AgError('io', `cannot write ${path}: ${reason(e)}`);
  if (existing && !existing.isFile()) {
    if (existing.isDirectory()) throw fail(Object.assign(new Error(), { code: 'EISDIR' }));
    // a device or a pipe: there is nothing to replace, only to write to
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw fail(e);
    }
    try {
      writeAll(fd, text);
    } catch (e) {
      throw fail(e);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, existing ? existing.mode & 0o777 : 0o666);
    try {
      writeAll(fd, text);
      if (o.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing left to clean
    }
    throw fail(e);
  }
}

/**
 * Append `text` to the end of `path` in one write (a file others append to as well, such as
 * GitHub's job summary: it is never replaced). Throws AgError('io') when it cannot.
 */
export function appendText(path: string, text: string): void {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o666);
    try {
      writeAll(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new AgError('io', `cannot append to ${path}: ${reason(e)}`);
  }
}

function writeAll(fd: number, text: string | Uint8Array): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let o = 0;
  while (o < buf.length) o += writeSync(fd, buf, o, buf.length - o);
}

function reason(e: unknown): string {
  return errnoText(e, { ENOENT: 'the folder does not exist', EAGAIN: 'nothing is reading from it', ENXIO: 'nothing is reading from it' });
}
