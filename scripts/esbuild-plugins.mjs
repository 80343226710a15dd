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
 * Our modules import mathjs pieces by name from 'mathjs' (src/core/parse/mathjs.ts the
 * parser's factories, src/subjects/formula/derive/simplify.ts `create` and `simplifyDependencies`).
 * Through mathjs's index, a module that is bundled to load lazily keeps the whole
 * index (~700 KB of mathjs, all parsed at start-up). So for each of our importers,
 * 'mathjs' becomes a small module re-exporting each imported name straight from the
 * file that defines it (names looked up in mathjs's own re-export lists); a name not
 * found there falls back to the real index.
 *
 * With `side: 'name.cjs'`, an importer that builds a whole mathjs instance (imports
 * `create`, as derive's simplify does) instead gets `require('./name.cjs')`, a separate
 * file next to the bundle (see `buildSide`), so the CLI bundle does not carry those
 * ~650 KB and only `derive` loads them. Only modules that keep to their own mathjs
 * instance may be sent there; simplify parses its own strings.
 */
export function mathjsDirect({ side } = {}) {
  let where;
  let pending;
  const sideNames = new Set();
  // one lookup, shared by importers resolved at the same time (a map filled while another waits would be incomplete)
  function locations(b, resolveDir) {
    pending ??= (async () => {
      const index = await b.resolve('mathjs', { kind: 'import-statement', resolveDir });
      const esm = dirname(index.path);
      const map = new Map();
      for (const rel of ['entry/mainAny.js', 'factoriesAny.js', 'entry/dependenciesAny.generated.js']) {
        const file = join(esm, rel);
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/export \{ (\w+) \} from '([^']+)'/g)) if (!map.has(m[1])) map.set(m[1], join(dirname(file), m[2]));
      }
      where = map;
      return map;
    })();
    return pending;
  }
  const reexports = (names) => names.map((n) => `export { ${n} } from ${JSON.stringify(where.get(n))};`).join('\n');
  const plugin = {
    name: 'mathjs-direct',
    setup(b) {
      b.onResolve({ filter: /^mathjs$/ }, async (args) => {
        if (!/[\\/]src[\\/].*\.ts$/.test(args.importer)) return undefined;
        const text = await readFile(args.importer, 'utf8');
        const names = [];
        for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'mathjs'/g)) {
          for (const part of m[1]
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean))
            if (!part.startsWith('type ')) names.push(part);
        }
        const map = await locations(b, args.resolveDir);
        if (!names.length || names.some((n) => !/^\w+$/.test(n) || !map.has(n))) return undefined;
        if (side && names.includes('create')) {
          names.forEach((n) => sideNames.add(n));
          return { path: `./${side}`, external: true };
        }
        return { path: args.importer, namespace: 'mathjs-direct', pluginData: names };
      });
      b.onLoad({ filter: /.*/, namespace: 'mathjs-direct' }, (args) => ({
        contents: reexports(args.pluginData),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
  /** Build the side file with the names the main build sent there (call after it). */
  async function buildSide(build, options) {
    if (!sideNames.size) return false;
    await build({ ...options, stdin: { contents: reexports([...sideNames].sort()), resolveDir: process.cwd(), loader: 'js' } });
    return true;
  }
  return { plugin, buildSide };
}

/**
 * A plugin that replaces one piece of a dependency's source, and fails the build
 * loudly when the dependency changed so that the piece is gone (or the file was not
 * bundled at all).
 */
function patchSource(name, file, find, replace) {
  return {
    name,
    setup(b) {
      let patched = false;
      b.onStart(() => {
        patched = false;
      });
      b.onEnd((result) => {
        if (!patched && !result.errors.length) throw new Error(`scripts/esbuild-plugins.mjs: ${file} was not bundled; update the ${name} plugin`);
      });
      b.onLoad({ filter: file }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        patched = true;
        if (!src.includes(find)) throw new Error(`scripts/build.mjs: a dependency changed, "${find}" is gone from ${args.path}; update the ${name} plugin`);
        return { contents: src.replace(find, replace), loader: 'js' };
      });
    },
  };
}

/**
 * After running a command's handler, yargs renders that command's whole help
 * text (cliui, wrap-ansi, string-width: ~50 ms) and caches it, for the case of a
 * later failure without a .fail() handler. Our CLI always has a .fail() handler
 * (src/cli/main.ts) and each command reports its own errors, so the cached text
 * is never read: skip rendering it. `--help` itself is unaffected.
 */
export const noHelpCache = patchSource(
  'yargs-no-help-cache',
  /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/,
  'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();',
  '/* help text not cached: autograd-cli has a .fail() handler */',
);

/**
 * Every new yargs instance guesses its version from the nearest package.json above the
 * current folder (a directory walk, and a failed assert that loads node:assert when
 * there is none) — the wrong package's version anyway. src/cli/main.ts gives its own.
 */
export const noVersionGuess = patchSource(
  'yargs-no-version-guess',
  /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/,
  '        yargs.version();\n',
  '        /* the version is given by src/cli/main.ts */\n',
);

/**
 * yargs imports `strictEqual`/`notStrictEqual` from node:assert for a few internal
 * checks, and loading node:assert costs ~3 ms. These stand-ins load it only when a
 * check fails, and then let the real assert throw its real error.
 */
export const lazyAssert = {
  name: 'lazy-assert',
  setup(b) {
    b.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]/.test(args.importer) ? { path: 'assert', namespace: 'lazy-assert' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-assert' }, () => ({
      contents: [
        "export function strictEqual(a, b, m) { if (!Object.is(a, b)) require('node:assert').strictEqual(a, b, m); }",
        "export function notStrictEqual(a, b, m) { if (Object.is(a, b)) require('node:assert').notStrictEqual(a, b, m); }",
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * A dependency loaded when first used rather than at start-up: each name our modules
 * import from it becomes a stand-in that loads the real module on its first call,
 * `new`, or property read (esbuild turns the require() of an ES module into a lazily
 * initialised one; a built-in module is require()d by its name). Our modules must import
 * it by name (`import { a, b } from '…'`): a name the stand-in lacks fails the build.
 * For `yaml`: case files need it, `grad` and `graph` do not (~8 ms); see scripts/build.mjs
 * for the others.
 */
export function lazyModule(name) {
  const quoted = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return {
    name: `lazy-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${quoted}$`) }, async (args) => {
        // the stand-in's own require() (a built-in module keeps its name) is the real module
        if (args.pluginData === 'real' || args.namespace === `lazy-${name}` || !/[\\/]src[\\/].*\.ts$/.test(args.importer)) return undefined;
        const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
        if (real.errors.length) return { errors: real.errors };
        const text = await readFile(args.importer, 'utf8');
        const names = [];
        for (const m of text.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'${quoted}'`, 'g'))) {
          for (const part of m[1]
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean))
            if (!part.startsWith('type ')) names.push(part);
        }
        return { path: args.importer, namespace: `lazy-${name}`, pluginData: { real: real.path, names } };
      });
      b.onLoad({ filter: /.*/, namespace: `lazy-${name}` }, (args) => ({
        contents: [
          `let m; const real = () => (m ??= require(${JSON.stringify(args.pluginData.real)}));`,
          ...args.pluginData.names.map(
            (n) =>
              `export const ${n} = new Proxy(function () {}, { apply: (_, t, a) => real().${n}(...a), construct: (_, a) => new (real().${n})(...a), get: (_, k) => real().${n}[k] });`,
          ),
        ].join('\n'),
        resolveDir: '.',
        loader: 'js',
      }));
    },
  };
}
