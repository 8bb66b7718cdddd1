import { execa } from 'execa';
import { CappedOutput } from './capped-output.js';
import { confinePath } from './confine-path.js';
import { OutputFifos, type OutputStream } from './output-fifos.js';
import type { Sandbox, SandboxRequest, SandboxResult } from './types.js';

/** Grace period between SIGTERM to the process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * Runs a command as a child process in its own process group. At the deadline the whole group is
 * killed, so grandchildren (pytest-xdist workers, a forked server) die with it.
 */
export class SubprocessSandbox implements Sandbox {
  readonly mode = 'subprocess' as const;

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const cwd = confinePath(request.repoDir, request.cwd ?? '.', 'working directory');
    const stdout = new CappedOutput(request.maxOutputBytes);
    const stderr = new CappedOutput(request.maxOutputBytes);

    // Named pipes where the system has them (see OutputFifos for why); ordinary pipes otherwise.
    const fifos = await OutputFifos.open();
    // execa gives an integer to spawn() as the descriptor to use; its types only list 3 to 9.
    const outputFds = fifos ? ({ stdout: fifos.stdio[0], stderr: fifos.stdio[1] } as unknown as { stdout: 3; stderr: 4 }) : {};
    const started = performance.now();
    const child = execa(request.command, [...request.args], {
      cwd,
      env: request.env,
      extendEnv: false,
      detached: true, // own process group, so the deadline can kill every descendant
      reject: false,
      stdin: 'ignore',
      ...outputFds,
      buffer: false,
      stripFinalNewline: false,
    });

    const onChunk = (stream: OutputStream, chunk: Buffer) => {
      (stream === 'stdout' ? stdout : stderr).push(chunk);
      request.onOutput?.(stream, chunk.toString('utf8'));
    };
    let pumping: Promise<void> | undefined;
    if (fifos) {
      await fifos.closeWriteEnds();
      pumping = fifos.pump(onChunk);
    } else {
      child.stdout?.on('data', (chunk: Buffer) => onChunk('stdout', chunk));
      child.stderr?.on('data', (chunk: Buffer) => onChunk('stderr', chunk));
    }

    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    }, request.timeoutMs);

    const abort = () => killGroup('SIGKILL');
    request.signal?.addEventListener('abort', abort, { once: true });
    if (request.signal?.aborted) abort();

    // A descendant that inherited stdout/stderr would keep the pipes open (and the step waiting until
    // the deadline) after the command itself exited: end the group as soon as the command exits.
    child.once('exit', () => killGroup('SIGKILL'));

    const outcome = await child;
    clearTimeout(deadline);
    request.signal?.removeEventListener('abort', abort);
    // A command that exits on its own may leave descendants behind; they must not outlive the step.
    killGroup('SIGKILL');
    if (fifos) {
      fifos.commandExited();
      await pumping?.finally(() => fifos.close());
    }

    const spawnFailed = outcome.failed && outcome.exitCode === undefined && !timedOut && outcome.signal === undefined;
    return {
      mode: this.mode,
      exitCode: outcome.exitCode ?? null,
      signal: outcome.signal ?? null,
      timedOut,
      oomKilled: false,
      durationMs: Math.round(performance.now() - started),
      stdout: stdout.result(),
      stderr: stderr.result(),
      ...(spawnFailed ? { spawnError: outcome.shortMessage ?? outcome.message } : {}),
    };
  }
}
