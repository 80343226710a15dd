import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers.js';

/**
 * In a terminal: the CLI bundle loads node:tty and chalk only when first asked
 * (scripts/build.mjs, src/cli/common.ts), so this runs the real bin under a
 * pseudo-terminal of 72 columns (python3's pty) and checks colour and width.
 */
const PTY = `
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 72, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** What chalk's colour detection reads as "running under CI" (supports-color). */
const CI_MARKERS = [
  'CI',
  'CONTINUOUS_INTEGRATION',
  'BUILD_NUMBER',
  'RUN_ID',
  'GITHUB_ACTIONS',
  'GITEA_ACTIONS',
  'CIRCLECI',
  'TRAVIS',
  'APPVEYOR',
  'GITLAB_CI',
  'BUILDKITE',
  'DRONE',
  'CI_NAME',
  'TEAMCITY_VERSION',
  'TF_BUILD',
  'AGENT_NAME',
];

function inTerminal(args: string[], env: Record<string, string | undefined> = {}) {
  const e: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', ...env };
  // a person's terminal: no colour forcing, and no CI marker (chalk gives no colour under CI=true)
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'NODE_OPTIONS', ...CI_MARKERS]) if (!(k in env)) delete e[k];
  const r = spawnSync('python3', ['-c', PTY, process.execPath, BIN, ...args], { env: e as NodeJS.ProcessEnv, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.replace(/\r\n/g, '\n') };
}

describe('in a terminal', () => {
  it("grad is in colour and fits the terminal's 72 columns", () => {
    const r = inTerminal(['grad', 'sum((W*x).^2) + sigmoid(w0*x0 + w1*x1)', '--at', 'W=[[1,2],[3,4]], x=[1,-1], w0=2, x0=-1, w1=-3, x1=-2']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\x1b\[1mvalue\x1b\[22m/);
    const lines = r.out.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(72);
    expect(lines.some((l) => l.length > 60)).toBe(true);
  });

  it('NO_COLOR and --no-color turn colour off there', () => {
    expect(inTerminal(['grad', 'x^2', '--at', 'x=1'], { NO_COLOR: '1' }).out).not.toMatch(/\x1b\[/);
    expect(inTerminal(['grad', 'x^2', '--at', 'x=1', '--no-color']).out).not.toMatch(/\x1b\[/);
  });

  it('an empty NO_COLOR leaves colour on (no-color.org: only a non-empty value turns it off)', () => {
    const r = inTerminal(['grad', 'x^2', '--at', 'x=1'], { NO_COLOR: '' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\x1b\[1mvalue\x1b\[22m/);
  });

  it('graph -f png refuses to write binary to the terminal', () => {
    const r = inTerminal(['graph', 'x^2', '--at', 'x=1', '-f', 'png']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/a PNG is binary/);
  });
});
