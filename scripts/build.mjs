// Bundle the CLI and the library with esbuild. The CLI bundle pulls in only the
// mathjs factories it uses (the parser), so it does not pay mathjs's full import.
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

await build({ ...common, entryPoints: ['src/cli/entry.ts'], outfile: 'dist/cli.js', minify: true });
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
