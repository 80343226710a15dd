// THIRD_PARTY_NOTICES: every third-party package whose code the esbuild bundles in dist/
// carry, with its name, version, licence and the full text of its licence and NOTICE
// files, made by scripts/build.mjs from the bundles' metafiles, so it lists exactly what
// was bundled. (The bundles themselves are built with legalComments: 'none'.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/** Licence and notice files of a package folder, by name (LICENSE, LICENCE.md, COPYING, NOTICE.txt …). */
const LEGAL = /^(licen[cs]e|copying|notice)([-._].*)?$/i;

/**
 * The package folder a bundled input belongs to, or null for our own sources: the part of
 * the path up to the last node_modules/<name> (or node_modules/@scope/<name>).
 */
export function packageFolder(input, root = process.cwd()) {
  // a plugin's namespace before the path (lazy-string-width:/…/string-width/index.js)
  const file = resolve(root, input.replace(/^[a-z][\w-]+:(?=[\\/])/, ''));
  const parts = file.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return null;
  const end = parts[at + 1].startsWith('@') ? at + 3 : at + 2;
  return parts.slice(0, end).join(sep) || sep;
}

/**
 * The packages behind a set of esbuild metafiles: folder → the output files (relative
 * to `root`) whose bundles hold its code. `metas` is a list of [output label, metafile].
 */
export function bundledPackages(metas, root = process.cwd()) {
  const found = new Map();
  for (const [label, meta] of metas) {
    for (const input of Object.keys(meta.inputs)) {
      const folder = packageFolder(input, root);
      if (!folder) continue;
      if (!found.has(folder)) found.set(folder, new Set());
      found.get(folder).add(label);
    }
  }
  return found;
}

/** The MIT licence's text, for a package that states "MIT" but ships no licence file. */
const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.`;

/**
 * A package's licence texts: [heading, text] for each licence or NOTICE file; without a
 * licence file, the licence section of its README; without that, for an MIT package, the
 * licence statement at the head of its main file with the MIT text. Null when none is found.
 */
function licenceTexts(folder, pkg, license) {
  const read = (f) => readFileSync(join(folder, f), 'utf8').replace(/\r\n?/g, '\n').trimEnd();
  const files = readdirSync(folder)
    .filter((f) => LEGAL.test(f))
    .sort();
  const texts = files.map((f) => [f, read(f)]);
  if (files.some((f) => !/^notice/i.test(f))) return texts;
  const readme = readdirSync(folder).find((f) => /^readme(\.md|\.markdown|\.txt)?$/i.test(f));
  // a heading "License", "## License (MIT)" or "LICENSE (MIT)\n----", to the next heading or the end
  const section = readme && /^(?:#+ *)?licen[cs]e\b[^\n]*\n(?:[-=]+\n)?([\s\S]*?)(?=\n#+ |\n[^\n]+\n[-=]{3,}\n|(?![\s\S]))/im.exec(read(readme));
  if (section && /copyright|permission|licen[cs]ed/i.test(section[1])) return [...texts, [`${readme}, its licence section`, section[0].trim()]];
  const main = pkg.main && existsSync(join(folder, pkg.main)) ? pkg.main : null;
  const head = main && /^\s*\/\*([\s\S]*?)\*\//.exec(read(main));
  if (license === 'MIT' && head && /MIT licen[cs]e/i.test(head[1])) {
    const statement = head[1].replace(/^\s*\* ?/gm, '').trim();
    return [...texts, [`${main}, its head`, statement], ['the MIT licence it names', MIT]];
  }
  return null;
}

/** The notices text for the packages found in `metas`. Throws when a bundled package ships no licence text. */
export function noticesText(metas, root = process.cwd()) {
  const byId = new Map(); // name@version: one entry for the copies of a package in several folders
  const missing = [];
  for (const [folder, outputs] of bundledPackages(metas, root)) {
    const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    const seen = byId.get(`${pkg.name}@${pkg.version}`);
    if (seen) {
      seen.outputs = [...new Set([...seen.outputs, ...outputs])].sort();
      continue;
    }
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
    const texts = licenceTexts(folder, pkg, license);
    if (!texts) missing.push(`${pkg.name}@${pkg.version} (${relative(root, folder).split(sep).join('/')})`);
    byId.set(`${pkg.name}@${pkg.version}`, { name: pkg.name, version: pkg.version, license, texts: texts ?? [], outputs: [...outputs].sort() });
  }
  const entries = [...byId.values()];
  if (missing.length) throw new Error(`scripts/notices.mjs: bundled packages without a licence text: ${missing.join(', ')}`);
  entries.sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
  const rule = '='.repeat(78);
  const lines = [
    'Third-party software bundled in autograd-cli',
    '',
    'The files in dist/ are esbuild bundles. Besides autograd-cli’s own code (MIT, see',
    'LICENSE) they carry code of the packages below, each under its own licence, given',
    'here in full with any NOTICE file. Generated by scripts/build.mjs from the bundles’',
    'metafiles; the packages installed beside autograd-cli (its dependencies) carry their',
    'own licences in node_modules.',
    '',
    `${entries.length} packages: ${entries.map((e) => `${e.name}@${e.version}`).join(', ')}`,
  ];
  for (const e of entries) {
    lines.push('', rule, `${e.name} ${e.version}`, `License: ${e.license}`, `Bundled in: ${e.outputs.join(', ')}`);
    for (const [heading, text] of e.texts) lines.push('', `--- ${heading} ---`, '', text);
  }
  return `${lines.join('\n')}\n`;
}
