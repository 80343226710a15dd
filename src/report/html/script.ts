import { fileURLToPath } from 'node:url';

/** The page's script, bundled by scripts/build.mjs and put here as a string by esbuild's `define`. */
declare const __AUTOGRAD_EXPLORER_PAGE__: string | undefined;

/** How page.ts is bundled for the browser (scripts/build.mjs uses the same options). */
export const PAGE_BUILD = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
} as const;

/** The explorer page's script: from the build, or, running from source (tests), bundled now. */
export async function pageScript(): Promise<string> {
  if (typeof __AUTOGRAD_EXPLORER_PAGE__ === 'string') return __AUTOGRAD_EXPLORER_PAGE__;
  // a computed specifier: esbuild leaves it alone, so the bundles never carry esbuild
  const spec = 'esbuild';
  const esbuild = (await import(spec)) as typeof import('esbuild');
  const out = await esbuild.build({
    ...PAGE_BUILD,
    target: [...PAGE_BUILD.target],
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}
