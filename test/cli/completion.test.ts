import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli } from '../helpers.js';

/** `autograd-cli completion bash|zsh`: yargs's script, which asks the CLI back for the words (--get-yargs-completions). */
describe('completion', () => {
  it('prints a bash script that completes commands, options and their choices in bash itself', () => {
    const r = cli(['completion', 'bash'], { env: { SHELL: '/bin/zsh' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^###-begin-autograd-cli-completions-###$/m);
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _autograd-cli_yargs_completions autograd-cli');
    // the installed command on PATH, as the script calls it
    const bin = mkdtempSync(join(tmpdir(), 'ag-completion-'));
    symlinkSync(BIN, join(bin, 'autograd-cli'));
    writeFileSync(join(bin, 'completion.bash'), r.stdout);
    const complete = (...words: string[]) => {
      const script = `source '${join(bin, 'completion.bash')}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _autograd-cli_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const b = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SHELL: '/bin/bash' } });
      expect(b.status, b.stderr).toBe(0);
      return b.stdout.trim().split('\n').filter(Boolean);
    };
    expect(complete('autograd-cli', 'gra')).toEqual(['grad', 'graph', 'gradcheck', 'grade']);
    expect(complete('autograd-cli', 'check', '--repo')).toEqual(['--reporter']);
    expect(complete('autograd-cli', 'check', '--reporter', 'j')).toEqual(['json', 'junit']);
  });

  it('prints a zsh script (compdef) and answers zsh with descriptions', () => {
    const r = cli(['completion', 'zsh'], { env: { SHELL: '/bin/bash' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#compdef autograd-cli\n')).toBe(true);
    expect(r.stdout).toContain('compdef _autograd-cli_yargs_completions autograd-cli');
    const answers = cli(['--get-yargs-completions', 'autograd-cli', ''], { env: { SHELL: '/bin/zsh' } });
    expect(answers.stdout).toMatch(/^grad:value and gradient by reverse and forward mode/m);
    expect(answers.stdout).toMatch(/^completion:print a completion script/m);
  });

  it("without a shell named, writes $SHELL's; any other shell is a usage error", () => {
    expect(cli(['completion'], { env: { SHELL: '/usr/bin/zsh' } }).stdout.startsWith('#compdef autograd-cli\n')).toBe(true);
    expect(cli(['completion'], { env: { SHELL: '/bin/bash' } }).stdout.startsWith('###-begin-autograd-cli-completions-###')).toBe(true);
    const fish = cli(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toMatch(/^error: completion takes one shell, bash or zsh\n {2}hint: /);
    expect(cli(['completion', 'bash', 'zsh']).code).toBe(2);
    expect(cli(['--help']).stdout).toMatch(/autograd-cli completion +print a completion script for bash or zsh/);
  });
});
