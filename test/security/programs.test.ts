import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers.js';
import { attack, expectNoneLeft, expectNoTrace, expectRefused, killCarrying, OVERHEAD_MB } from './harness.js';

/**
 * Class 3 of issue 22: a program under `gradcheck --exec` cannot blow the CLI's memory
 * or outlive the run. Each attack is a small Python program (fixtures/code/hostile.py)
 * run through the real CLI; the promises are the peak resident set (/usr/bin/time),
 * the exit code and its one-line message, and no process left: every program gets a
 * unique marker on its command line, and /proc is scanned for it after the run.
 */
const hostile = join(ROOT, 'fixtures', 'code', 'hostile.py');
const M = 0.5; // GiB
const limitMB = M * 1024;
const markers: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ag-programs-'));

function marker(): string {
  const m = `agmark${process.pid}x${markers.length}x${Math.random().toString(36).slice(2, 10)}`;
  markers.push(m);
  return m;
}

/** Wait (at most a minute) until `ok`. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(what);
}

afterAll(() => {
  killCarrying(markers);
  rmSync(dir, { recursive: true, force: true });
});

const exec = (how: string, m = '') => ['gradcheck', '--exec', `python3 ${hostile} ${how} ${m}`.trim()];

// every child has its own time bound; the assertions on time are deadlines with slack, not speed
describe('programs under gradcheck --exec are bounded', { timeout: 300_000 }, () => {
  it(`a correct program at W=randn(300,300) --max-memory ${M}: passes with a peak under the limit + ${OVERHEAD_MB} MB`, async () => {
    const m = marker();
    // no run deadline and a long request time-out: this test is about memory, not the clock
    const r = attack([...exec('sumsq', m), '--at', 'W=randn(300,300)', '--max-memory', String(M), '--timeout', '0', '--request-timeout', '200'], {
      timeoutMs: 280_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/check passed/);
    expectNoTrace(r);
    console.log(`gradcheck --exec W 300×300: peak RSS ${r.peakMB.toFixed(0)} MB, limit ${limitMB} MB`);
    expect(r.peakMB).toBeLessThan(limitMB + OVERHEAD_MB);
    await expectNoneLeft(m);
  });

  it('a request too large for --max-memory is refused before it is written, naming the flag', async () => {
    const m = marker();
    const r = attack([...exec('sumsq', m), '--at', 'W=randn(300,300)', '--max-memory', '0.01', '--timeout', '0']);
    expectRefused(r, /request 1 \(the value at the point\): .*would hold about .* MiB.*--max-memory/, { maxMs: 60_000 });
    await expectNoneLeft(m);
  });

  it('a program that answers twice and stops reading: exit 2 at the request time-out, one line, nothing left', async () => {
    const m = marker();
    const r = attack([...exec('stall', m), '--at', 'W=randn(300,300)', '--max-memory', String(M), '--timeout', '0', '--request-timeout', '8'], {
      timeoutMs: 120_000,
    });
    // the same --request-timeout bounds each answer: 8 s leaves a loaded machine's Python time to answer the first two
    // (at 3 s, load ~20 made request 1 'no answer' instead); generous slack for start-up; without the bound it never ends
    // which bound fires first depends on how much of request 3 the pipe took before the program stalled (load decides):
    // its write never finishing, or an answer never coming; both name the request and the flag
    expectRefused(r, /request [34] \(.*\): (the program stopped reading its input: .*|no answer )within 8 s \(--request-timeout\)/, {
      maxMs: 8_000 + 40_000,
      maxMB: limitMB + OVERHEAD_MB,
    });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    await expectNoneLeft(m);
  });

  it('a program that floods stderr: the CLI keeps a short tail, its memory stays bounded', async () => {
    const m = marker();
    const ok = attack([...exec('flood', m), '--at', 'W=randn(30,30)', '--max-memory', '0.25', '--timeout', '0', '--request-timeout', '100'], {
      timeoutMs: 200_000,
    });
    expect(ok.code, ok.stderr.slice(0, 500)).toBe(0);
    expect(ok.stderr).not.toMatch(/noise/);
    expect(ok.peakMB).toBeLessThan(256 + OVERHEAD_MB);
    const die = attack([...exec('flood-die', m), '--at', 'W=randn(30,30)', '--max-memory', '0.25', '--timeout', '0', '--request-timeout', '100'], {
      timeoutMs: 200_000,
    });
    expectRefused(die, /request 2 \(the gradient at the point\): the program exited with code 1 before answering; its stderr ended with:/, {
      maxMs: 200_000,
      maxMB: 256 + OVERHEAD_MB,
    });
    expect(die.stderr).toMatch(/the last line of a flood/);
    // at most five lines of at most 200 characters from the program
    expect(die.stderr.length).toBeLessThan(2_000);
    await expectNoneLeft(m);
  });

  it('a program that leaves a daemon in its own session (fork, setsid, fork): nothing outlives the run', async () => {
    const m = marker();
    const r = attack([...exec('setsid', m), '--at', 'x=randn(3)', '--timeout', '0'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    await expectNoneLeft(m);
  });

  it('a child in its own session still under the program is ended even without the addon (AUTOGRAD_NATIVE=0)', async () => {
    const m = marker();
    const r = attack([...exec('session', m), '--at', 'x=randn(3)', '--timeout', '0'], { timeoutMs: 120_000, env: { AUTOGRAD_NATIVE: '0' } });
    expect(r.code, r.stderr).toBe(0);
    await expectNoneLeft(m);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} to the CLI while the program runs: the CLI ends by the signal and takes the program with it`, async () => {
      const m = marker();
      const flag = join(dir, `${m}.stalled`);
      const child = spawn(process.execPath, [BIN, ...exec('stall', m), '--at', 'W=randn(30,30)', '--timeout', '0', '--request-timeout', '200'], {
        cwd: ROOT,
        stdio: 'ignore',
        env: { ...process.env, AG_STALLED: flag },
      });
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      // stalled, not reading: the end of its input would not end it
      await until(() => existsSync(flag), `the program with ${m} never stalled`);
      child.kill(sig);
      const e = await ended;
      expect(e.signal).toBe(sig);
      await expectNoneLeft(m);
    });
  }

  it('an uncaught error in a process running a program: the program ends with it', async () => {
    const m = marker();
    const entry = join(dir, 'crash.ts');
    writeFileSync(
      entry,
      `import { existsSync } from 'node:fs';\n` +
        `import { checkProgram } from ${JSON.stringify(join(ROOT, 'src', 'api', 'gradcheck-exec.ts'))};\n` +
        `import { toTensors } from ${JSON.stringify(join(ROOT, 'src', 'subjects', 'formula', 'grad.ts'))};\n` +
        `checkProgram({ exec: ${JSON.stringify(`python3 ${hostile} stall ${m}`)} }, toTensors({ x: [1, 2, 3] }), { requestTimeout: 200, limits: { timeout: 0 } }).catch(() => {});\n` +
        `setInterval(() => { if (existsSync(process.env.AG_STALLED!)) throw new Error('a bug elsewhere'); }, 50);\n`,
    );
    const bundle = join(dir, 'crash.mjs');
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'esbuild'),
      [
        entry,
        '--bundle',
        '--platform=node',
        '--format=esm',
        `--outfile=${bundle}`,
        '--log-level=error',
        '--banner:js=import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
      ],
      { cwd: ROOT },
    );
    const flag = join(dir, `${m}.stalled`);
    const child = spawn(process.execPath, [bundle], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AG_STALLED: flag } });
    let stderr = '';
    child.stderr!.on('data', (s: Buffer) => (stderr += s.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => existsSync(flag), `the program with ${m} never stalled`);
    expect(await ended, stderr).toBe(1);
    expect(stderr).toMatch(/a bug elsewhere/);
    await expectNoneLeft(m);
  });
});
