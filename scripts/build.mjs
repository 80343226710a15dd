// Bundle the CLI and the library with esbuild, then prime the CLI's V8 code cache.
//
// Start-up is most of a one-off `grad` (bench/cold-start.mjs measures it), so the CLI
// bundle is shaped for it:
// - the mathjs parser is built from its own factories (src/core/parse/mathjs.ts), not from
//   mathjs's full import (~0.9 s) or create() (~0.15 s);
// - plugins (scripts/esbuild-plugins.mjs) defer or drop what dependencies would do at
//   load time and the CLI never needs;
// - it is CommonJS, run by bin/autograd-cli.js through vm.Script with V8's code cache
//   (dist/cli.cjs.cache; dist/cli.cjs.check.cache for check and grade), each written here
//   after one representative run. Parts of commands
//   loaded with `await import(...)` are in the bundle but stay uninitialised until used;
//   so is yargs, which only a command line that is not plain needs (src/cli/plain.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build as esbuild } from 'esbuild';
import { lazyAssert, lazyModule, lazyStringWidth, mathjsDirect, noHelpCache, noVersionGuess } from './esbuild-plugins.mjs';
import { noticesText } from './notices.mjs';

// every bundle's metafile, for THIRD_PARTY_NOTICES (scripts/notices.mjs): [what it is, metafile]
const metas = [];
async function build(options, label = options.outfile) {
  const result = await esbuild({ ...options, metafile: true });
  metas.push([label, result.metafile]);
  return result;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

// earlier layouts of the CLI bundle (an ES module, then split into chunks)
for (const old of ['dist/cli.js', 'dist/chunks', 'dist/cli.cjs.cache', 'dist/cli.cjs.check.cache', 'dist/cli-mathjs.cjs'])
  rmSync(old, { recursive: true, force: true });

// The backprop explorer's page script (src/report/html/page.ts), bundled for the browser
// and given to both bundles as a string (the same options as src/report/html/script.ts).
const page = await build(
  {
    entryPoints: ['src/report/html/page.ts'],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  },
  'the explorer page (in dist/cli.cjs, dist/index.cjs)',
);
const explorerPage = { __AUTOGRAD_EXPLORER_PAGE__: JSON.stringify(page.outputFiles[0].text) };

// `--version` prints this package's own version, wherever the CLI runs from
const version = { __AUTOGRAD_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) };

