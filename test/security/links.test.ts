import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers.js';
import { attack, expectNoTrace, expectRefused, type Attack } from './harness.js';

/**
 * Issue 22, class 1: no file content reaches a report through a link. A submissions or
 * case folder (a GitHub Classroom clone, an unzipped upload) keeps symlinks: one to
 * /proc/self/environ, one to a file outside the folder holding a token, one to a FIFO
 * and one to a folder outside. Each is refused by name; no output — stdout, stderr,
 * the report, the gradebook, feedback files, results.json, JUnit — holds a byte of
 * what they lead to. A file inside the folder that fails to parse is placed by line
 * and column, never quoted.
 */
const TOKEN = 'ghp_FAKEtoken0123456789abcdefABCDEF0123';
const ENV_SECRET = 'ghp_ENVsecret9876543210zyxwvuZYXWVU9876';
const env = { AG_TEST_SECRET: ENV_SECRET };

const dir = mkdtempSync(join(tmpdir(), 'ag-links-'));
const outside = join(dir, 'outside');
mkdirSync(outside);
// not YAML and not JSON: a parser that reached it would quote its offending line
writeFileSync(join(outside, 'token.txt'), `${TOKEN}: [unclosed\n  password: {${TOKEN}\n`);
writeFileSync(join(outside, 'cases.yaml'), `- f: x^2\n  name: ${TOKEN}\n`);

/** A folder with the good file `good` and every kind of bad link beside it. */
function folder(name: string, good: [string, string]): string {
  const d = join(dir, name);
  mkdirSync(join(d, 'inner'), { recursive: true });
  writeFileSync(join(d, good[0]), good[1]);
  symlinkSync('/proc/self/environ', join(d, 'env.yaml'));
  symlinkSync(join(outside, 'token.txt'), join(d, 'tok.yaml'));
  symlinkSync(join(outside, 'token.txt'), join(d, 'tok.json'));
  symlinkSync(outside, join(d, 'away'));
  execFileSync('mkfifo', [join(d, 'fifo.yaml')]);
  // inside the folder and not YAML: placed by line and column, never quoted
  writeFileSync(join(d, 'inner', 'notes.yaml'), `ok: 1\n${TOKEN}: [\n`);
  return d;
}

const KEY = join(dir, 'key.yaml');
writeFileSync(KEY, 'title: HW\nproblems:\n  - name: p1\n    f: x^2\n    at: { x: 3 }\n');
const subs = folder('subs', ['ada.yaml', 'student: Ada\nanswers:\n  p1: { value: 9, gradient: { x: 6 } }\n']);
const cases = folder('cases', ['good.yaml', '- f: x^2\n  at: { x: 3 }\n  expect: { value: 9, gradient: { x: 6 } }\n']);
// a link that stays inside its folder is an ordinary file
symlinkSync(join(cases, 'good.yaml'), join(cases, 'inner', 'alias.yaml'));

