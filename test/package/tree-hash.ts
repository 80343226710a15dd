import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One hash of a folder's tree: every path under it (in order), its kind and mode, and its
 * content or link target. Two calls give the same hash when nothing under the folder was
 * added, removed, changed or had its mode changed. `skip` names entries of the top folder
 * left out.
 */
export function treeHash(root: string, skip: string[] = []): string {
  const h = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (rel === '' && skip.includes(name)) continue;
      const path = join(dir, name);
      const st = lstatSync(path);
      const at = `${rel}${name}`;
      h.update(`${at}\0${st.mode.toString(8)}\0`);
      if (st.isDirectory()) walk(path, `${at}/`);
      else if (st.isSymbolicLink()) h.update(readlinkSync(path));
      else h.update(readFileSync(path));
      h.update('\0');
    }
  };
  walk(root, '');
  return h.digest('hex');
}
