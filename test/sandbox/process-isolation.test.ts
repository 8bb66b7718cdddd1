import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectProcessIsolation, type IsolationMechanism } from '../../src/sandbox/process-isolation.js';
import { SubprocessSandbox } from '../../src/sandbox/subprocess-sandbox.js';
import type { SandboxRequest } from '../../src/sandbox/types.js';
import { tempDir } from '../support/temp-git-repo.js';

// Real namespaces, real processes: each attack runs in the subprocess sandbox with each mechanism
// this machine has, and once without isolation to show the attack itself works.

let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir();
  await mkdir(path.join(work.dir, 'repo'), { recursive: true });
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
    timeoutMs: 60_000,
    maxOutputBytes: 64 * 1024,
    ...overrides,
  };
}

/** Reads the environment of this test process (the sandbox's parent), as a hostile test would. */
const READ_PARENT_ENVIRON = `
import ctypes, json, os, sys
target = sys.argv[1]
def attempt():
    try:
        return {"read": b"PATH=" in open(f"/proc/{target}/environ", "rb").read()}
    except OSError as error:
        return {"read": False, "error": error.strerror}
first = attempt()
unmounted = os.getpid() == 1 and ctypes.CDLL(None, use_errno=True).umount2(b"/proc", 2) == 0
print(json.dumps({"pid": os.getpid(), "first": first, "unmounted": unmounted, "after": attempt() if unmounted else None}))
`;

/** A double-forked setsid daemon that ignores SIGTERM and SIGHUP, with `marker` on its command line. */
const DAEMON = (marker: string, then: string) => `
import os, sys, time
child = os.fork()
if child == 0:
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.execv(sys.executable, [sys.executable, "-c", "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\nsignal.signal(signal.SIGHUP, signal.SIG_IGN)\\nwhile True: time.sleep(1)", "${marker}"])
os.waitpid(child, 0)
print("daemon started", flush=True)
${then}
`;

async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'stat,args']);
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.startsWith('Z') && !line.includes('ps -eo'));
}

/** The processes exist while the step runs; their exit takes a moment to show in ps after it. */
async function leftAfterStep(marker: string): Promise<string[]> {
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    left = await processesWith(marker);
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

const mechanisms: IsolationMechanism[] = process.getuid?.() === 0 ? ['user+pid namespace', 'pid namespace'] : ['user+pid namespace'];

describe('detectProcessIsolation', () => {
  it('finds user and PID namespaces on this machine (CI runs where they are allowed)', async () => {
    expect((await detectProcessIsolation()).record).toMatchObject({ mechanism: 'user+pid namespace', hostProcessesProtected: true, descendantsEnded: true });
  });
});

describe('without isolation (the attacks themselves work)', () => {
  const sandbox = new SubprocessSandbox({ isolation: detectProcessIsolation({ only: 'none' }) });

  it('lets tested code read the environment of its parent through /proc', async () => {
    const result = await sandbox.run(request(READ_PARENT_ENVIRON, { args: ['-c', READ_PARENT_ENVIRON, String(process.pid)] }));
    expect(JSON.parse(result.stdout.text)).toMatchObject({ first: { read: true } });
    expect(result.isolation).toMatchObject({ mechanism: 'none', hostProcessesProtected: false, descendantsEnded: false });
    expect(result.isolation?.note).toMatch(/can read the environment of qf/);
  });

  it('lets a setsid daemon outlive the step', async () => {
    const marker = `qf-daemon-${randomBytes(6).toString('hex')}`;
    try {
      const result = await sandbox.run(request(DAEMON(marker, '')));
      expect(result.stdout.text).toBe('daemon started\n');
      expect(await processesWith(marker)).toHaveLength(1);
    } finally {
      await execa('pkill', ['-KILL', '-f', marker], { reject: false });
    }
  });
});

describe.each(mechanisms)('with a %s', (mechanism) => {
  const sandbox = new SubprocessSandbox({ isolation: detectProcessIsolation({ only: mechanism }) });

  it('keeps the environment of its parent out of reach, even after unmounting its /proc', async () => {
    const result = await sandbox.run(request(READ_PARENT_ENVIRON, { args: ['-c', READ_PARENT_ENVIRON, String(process.pid)] }));
    const seen = JSON.parse(result.stdout.text) as { pid: number; first: { read: boolean }; unmounted: boolean; after: { read: boolean } | null };
    expect(result.isolation).toMatchObject({ mechanism, hostProcessesProtected: true, descendantsEnded: true });
    expect(seen.pid).toBe(1);
    expect(seen.first.read).toBe(false);
    // As root of a user namespace it may unmount its own /proc and see the host's: the kernel still refuses the read.
    if (mechanism === 'user+pid namespace') expect(seen).toMatchObject({ unmounted: true, after: { read: false, error: 'Permission denied' } });
    else expect(seen.unmounted).toBe(false); // no capabilities at all
  });

  it.each([
    ['exits', '', {}],
    ['times out', 'time.sleep(600)', { timeoutMs: 3_000 }],
  ] as const)('ends a setsid daemon that ignores SIGTERM when the command %s', async (_case, then, overrides) => {
    const marker = `qf-daemon-${randomBytes(6).toString('hex')}`;
    try {
      const result = await sandbox.run(request(DAEMON(marker, then), overrides));
      expect(result.stdout.text).toBe('daemon started\n');
      expect(result.timedOut).toBe(then !== '');
      expect(await leftAfterStep(marker)).toEqual([]);
    } finally {
      await execa('pkill', ['-KILL', '-f', marker], { reject: false });
    }
  });

  it('ends a setsid daemon that ignores SIGTERM when the step is aborted', async () => {
    const marker = `qf-daemon-${randomBytes(6).toString('hex')}`;
    const abort = new AbortController();
    try {
      const result = await sandbox.run(
        request(DAEMON(marker, 'time.sleep(600)'), { signal: abort.signal, onOutput: (_stream, chunk) => chunk.includes('daemon started') && abort.abort() }),
      );
      expect(result).toMatchObject({ timedOut: false, exitCode: null, signal: 'SIGKILL' });
      expect(await leftAfterStep(marker)).toEqual([]);
    } finally {
      await execa('pkill', ['-KILL', '-f', marker], { reject: false });
    }
  });

  it('reports a command that cannot be started, and keeps exit codes and signals as they are', async () => {
    expect(await sandbox.run(request('', { command: 'qf-no-such-program', args: [] }))).toMatchObject({
      exitCode: null,
      signal: null,
      spawnError: 'failed to execute qf-no-such-program: No such file or directory',
    });
    expect(await sandbox.run(request('import sys; sys.exit(3)'))).toMatchObject({ exitCode: 3, signal: null });
    expect(await sandbox.run(request('import ctypes; ctypes.string_at(0)'))).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
  });
});
