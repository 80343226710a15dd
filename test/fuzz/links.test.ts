import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { attack, expectNoTrace } from '../security/harness.js';

/**
 * Adversarial submission and case folders through the real CLI (issue 22, class 1 and 7):
 * random trees of good submissions, links to /proc files, to a token outside the folder,
 * to folders outside, FIFOs, broken links, link loops and links that stay inside, graded
 * with every output written (gradebook, feedback, JSON report, or Gradescope's
 * results.json) and checked as case files. No byte of a secret reaches any output; every
 * run ends with exit 0, 1 or 2, no trace; a Gradescope run always leaves a results.json.
 * `npm test` runs a few folders; `npm run fuzz` (FUZZ_RUNS=10000) 30.
 */
const FOLDERS = Math.max(3, Math.min(30, Math.round(Number(process.env.FUZZ_RUNS ?? 500) / 300)));
const TOKEN = 'ghp_FUZZtoken0123456789abcdefABCDEF01';
const ENV_SECRET = 'ghp_FUZZenv9876543210zyxwvuZYXWVU98';
const dir = mkdtempSync(join(tmpdir(), 'ag-fuzz-links-'));
const outside = join(dir, 'outside');
mkdirSync(outside);
writeFileSync(join(outside, 'token.yaml'), `answers:\n  p1: { value: "${TOKEN}" }\n`);
writeFileSync(join(outside, 'token.txt'), `${TOKEN}: [\n`);
writeFileSync(join(outside, 'token.json'), `{"answers": ${TOKEN}}`);
const KEY = join(dir, 'key.yaml');
writeFileSync(KEY, 'title: HW\nproblems:\n  - name: p1\n    f: x^2\n    at: { x: 3 }\n');

function tree(rng: Rng, root: string): void {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const folders = [root];
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) {
    const here = pick(folders);
    const name = `${pick(['a', 'b', 'sub', 'env', 'x'])}${i}${pick(['.yaml', '.yml', '.json', ''])}`;
    const path = join(here, name);
    switch (pick(['good', 'good', 'junk', 'proc', 'token', 'dir-out', 'dir-in', 'fifo', 'broken', 'loop', 'link-in'])) {
      case 'good':
        writeFileSync(path, name.endsWith('.json') ? '{"answers": {"p1": {"value": 9}}}' : 'answers:\n  p1: { value: 9, gradient: { x: 6 } }\n');
        break;
      case 'junk':
        writeFileSync(path, pick(['answers: [\n', '{"a": nope}', '- 1\n', 'just text\n', '\u0000\u0001binary']));
        break;
      case 'proc':
        symlinkSync(pick(['/proc/self/environ', '/proc/self/status', '/proc/self/cmdline', '/proc/1/environ', '/sys/kernel/hostname', '/dev/zero']), path);
        break;
      case 'token':
        symlinkSync(join(outside, pick(['token.yaml', 'token.txt', 'token.json'])), path);
        break;
      case 'dir-out':
        symlinkSync(pick([outside, '/proc/self', '/etc', dir]), path);
        break;
      case 'dir-in':
        mkdirSync(path);
        folders.push(path);
        break;
      case 'fifo':
        execFileSync('mkfifo', [path]);
        break;
      case 'broken':
        symlinkSync(join(root, 'nowhere'), path);
        break;
      case 'loop':
        symlinkSync(pick([root, here]), path);
        break;
      case 'link-in': {
        const target = join(root, `t${i}.yaml`);
        writeFileSync(target, 'answers:\n  p1: { value: 8 }\n');
        symlinkSync(target, path);
        break;
      }
    }
  }
}

function outputs(out: string): string {
  if (!existsSync(out)) return '';
  return readdirSync(out, { recursive: true, encoding: 'utf8' })
    .map((f) => join(out, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

describe('adversarial submission folders through the real CLI', () => {
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 22));
  for (let k = 0; k < FOLDERS; k++) {
    const root = join(dir, `subs${k}`);
    mkdirSync(root);
    tree(rng, root);
    const gradescope = rng.next() < 0.5;
    it(`folder ${k} (${gradescope ? 'gradescope' : 'gradebook'}): no secret in any output, a clean exit`, () => {
      const out = join(dir, `out${k}`);
      mkdirSync(out);
      const args = gradescope
        ? ['grade', KEY, root, '--reporter', 'gradescope', '-o', join(out, 'results.json')]
        : ['grade', KEY, root, '--json', '-o', join(out, 'report.json'), '--gradebook', join(out, 'grades.csv'), '--feedback', join(out, 'feedback')];
      const env = { AG_FUZZ_SECRET: ENV_SECRET };
      const runs = [
        attack(args, { env, timeoutMs: 30_000 }),
        attack(['check', root, '--reporter', 'junit', '-o', join(out, 'check.xml')], { env, timeoutMs: 30_000 }),
      ];
      const all = [...runs.map((r) => r.stdout + r.stderr), outputs(out)].join('\n');
      expect(all).not.toContain('ghp_');
      expect(all).not.toMatch(/PATH=|HOME=|VmRSS|AG_FUZZ_SECRET/);
      for (const r of runs) {
        expect(r.signal, r.stderr).toBeNull();
        expect([0, 1, 2], r.stderr).toContain(r.code);
        expectNoTrace(r);
      }
      if (gradescope) {
        const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
        expect(typeof results.score).toBe('number');
        expect(results.output_format).toBe('text');
      }
    });
  }
});
