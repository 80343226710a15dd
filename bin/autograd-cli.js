#!/usr/bin/env node
'use strict';
// Launcher of the built CLI, dist/cli.cjs (`npm run build`; `prepare` runs it on install).
// CommonJS on purpose (see bin/package.json): an ES-module entry costs Node's ESM
// loader, ~20 ms, before anything of ours runs.
//
// Start-up is most of a one-off `grad`, and much of it is V8 parsing and compiling the
// bundle. So the bundle is compiled with V8's code cache, dist/cli.cjs.cache, which the
// build writes after one representative run (it holds the functions that run compiled).
// When the cache is missing, made from another bundle, or rejected by V8 (another Node
// version, other V8 flags), the CLI runs as usual, and the next `grad` that succeeds
// rewrites it on exit, best effort. Only a `grad`: V8 caches what the run compiled, so a
// cache written by `--version`, `--help` or a failed command would hold little of grad's
// code and make every later grad start slower (1.39× `node -e 0` instead of 1.23×).
// AUTOGRAD_CLI_CODE_CACHE=off ignores the cache; =write always rewrites it.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const url = require('node:url');

const file = path.join(__dirname, '..', 'dist', 'cli.cjs');
const cacheFile = `${file}.cache`;
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

// the bundle's require(); dynamic import()s were bundled as require() (Node >= 20.19
// loads ES modules that way), and file: URLs are taken as paths
const bundleRequire = Module.createRequire(file);
const requireFromBundle = Object.assign((id) => bundleRequire(typeof id === 'string' && id.startsWith('file:') ? url.fileURLToPath(id) : id), bundleRequire);

{
  // V8 checks a code cache against its own version and flags and the source's length
  // only, so the cache file starts with the id of the bundle it was made from: the
  // sha1 of its content, which the build appends to it as a last-line comment (hashing
  // here would load node:crypto, ~5 ms). A bundle without that line is hashed here.
  const stamp = /\/\/# autograd-cli-bundle=([0-9a-f]{40})\n$/.exec(bytes.subarray(-128).toString('latin1'));
  const hash = stamp ? stamp[1] : require('node:crypto').createHash('sha1').update(bytes).digest('hex');
  let cachedData;
  if (mode !== 'write' && mode !== 'off') {
    try {
      const cache = fs.readFileSync(cacheFile);
      if (cache.subarray(0, hash.length).toString('latin1') === hash) cachedData = cache.subarray(hash.length);
    } catch {
      // no cache yet: compile from source, write one on exit
    }
  }
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: file, cachedData });
  if (mode === 'write' || (mode !== 'off' && (cachedData === undefined || script.cachedDataRejected) && process.argv[2] === 'grad')) {
    process.once('exit', (code) => {
      if (code !== 0 && mode !== 'write') return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.accessSync(path.dirname(cacheFile), fs.constants.W_OK);
      } catch {
        return; // a read-only install: run without a cache, and do not build one each time
      }
      try {
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(hash, 'latin1'), script.createCachedData()]));
        fs.renameSync(tmp, cacheFile);
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // nothing to clean up
        }
      }
    });
  }
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext()(mod.exports, requireFromBundle, mod, file, path.dirname(file));
}
