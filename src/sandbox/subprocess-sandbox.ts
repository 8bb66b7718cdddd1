import { CappedOutput } from './capped-output.js';
import { confinePath } from './confine-path.js';
import { launchCommand } from './launch-command.js';
import type { OutputStream } from './output-fifos.js';
import { signalGroup } from './process-group.js';
import type { Sandbox, SandboxRequest, SandboxResult } from './types.js';
import type { WarmPytest } from './warm-pytest.js';

/** Grace period between SIGTERM to the process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;

export interface SubprocessSandboxOptions {
  /** A Python that imported pytest ahead of time; the first pytest step it can run goes to it. */
  warmPytest?: WarmPytest;
}

/**
 * Runs a command as a child process in its own process group. At the deadline the whole group is
 * killed, so grandchildren (pytest-xdist workers, a forked server) die with it.
 */
export class SubprocessSandbox implements Sandbox {
  readonly mode = 'subprocess' as const;

  constructor(private readonly options: SubprocessSandboxOptions = {}) {}

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const cwd = confinePath(request.repoDir, request.cwd ?? '.', 'working directory');
    const stdout = new CappedOutput(request.maxOutputBytes);
    const stderr = new CappedOutput(request.maxOutputBytes);

    const launched = this.options.warmPytest?.claim(request, cwd) ?? launchCommand(request.command, request.args, { cwd, env: request.env });
    const { child, fifos } = launched;
    const started = performance.now();

    const onChunk = (stream: OutputStream, chunk: Buffer) => {
      (stream === 'stdout' ? stdout : stderr).push(chunk);
      request.onOutput?.(stream, chunk.toString('utf8'));
    };
    let pumping: Promise<void> | undefined;
    if (fifos) {
      pumping = fifos.pump(onChunk);
    } else {
      child.stdout?.on('data', (chunk: Buffer) => onChunk('stdout', chunk));
      child.stderr?.on('data', (chunk: Buffer) => onChunk('stderr', chunk));
    }

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
    // the deadline) after the command itself exited: end the group as soon as the command exits.
    child.once('exit', () => signalGroup(child.pid, 'SIGKILL'));

    const outcome = await launched.exited;
    clearTimeout(deadline);
    request.signal?.removeEventListener('abort', abort);
    // A command that exits on its own may leave descendants behind; they must not outlive the step.
    signalGroup(child.pid, 'SIGKILL');
    let warmStart;
    try {
      fifos?.commandExited();
      await pumping;
      warmStart = await launched.warmStart?.();
    } finally {
      await fifos?.close();
    }

    return {
      mode: this.mode,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut,
      oomKilled: false,
      durationMs: Math.round(performance.now() - started),
      stdout: stdout.result(),
      stderr: stderr.result(),
      ...(outcome.spawnError !== undefined && !timedOut ? { spawnError: outcome.spawnError } : {}),
      ...(warmStart ? { warmStart } : {}),
    };
  }
}
