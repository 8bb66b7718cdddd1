import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQfError } from '../../src/errors.js';
import { CappedOutput } from '../../src/sandbox/capped-output.js';
import { confinePath } from '../../src/sandbox/confine-path.js';
import { SubprocessSandbox } from '../../src/sandbox/subprocess-sandbox.js';
import type { SandboxRequest } from '../../src/sandbox/types.js';
import { tempDir } from '../support/temp-git-repo.js';

let work: { dir: string; cleanup: () => Promise<void> };
const sandbox = new SubprocessSandbox();

beforeAll(async () => {
  work = await tempDir();
  await mkdir(path.join(work.dir, 'repo/sub'), { recursive: true });
  await mkdir(path.join(work.dir, 'out'), { recursive: true });
});
afterAll(async () => {
  await work.cleanup();
});

function request(script: string, overrides: Partial<SandboxRequest> = {}): SandboxRequest {
  return {
    command: 'python3',
    args: ['-c', script],
    repoDir: path.join(work.dir, 'repo'),
    outputDir: path.join(work.dir, 'out'),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 30_000,
    maxOutputBytes: 1_024,
    ...overrides,
  };
}

describe('SubprocessSandbox', () => {
  it('returns exit code, output and no timeout for a command that finishes', async () => {
    const result = await sandbox.run(request('import os, sys; print(os.getcwd()); print("oops", file=sys.stderr); sys.exit(4)', { cwd: 'sub' }));
    expect(result).toMatchObject({
      mode: 'subprocess',
      exitCode: 4,
      signal: null,
      timedOut: false,
      oomKilled: false,
      stdout: { text: `${path.join(work.dir, 'repo/sub')}\n`, droppedBytes: 0 },
      stderr: { text: 'oops\n', droppedBytes: 0 },
    });
    expect(result.spawnError).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('passes exactly the environment it is given', async () => {
    const result = await sandbox.run(request('', { command: 'env', args: [], env: { PATH: '/usr/bin:/bin', ONLY_THIS: '1' } }));
    expect(result.stdout.text.split('\n').filter(Boolean).sort()).toEqual(['ONLY_THIS=1', 'PATH=/usr/bin:/bin']);
  });

  it('kills the whole process group at the deadline', async () => {
    const marker = `3600.${randomInt(10_000_000, 99_999_999)}`;
    // sh, not python3: it starts in milliseconds, so "started" is printed well before the deadline on a busy machine.
    const result = await sandbox.run(request('', { command: 'sh', args: ['-c', `sleep ${marker} & echo started; sleep 60`], timeoutMs: 2_000 }));
    // In a PID namespace sh is PID 1, which the kernel spares a SIGTERM it has no handler for: its
    // `sleep 60` dies of the SIGTERM and sh reports that (128 + 15).
    const ended = result.isolation?.mechanism === 'none' ? { exitCode: null, signal: 'SIGTERM' } : { exitCode: 143, signal: null };
    expect(result).toMatchObject({ timedOut: true, ...ended, stdout: { text: 'started\n' } });
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      leftovers = (await execa('ps', ['-eo', 'stat,args'])).stdout.split('\n').filter((line) => line.includes(`sleep ${marker}`) && !line.startsWith('Z'));
      if (leftovers.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers).toEqual([]);
  });

  it('kills descendants left behind by a command that exits on its own', async () => {
    const marker = `3600.${randomInt(10_000_000, 99_999_999)}`;
    // The grandchild inherits stdout: the sandbox must not wait for it until the deadline.
    const result = await sandbox.run(request(`import subprocess; subprocess.Popen(["sleep", "${marker}"]); print("bye")`, { timeoutMs: 20_000 }));
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: { text: 'bye\n' } });
    expect(result.durationMs).toBeLessThan(20_000);
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      leftovers = (await execa('ps', ['-eo', 'stat,args'])).stdout.split('\n').filter((line) => line.includes(`sleep ${marker}`) && !line.startsWith('Z'));
      if (leftovers.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers).toEqual([]);
  });

  it('keeps the tail of a flood of output and counts what it dropped', async () => {
    const result = await sandbox.run(
      request('import sys\nfor i in range(100000): sys.stdout.write(f"line {i:06d}\\n"); sys.stderr.write(f"err {i:06d}\\n")', { maxOutputBytes: 24 }),
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toEqual({ text: 'line 099998\nline 099999\n', droppedBytes: 100_000 * 12 - 24 });
    expect(result.stderr).toEqual({ text: '7\nerr 099998\nerr 099999\n', droppedBytes: 100_000 * 11 - 24 });
  });

  it('hands output over while the command runs', async () => {
    // The command waits for a file that only the output callback creates: output read after the
    // command exits would leave it waiting until the deadline.
    const signal = path.join(work.dir, 'out', `seen-${randomInt(1e9)}`);
    const script = `import os, sys, time\nprint("first", flush=True)\nwhile not os.path.exists(${JSON.stringify(signal)}): time.sleep(0.01)\nprint("second")`;
    const result = await sandbox.run(
      request(script, {
        timeoutMs: 10_000,
        onOutput: (stream, chunk) => {
          if (stream === 'stdout' && chunk.includes('first')) void writeFile(signal, '');
        },
      }),
    );
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: { text: 'first\nsecond\n' } });
  });

  it('does not wait for a descendant that left the process group and kept stdout open', async () => {
    const marker = `3600.${randomInt(10_000_000, 99_999_999)}`;
    const result = await sandbox.run(request(`import subprocess; subprocess.Popen(["setsid", "sleep", "${marker}"]); print("bye")`, { timeoutMs: 60_000 }));
    await execa('pkill', ['-f', `sleep ${marker}`], { reject: false });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: { text: 'bye\n' } });
    expect(result.durationMs).toBeLessThan(30_000);
  });

  it('reports a command that cannot be started', async () => {
    const result = await sandbox.run(request('', { command: 'qf-no-such-program' }));
    expect(result.exitCode).toBeNull();
    expect(result.timedOut).toBe(false);
    expect(result.spawnError).toMatch(/qf-no-such-program.*(ENOENT|No such file or directory)/);
  });

  it('refuses a working directory outside the repository', async () => {
    const error = await sandbox.run(request('', { cwd: '../out' })).catch((caught: unknown) => caught);
    expect(isQfError(error, 'BAD_INPUT')).toBe(true);
    expect((error as Error).message).toBe(`working directory "../out" is outside the repository ${path.join(work.dir, 'repo')}; expected a path inside it.`);
  });
});

describe('confinePath', () => {
  it.each([
    ['.', '/repo'],
    ['sub/dir', '/repo/sub/dir'],
    ['sub/../other', '/repo/other'],
  ])('resolves %s inside the root', (relative, expected) => {
    expect(confinePath('/repo', relative, 'cwd')).toBe(expected);
  });

  it.each(['..', '../x', '/etc', 'sub/../../x'])('refuses %s', (relative) => {
    expect(() => confinePath('/repo', relative, 'cwd')).toThrow(/is outside the repository \/repo/);
  });
});

describe('CappedOutput', () => {
  it('keeps the last bytes across chunk boundaries', () => {
    const output = new CappedOutput(5);
    for (const chunk of ['abc', 'defg', 'hi']) output.push(Buffer.from(chunk));
    expect(output.result()).toEqual({ text: 'efghi', droppedBytes: 4 });
  });

  it('drops nothing under the cap', () => {
    const output = new CappedOutput(10);
    output.push(Buffer.from('hello'));
    expect(output.result()).toEqual({ text: 'hello', droppedBytes: 0 });
  });
});
