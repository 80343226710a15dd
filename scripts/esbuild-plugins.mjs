// esbuild plugins for the CLI bundle: each defers or drops start-up work a
// dependency would do (see scripts/build.mjs, bench/cold-start.mjs).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * string-width (three copies: yargs's, cliui's, wrap-ansi's) builds an
 * Intl.Segmenter and Unicode-property regexes (`\p{RGI_Emoji}`…) when it is
 * loaded: ~40 ms, spent even when no help text is drawn. Every import of it gets
 * a stand-in that loads the real module on the first call instead (esbuild
 * turns a require() of an ESM file into a lazily initialised module).
 */
export const lazyStringWidth = {
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
 * src/parse/mathjs.ts imports mathjs's parser factories by name from 'mathjs'. Going
 * through mathjs's index would tie the CLI's start-up to everything another module
 * takes from that index (derive's simplify pulls in most of mathjs, and a module
 * loaded lazily is kept whole), so for that one importer 'mathjs' is a small module
 * that re-exports each factory straight from its own file (the file names are read
 * from mathjs's factoriesAny.js).
 */
export const mathjsParserOnly = {
  name: 'mathjs-parser-only',
  setup(b) {
    b.onResolve({ filter: /^mathjs$/ }, (args) =>
      /[\\/]src[\\/]parse[\\/]mathjs\.ts$/.test(args.importer) ? { path: args.importer, namespace: 'mathjs-parser-only' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'mathjs-parser-only' }, async (args) => {
      const index = await b.resolve('mathjs', { kind: 'import-statement', resolveDir: dirname(args.path) });
      const esm = dirname(index.path);
      const factories = await readFile(join(esm, 'factoriesAny.js'), 'utf8');
      const where = new Map([...factories.matchAll(/export \{ (\w+) \} from '([^']+)'/g)].map((m) => [m[1], m[2]]));
      const names = [...(await readFile(args.path, 'utf8')).matchAll(/\b(create[A-Z]\w*),?$/gm)].map((m) => m[1]);
      const lines = names.map((n) => {
        if (!where.has(n)) throw new Error(`scripts/build.mjs: mathjs has no factory ${n} in factoriesAny.js`);
        return `export { ${n} } from ${JSON.stringify(join(esm, where.get(n)))};`;
      });
      return { contents: lines.join('\n'), resolveDir: esm, loader: 'js' };
    });
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
export const noHelpCache = {
  name: 'yargs-no-help-cache',
  setup(b) {
    let patched = false;
    b.onStart(() => {
      patched = false;
    });
    b.onEnd((result) => {
      if (!patched && !result.errors.length) throw new Error('scripts/esbuild-plugins.mjs: yargs/build/lib/command.js was not bundled; update the yargs-no-help-cache plugin');
    });
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      patched = true;
      if (!src.includes(CACHE_HELP)) throw new Error(`scripts/build.mjs: yargs changed, "${CACHE_HELP}" is gone from ${args.path}; update the yargs-no-help-cache plugin`);
      return { contents: src.replace(CACHE_HELP, '/* help text not cached: autograd-cli has a .fail() handler */'), loader: 'js' };
    });
  },
};
