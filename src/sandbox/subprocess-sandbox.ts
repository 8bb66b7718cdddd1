import { execa } from 'execa';
import { CappedOutput } from './capped-output.js';
import { confinePath } from './confine-path.js';
import { signalGroup } from './process-group.js';
import type { Sandbox, SandboxRequest, SandboxResult } from './types.js';

/** Grace period between SIGTERM to the process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After the command exits, how long a descendant that left its process group may hold the pipes. */
const LINGER_AFTER_EXIT_MS = 2_000;

/**
 * Runs a command with execa as a child process in its own process group, never through a shell,
 * with exactly the environment given. At the deadline the whole group is killed, so grandchildren
 * (pytest-xdist workers, a forked server) die with it.
 */
export class SubprocessSandbox implements Sandbox {
  readonly mode = 'subprocess' as const;

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const cwd = confinePath(request.repoDir, request.cwd ?? '.', 'working directory');
    const stdout = new CappedOutput(request.maxOutputBytes);
    const stderr = new CappedOutput(request.maxOutputBytes);
    const started = performance.now();

    const child = execa(request.command, [...request.args], {
      cwd,
      env: request.env,
      extendEnv: false,
      detached: true, // its own process group, which the deadline kills whole
      reject: false,
      stdin: 'ignore',
      buffer: false, // the capped outputs below keep what is kept, however much the command prints
      stripFinalNewline: false,
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      request.onOutput?.('stdout', chunk.toString('utf8'));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      request.onOutput?.('stderr', chunk.toString('utf8'));
    });

    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      signalGroup(child.pid, 'SIGTERM');
      setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
    }, request.timeoutMs);

    const abort = () => signalGroup(child.pid, 'SIGKILL');
    request.signal?.addEventListener('abort', abort, { once: true });
    if (request.signal?.aborted) abort();

    // A descendant that inherited stdout/stderr would keep the pipes open (and the step waiting until
    // the deadline) after the command itself exited: end the group as soon as the command exits,
    // and stop reading a little later, for one that left the group (setsid) and cannot be killed.
    let linger: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      signalGroup(child.pid, 'SIGKILL');
      linger = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, LINGER_AFTER_EXIT_MS);
    });

    const outcome = await child;
    clearTimeout(deadline);
    clearTimeout(linger);
    request.signal?.removeEventListener('abort', abort);
    // A command that exits on its own may leave descendants behind; they must not outlive the step.
    signalGroup(child.pid, 'SIGKILL');
    // It could not be started at all (not installed, not executable): no exit code, no signal.
    const neverStarted = outcome.failed && outcome.exitCode === undefined && outcome.signal === undefined;

    return {
      mode: this.mode,
      exitCode: outcome.exitCode ?? null,
      signal: outcome.signal ?? null,
      timedOut,
      oomKilled: false,
      durationMs: Math.round(performance.now() - started),
      stdout: stdout.result(),
      stderr: stderr.result(),
      ...(neverStarted && !timedOut ? { spawnError: outcome.shortMessage ?? outcome.message } : {}),
    };
  }
}
