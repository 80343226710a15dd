import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * THIRD_PARTY_NOTICES (made by scripts/build.mjs from the bundles' metafiles) against the
 * files each bundle was made of, as the build recorded them: every package whose code is
 * in a bundle is listed with its version and licence, and every licence or NOTICE file
 * that package ships is there in full.
 */
const notices = readFileSync(join(ROOT, 'THIRD_PARTY_NOTICES'), 'utf8');
const inputs: Record<string, string[]> = JSON.parse(readFileSync(join(ROOT, 'node_modules', '.cache', 'autograd-cli', 'bundle-inputs.json'), 'utf8'));

/** The bundled packages, found here from the input paths alone: name@version → its folder. */
function bundled(): Map<string, string> {
  const found = new Map<string, string>();
  for (const list of Object.values(inputs)) {
    for (const input of list) {
      const m = /^(?:[a-z][\w-]+:)?(.*[\\/]node_modules[\\/]|node_modules[\\/])((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(input);
      if (!m) continue;
      const folder = join(m[1].startsWith('/') ? '' : ROOT, m[1], m[2]);
      const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
      found.set(`${pkg.name}@${pkg.version}`, folder);
    }
  }
  return found;
}

/** The part of the notices about one package: from its heading to the next rule. */
function section(name: string, version: string): string {
  const start = notices.indexOf(`\n${name} ${version}\nLicense: `);
  expect(start, `${name} ${version} is listed`).toBeGreaterThan(0);
  const end = notices.indexOf(`\n${'='.repeat(78)}\n`, start);
  return notices.slice(start, end < 0 ? undefined : end);
}

describe('THIRD_PARTY_NOTICES', () => {
  it('was made from the metafiles of every bundle in dist/', () => {
    const bundles = readdirSync(join(ROOT, 'dist')).filter((f) => /\.(c?js)$/.test(f) && !/^(index|vitest)\.js$/.test(f));
    // dist/index.js and dist/vitest.js are two-line ES-module faces over the CommonJS bundles
    for (const f of ['index.js', 'vitest.js']) expect(readFileSync(join(ROOT, 'dist', f), 'utf8')).toMatch(/^(\/\/[^\n]*\n)?export \* from '\.\/\w+\.cjs';\n$/);
    expect(Object.keys(inputs).sort()).toEqual(expect.arrayContaining(bundles.map((f) => `dist/${f}`)));
  });

  it('lists every bundled package with its version, licence and the full text of its licence and NOTICE files', () => {
    const found = bundled();
    // the ones the issue names, at least
    for (const name of ['mathjs', 'yaml', 'yargs', 'chalk', 'jsonc-parser', 'decimal.js', 'fraction.js', 'complex.js', 'typed-function'])
      expect(
        [...found.keys()].some((id) => id.startsWith(`${name}@`)),
        name,
      ).toBe(true);
    expect(notices).toContain(`\n${found.size} packages: `);
    for (const [id, folder] of found) {
      const at = id.lastIndexOf('@');
      const [name, version] = [id.slice(0, at), id.slice(at + 1)];
      const part = section(name, version);
      const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
      expect(part, id).toContain(`License: ${typeof pkg.license === 'string' ? pkg.license : pkg.license.type}`);
      const legal = readdirSync(folder).filter((f) => /^(licen[cs]e|copying|notice)([-._].*)?$/i.test(f));
      for (const f of legal) expect(part, `${id}: ${f}`).toContain(readFileSync(join(folder, f), 'utf8').replace(/\r\n?/g, '\n').trimEnd());
      // a package without a licence file: its licence text from its README or its own head, never nothing
      if (!legal.some((f) => !/^notice/i.test(f))) expect(part, id).toMatch(/--- [^\n]+ ---\n\n[\s\S]*(Permission is hereby granted|Licensed under)/);
    }
  });

  it('carries mathjs’s Apache-2.0 licence and its NOTICE', () => {
    const mathjs = [...bundled().keys()].find((id) => id.startsWith('mathjs@'));
    expect(mathjs).toBeDefined();
    const part = section('mathjs', mathjs!.slice('mathjs@'.length));
    expect(part).toContain('License: Apache-2.0');
    expect(part).toContain('--- NOTICE ---');
    expect(part).toMatch(/Apache License\s+Version 2\.0/);
    expect(existsSync(join(ROOT, 'node_modules', 'mathjs', 'NOTICE'))).toBe(true);
  });
});
