// Bundle the CLI and the library with esbuild. The CLI bundle pulls in only the
// mathjs factories it uses (the parser, see src/parse/mathjs.ts), so it does not
// pay mathjs's full import. Start-up is most of a one-off `grad`, so the CLI
// bundle also defers work its dependencies would do at load time (see the
// plugins below); `npm run bench:cold-start` measures the result.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // cli-table3 and yargs are CommonJS inside; give the ESM bundle a require()
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

/**
 * string-width (three copies: yargs's, cliui's, wrap-ansi's) builds an
 * Intl.Segmenter and Unicode-property regexes (`\p{RGI_Emoji}`…) when it is
 * loaded: ~40 ms, spent even when no help text is drawn. Every import of it gets
 * a stand-in that loads the real module on the first call instead (esbuild
 * turns a require() of an ESM file into a lazily initialised module).
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (real.errors.length) return { errors: real.errors };
      // cli-table3's string-width@4 is CommonJS and costs nothing to load; leave it alone
      if (args.kind === 'require-call') return { path: real.path };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: `let w; export default function stringWidth(s, o) { return (w ??= require(${JSON.stringify(args.path)}).default)(s, o); }`,
      resolveDir: '.',
      loader: 'js',
    }));
  },
};

/**
 * After running a command's handler, yargs renders that command's whole help
 * text (cliui, wrap-ansi, string-width: ~50 ms) and caches it, for the case of a
 * later failure without a .fail() handler. Our CLI always has a .fail() handler
 * (src/cli/main.ts) and each command reports its own errors, so the cached text
 * is never read: skip rendering it. `--help` itself is unaffected.
 */
const CACHE_HELP = 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();';
const noHelpCache = {
  name: 'yargs-no-help-cache',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      if (!src.includes(CACHE_HELP)) throw new Error(`scripts/build.mjs: yargs changed, "${CACHE_HELP}" is gone from ${args.path}; update the yargs-no-help-cache plugin`);
      return { contents: src.replace(CACHE_HELP, '/* help text not cached: autograd-cli has a .fail() handler */'), loader: 'js' };
    });
  },
};

await build({ ...common, entryPoints: ['src/cli/entry.ts'], outfile: 'dist/cli.js', minify: true, plugins: [lazyStringWidth, noHelpCache] });
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
