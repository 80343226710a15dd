#!/usr/bin/env node
'use strict';
// Launcher of the built CLI, dist/cli.cjs (`npm run build`; `prepare` runs it on install).
// CommonJS on purpose (see bin/package.json): an ES-module entry costs Node's ESM
// loader, ~20 ms, before anything of ours runs.
//
// Start-up is most of a one-off `grad`, and much of it is V8 parsing and compiling the
// bundle, so the bundle is compiled with V8's code cache (vm.Script), made after a run so
// that it holds the functions that ran. The installed package is never written to: the
// build ships dist/cli.cjs.cache, made by one representative run on the Node that built
// it; where that one is missing, made from another bundle, or rejected by V8 (another
// Node version, other V8 flags), the user's own copy in the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache, else the temporary folder; autograd-cli/) is used, and a
// `grad` that succeeds writes that copy on exit, best effort. Only a `grad`: V8 caches
// what the run compiled, so a cache written by `--version`, `--help` or a failed command
// would hold little of grad's code and make every later grad start slower.
// `check` and `grade` start from a cache of their own, dist/cli.cjs.check.cache (made by a
// small check): a cache holds what its run compiled, and one holding both commands' code
// makes every grad pay for reading check's (~2 ms), while check without it compiles its
// sampler, lowering and verdicts from source on every run.
// AUTOGRAD_CLI_CODE_CACHE=off uses no cache; =write (the build's priming runs) writes
// the command's shipped cache from this run.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const url = require('node:url');

const file = path.join(__dirname, '..', 'dist', 'cli.cjs');
const mode = process.env.AUTOGRAD_CLI_CODE_CACHE;

let bytes;
try {
  bytes = fs.readFileSync(file);
} catch (e) {
  if (e && e.code === 'ENOENT') {
    process.stderr.write('error: autograd-cli is not built; run `npm run build` in its folder\n');
    process.exit(2);
  }
  throw e;
}

/** The user's cache folder for this tool; the temporary folder when there is no home. */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : null);
  if (base) return path.join(base, 'autograd-cli');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(require('node:os').tmpdir(), `autograd-cli-${uid}`);
}

// Node >= 22: Node's compile cache too, for what the bundle loads later (derive's mathjs
// instance dist/cli-mathjs.cjs, the picture renderers, a --module file). Not for the
// bundle itself: Node makes that cache right after compiling, before anything ran, so it
// holds a third of what V8's cache below holds after a grad (~200 KB of ~600 KB) and
// starts grad ~40 ms slower (Node 22.23, measured)
if (typeof Module.enableCompileCache === 'function' && mode !== 'off' && mode !== 'write') {
  try {
    Module.enableCompileCache(path.join(cacheDir(), 'compile-cache'));
  } catch {
    // no cache folder to be had: compile from source
  }
}

// V8 checks a code cache against its own version and flags and the source's length
// only, so a cache file starts with the id of the bundle it was made from: the sha1
// of its content, which the build appends to it as a last-line comment (hashing here
// would load node:crypto, ~5 ms). A bundle without that line is hashed here.
const vm = require('node:vm');
const stamp = /\/\/# autograd-cli-bundle=([0-9a-f]{40})\n$/.exec(bytes.subarray(-128).toString('latin1'));
const hash = stamp ? stamp[1] : require('node:crypto').createHash('sha1').update(bytes).digest('hex');
const shipped = process.argv[2] === 'check' || process.argv[2] === 'grade' ? `${file}.check.cache` : `${file}.cache`;
const own = mode === 'write' ? shipped : path.join(cacheDir(), `cli-${hash}-${process.version}.cache`);
const read = (f) => {
  try {
    const cache = fs.readFileSync(f);
    return cache.subarray(0, hash.length).toString('latin1') === hash ? cache.subarray(hash.length) : undefined;
  } catch {
    return undefined; // none yet
  }
};
const compile = (cachedData) => new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: file, cachedData });
let script;
let cached = false;
if (mode !== 'write' && mode !== 'off') {
  // the user's own copy first: it exists only where the shipped one did not fit
  for (const f of [own, shipped]) {
    const cachedData = read(f);
    if (cachedData === undefined) continue;
    // a rejected cache still compiles the script from source
    script = compile(cachedData);
    cached = !script.cachedDataRejected;
    if (cached) break;
  }
}
if (script === undefined) script = compile(undefined);
if (mode === 'write' || (mode !== 'off' && !cached && process.argv[2] === 'grad')) {
  process.once('exit', (code) => {
    if (code !== 0 && mode !== 'write') return;
    const tmp = `${own}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(own), { recursive: true });
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(hash, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, own);
    } catch {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing to clean up
      }
    }
  });
}

// the bundle's require(); dynamic import()s were bundled as require() (Node >= 20.19
// loads ES modules that way), and file: URLs are taken as paths
const bundleRequire = Module.createRequire(file);
const requireFromBundle = Object.assign((id) => bundleRequire(typeof id === 'string' && id.startsWith('file:') ? url.fileURLToPath(id) : id), bundleRequire);
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext()(mod.exports, requireFromBundle, mod, file, path.dirname(file));