const mathjs = mathjsDirect({ side: 'cli-mathjs.cjs' });
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/cli.cjs',
  minify: !process.env.AUTOGRAD_NO_MINIFY,
  // `import.meta.url` (files found beside the bundle: workers, dist/index.cjs), made when
  // first read: node:url's pathToFileURL at start-up costs ~1 ms
  define: { 'import.meta.url': '__autograd_cli_url.href', ...explorerPage, ...version },
  banner: { js: "const __autograd_cli_url = { get href() { return require('node:url').pathToFileURL(__filename).href; } };" },
  // import() of a computed specifier (@viz-js/viz for svg) becomes require(), which
  // loads ES modules too (Node >= 20.19): code run by vm.Script cannot import().
  supported: { 'dynamic-import': false },
  // loaded when first used, not at start-up: case files (yaml), JSON value files (jsonc-parser),
  // colour (chalk, whose colour detection loads node:tty), terminals (node:tty: ~4 ms with
  // node:net and the streams), --exec programs (node:child_process), node:os (the native
  // engine's cache folder, check's thread count)
  plugins: [
    mathjs.plugin,
    lazyStringWidth,
    lazyAssert,
    noHelpCache,
    noVersionGuess,
    ...['yaml', 'jsonc-parser/lib/esm/main.js', 'chalk', 'node:tty', 'node:child_process', 'node:os'].map(lazyModule),
  ],
});
// the bundle's id for its code cache (bin/autograd-cli.js): the sha1 of its content, as a last line
{
  const bundle = readFileSync('dist/cli.cjs');
  writeFileSync('dist/cli.cjs', Buffer.concat([bundle, Buffer.from(`//# autograd-cli-bundle=${createHash('sha1').update(bundle).digest('hex')}\n`)]));
}
// the whole-instance mathjs that only derive needs, beside the bundle (see mathjsDirect)
await mathjs.buildSide(build, { ...common, format: 'cjs', outfile: 'dist/cli-mathjs.cjs', minify: true });
// The library, one bundle for both module systems: CommonJS (dist/index.cjs, what jest's
// default set-up and any require() load) with an ES-module face over it (dist/index.js,
// `export *`: Node finds the names in esbuild's CommonJS export list). One copy, so AgError
// and the engine's state are the same whichever way a program loads it. `import.meta.url`
// (the worker bundles and the engine found beside it) becomes the file's URL.
const cjsUrl = {
  define: { 'import.meta.url': '__autograd_lib_url' },
  banner: { js: "const __autograd_lib_url = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...common, ...cjsUrl, format: 'cjs', entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', define: { ...cjsUrl.define, ...explorerPage } });
// `autograd-cli/vitest`: the gradient matcher, its own small entry over the library's bundle
// (the library itself is beside it, loaded once, not a second copy in this file)
await build({
  ...common,
  ...cjsUrl,
  format: 'cjs',
  entryPoints: ['src/vitest.ts'],
  outfile: 'dist/vitest.cjs',
  plugins: [
    {
      name: 'library-beside',
      setup(b) {
        b.onResolve({ filter: /^\.\/index\.js$/ }, (args) => (/src[\\/]vitest\.ts$/.test(args.importer) ? { path: './index.cjs', external: true } : undefined));
      },
    },
  ],
});
for (const name of ['index', 'vitest'])
  writeFileSync(
    `dist/${name}.js`,
    `// ${name === 'index' ? 'autograd-cli' : 'autograd-cli/vitest'} as an ES module: the CommonJS bundle beside it\nexport * from './${name}.cjs';\n`,
  );
// `check --jobs N`: the worker threads' own small bundle, found beside the CLI by src/homework/cases/pool.ts
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/homework/cases/worker.ts'],
  outfile: 'dist/check-worker.cjs',
  minify: true,
  define: { 'import.meta.url': '__autograd_worker_url' },
  banner: { js: "const __autograd_worker_url = require('node:url').pathToFileURL(__filename).href;" },
});
// derive's simplify runs on a worker thread under a time budget (src/subjects/formula/derive/budget.ts): its own small bundle
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/subjects/formula/derive/simplify-worker.ts'],
  outfile: 'dist/simplify-worker.cjs',
  minify: true,
});
// `graph -f svg|png|html` lays out and draws on a worker thread ended at the deadline (src/report/graph/picture.ts);
// Graphviz and resvg stay run-time requires of their packages, as in the CLI bundle
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/report/graph/draw-worker.ts'],
  outfile: 'dist/draw-worker.cjs',
  minify: true,
  supported: { 'dynamic-import': false },
});

// THIRD_PARTY_NOTICES: the licences of every package in the bundles above; and, for its
// test (test/package/notices.test.ts), which files each bundle was made of
writeFileSync('THIRD_PARTY_NOTICES', noticesText(metas));
mkdirSync('node_modules/.cache/autograd-cli', { recursive: true });
writeFileSync(
  'node_modules/.cache/autograd-cli/bundle-inputs.json',
  JSON.stringify(Object.fromEntries(metas.map(([label, meta]) => [label, Object.keys(meta.inputs)]))),
);

// The library's type declarations (dist/types, "types" in package.json), when TypeScript is installed.
let tsc = null;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('scripts/build.mjs: TypeScript is not installed; skipping type declarations\n');
}
if (tsc) {
  // only what src/index.ts reaches (tsconfig.build.json), so nothing stale stays from an earlier build
  rmSync('dist/types', { recursive: true, force: true });
  const types = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (types.status !== 0) {
    process.stderr.write(`scripts/build.mjs: type declarations failed:\n${types.stdout}${types.stderr}`);
    process.exit(1);
  }
}

/** Run the CLI once with `args` so it writes the code cache `file`; a warning, not a failure, when it cannot. */
function prime(what, args, file) {
  const run = spawnSync(process.execPath, ['bin/autograd-cli.js', ...args], {
    env: { ...process.env, AUTOGRAD_CLI_CODE_CACHE: 'write', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  if (run.status !== 0 || !existsSync(file)) {
    process.stderr.write(`scripts/build.mjs: warning: could not prime ${what} (exit ${run.status}): ${run.stderr || run.error || ''}\n`);
  }
}
// the lecture example (human output, the common case)
prime('the code cache', ['grad', '(x+y)*sin(x)', '--at', 'x=pi,y=pi'], 'dist/cli.cjs.cache');
// check's own cache (check and grade start from it, bin/autograd-cli.js): a small case
// file in one thread, so its sampler, lowering and verdicts are compiled in it
prime("check's code cache", ['check', 'fixtures/ci/passing/scalars.json', '--jobs', '1'], 'dist/cli.cjs.check.cache');