/** Every output of a run: its streams and every file it wrote under `out`. */
function everything(r: Attack, out?: string): string {
  const files =
    out && existsSync(out)
      ? readdirSync(out, { recursive: true, encoding: 'utf8' })
          .map((f) => join(out, f))
          .filter((f) => statSync(f).isFile())
      : [];
  return [r.stdout, r.stderr, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain('ghp_');
  expect(text).not.toContain('FAKEtoken');
  expect(text).not.toContain('ENVsecret');
  expect(text).not.toMatch(/PATH=|HOME=|password/);
}

/** The one-line refusal of each bad link, naming it. */
function expectRefusals(stderr: string, d: string): void {
  const lines = stderr.split('\n');
  const line = (name: string) => lines.find((l) => l.startsWith(`error: ${join(d, name)}`)) ?? `(no line for ${name})`;
  expect(line('env.yaml')).toMatch(/cannot read it: it leads into \/proc, which is never read/);
  expect(line('tok.yaml')).toMatch(/cannot read it: it is a symlink that leads outside the folder /);
  expect(line('tok.json')).toMatch(/cannot read it: it is a symlink that leads outside the folder /);
  expect(line('fifo.yaml')).toMatch(/it is a pipe \(FIFO\), not a regular file/);
  expect(line('away')).toMatch(/a symlink that leads outside .*only that folder tree is read/);
  expect(line('inner/notes.yaml')).toMatch(/notes\.yaml:\d+:\d+: the (submission|case file) is not valid YAML: bad indentation$/);
}

describe('no file content reaches a report through a link', () => {
  it('grade: links to /proc, out of the folder, to a FIFO or a folder are refused by name; nothing of them in any output', () => {
    const out = join(dir, 'grade-out');
    mkdirSync(out);
    const r = attack(
      ['grade', KEY, subs, '--feedback', join(out, 'feedback'), '--gradebook', join(out, 'grades.csv'), '--json', '-o', join(out, 'report.json')],
      { env },
    );
    expect(r.code, r.stderr).toBe(2);
    expectNoTrace(r);
    expectRefusals(r.stderr, subs);
    expectNoSecret(everything(r, out));
    // the good submission is graded as ever
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.students.map((s: { student: string; earned: number }) => [s.student, s.earned])).toEqual([['Ada', 1]]);
    expect(readdirSync(join(out, 'feedback'))).toEqual(['Ada.txt']);
  });

  it('grade --reporter gradescope: a link as the only submission scores 0 with the reason, and nothing of what it leads to', () => {
    for (const target of ['/proc/self/environ', join(outside, 'token.txt')]) {
      const one = mkdtempSync(join(dir, 'gs-'));
      symlinkSync(target, join(one, 'answers.yaml'));
      const results = join(one, '..', `${one.split('/').pop()}-results.json`);
      const r = attack(['grade', KEY, one, '--reporter', 'gradescope', '-o', results], { env });
      expect(r.code, r.stderr).toBe(2);
      expectNoTrace(r);
      const text = readFileSync(results, 'utf8');
      expectNoSecret(text + r.stdout + r.stderr);
      const json = JSON.parse(text);
      expect(json.score).toBe(0);
      expect(json.output).toMatch(/your answer file answers\.yaml could not be read: it (leads into \/proc|is a symlink that leads outside)/);
    }
  });

  it('check: the same links in a case folder, under every reporter', () => {
    for (const reporter of ['table', 'json', 'junit', 'tap', 'github']) {
      const out = join(dir, `check-${reporter}`);
      mkdirSync(out);
      const r = attack(['check', cases, '--reporter', reporter, '-o', join(out, 'report')], { env });
      expect(r.code, r.stderr).toBe(2);
      expectNoTrace(r);
      expectRefusals(r.stderr, cases);
      expectNoSecret(everything(r, out));
      if (reporter === 'json') {
        // the good case and the link to it inside the folder both ran
        expect(JSON.parse(readFileSync(join(out, 'report'), 'utf8')).cases.filter((c: { status: string }) => c.status === 'pass')).toHaveLength(2);
      }
    }
  });

  it('a link named on the command line is refused too; /proc, /sys and /dev are never read, whoever names them', () => {
    const refused: [string[], RegExp][] = [
      [['check', join(cases, 'tok.yaml')], /tok\.yaml: cannot read it: it is a symlink that leads outside the folder/],
      [['check', join(cases, 'env.yaml')], /env\.yaml: cannot read it: it leads into \/proc/],
      [['grade', KEY, join(subs, 'tok.yaml')], /tok\.yaml: cannot read it: it is a symlink that leads outside the folder/],
      [['grad', 'x', '--at', '@/proc/self/environ'], /\/proc\/self\/environ: it leads into \/proc, which is never read/],
      [['grad', '@/proc/self/environ'], /it leads into \/proc/],
      [['check', '/proc/self/environ'], /it leads into \/proc/],
      [['grade', '/proc/self/environ', subs], /it leads into \/proc/],
      [['grade', join(subs, 'tok.yaml'), subs], /tok\.yaml: cannot read it: it is a symlink that leads outside the folder/],
      [['grad', 'x', '--at', '@/sys/kernel/hostname'], /\/sys\/kernel\/hostname: it (leads into \/sys|is .*not a regular file)|no such file/],
    ];
    for (const [args, message] of refused) {
      const r = attack(args, { env });
      expectRefused(r, message);
      expectNoSecret(r.stdout + r.stderr);
    }
  });

  it('a file that fails to parse is placed, never quoted, except to a terminal for a file the user named', () => {
    // found in a folder: line and column only (checked above); named on the command line: placed, and its
    // line is shown with a caret only when standard error is a terminal (never in a pipe, a log or a report)
    const own = join(dir, 'own.yaml');
    writeFileSync(own, `- f: x^2\n  at: [oops\n  note: ${TOKEN}\n`);
    const r = attack(['check', own]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/own\.yaml:\d+:\d+: the case file is not valid YAML/);
    expectNoSecret(r.stdout + r.stderr);
    const tty = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} check ${JSON.stringify(own)}`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(tty.stdout).toMatch(/own\.yaml:\d+:\d+: the case file is not valid YAML[^\r\n]*\r?\n {2}.*\S.*\r?\n\s*\^/);
    // a submission is never the grader's own file: never quoted, even named
    const sub = join(dir, 'quoted-sub.yaml');
    writeFileSync(sub, `answers:\n  p1: { value: @${TOKEN} }\n`);
    const g = attack(['grade', KEY, sub, '--json'], { env });
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/quoted-sub\.yaml:2:\d+: the submission is not valid YAML: a value starts with a reserved character/);
    expectNoSecret(g.stdout + g.stderr);
  });
});
