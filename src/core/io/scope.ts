/**
 * Where relative references resolve, and whether they may leave that folder tree. A
 * module of its own (read.ts re-exports it): public signatures name it, and the reader's
 * own declarations use Node's Buffer, which a library user's types need not know.
 */
export interface FileScope {
  /** folder relative references resolve against (default: the working directory) */
  base?: string;
  /** when set, a reference must stay inside this folder tree: no absolute path, no `..`, no symlink out */
  sandbox?: string;
}
