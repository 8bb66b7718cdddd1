import { execa } from 'execa';
import { CappedOutput } from './capped-output.js';
import { confineRealPath } from './confine-path.js';
import { signalGroup } from './process-group.js';
import { detectProcessIsolation, type ProcessIsolation } from './process-isolation.js';
import { screenEnvValues } from './sandbox-env.js';
import type { Sandbox, SandboxRequest, SandboxResult } from './types.js';

/** Grace period between SIGTERM to the process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After the command exits, how long a descendant that left its process group may hold the pipes. */
const LINGER_AFTER_EXIT_MS = 2_000;

export interface SubprocessSandboxOptions {
  /** How steps are kept from qf's processes; default: the best this machine allows (see detectProcessIsolation). */
  isolation?: Promise<ProcessIsolation>;
}

/**
 * Runs a command with execa as a child process in its own process group, never through a shell,
 * with exactly the environment given (minus values in a credential format). Where the machine
 * allows, the command runs in PID and user namespaces of its own (see ProcessIsolation): it cannot
 * read qf's credentials through /proc, and every process it starts ends with it. At the deadline
 * the whole group is killed, so grandchildren (pytest-xdist workers, a forked server) die with it.
 */
export class SubprocessSandbox implements Sandbox {
  readonly mode = 'subprocess' as const;

  constructor(private readonly options: SubprocessSandboxOptions = {}) {}

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const cwd = await confineRealPath(request.repoDir, request.cwd ?? '.', 'working directory');
    const isolation = await (this.options.isolation ?? detectProcessIsolation());
    const { env, dropped } = screenEnvValues(request.env);
    const launch = isolation.wrap(request.command, request.args);
    const stdout = new CappedOutput(request.maxOutputBytes);
    const stderr = new CappedOutput(request.maxOutputBytes);
    const started = performance.now();

    const child = execa(launch.command, launch.args, {
      cwd,
      env,
      extendEnv: false,
      detached: true, // its own process group, which the deadline kills whole
      reject: false,
      ...(request.stdin !== undefined ? { input: request.stdin } : { stdin: 'ignore' as const }),
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
    const stderrResult = stderr.result();
    const exit = isolation.unwrapExit({ exitCode: outcome.exitCode ?? null, signal: outcome.signal ?? null }, stderrResult.text);
    const spawnError = neverStarted ? (outcome.shortMessage ?? outcome.message) : exit.spawnError;

    return {
      mode: this.mode,
      exitCode: exit.exitCode,
      signal: exit.signal,
      timedOut,
      oomKilled: false,
      durationMs: Math.round(performance.now() - started),
      stdout: stdout.result(),
      stderr: stderrResult,
      isolation: isolation.record,
      ...(dropped.length > 0 ? { envDropped: dropped } : {}),
      ...(spawnError !== undefined && !timedOut ? { spawnError } : {}),
    };
  }
}
