import { mkdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { QfError, errorMessage } from '../errors.js';
import type { ContainerPolicy } from '../policy/schema.js';
import { CappedOutput } from './capped-output.js';
import { confineRealPath } from './confine-path.js';
import { containerOptions } from './container-options.js';
import { ContainerOutput } from './container-output.js';
import { describeEngine } from './docker-engine.js';
import { CONTAINER_ISOLATION } from './process-isolation.js';
import { screenEnvValues } from './sandbox-env.js';
import type { OutputRecord, Sandbox, SandboxRequest, SandboxResult } from './types.js';

/** After the container exits, how long its output stream may take to drain before we stop waiting. */
const DRAIN_MS = 5_000;

/** How long the output holder outlives the step's deadline at most, should qf die without removing it. */
const HOLDER_SLACK_SECONDS = 600;

/** The init process exits with this when the command died of SIGKILL (128 + 9). */
const EXIT_SIGKILL = 137;

/** tini (the init process) reports a command it could not exec like this, with exit code 127. */
const TINI_EXEC_FAILED = /\[FATAL tini \(\d+\)\] (exec .* failed: .*)/;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

export interface ContainerSandboxOptions {
  docker: Docker;
  settings: ContainerPolicy;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A socket-level failure talking to the engine (refused, reset, gone), as opposed to a bug of ours. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return statusCode(error) === undefined && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function sink(output: CappedOutput, stream: 'stdout' | 'stderr', request: SandboxRequest): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      output.push(chunk);
      request.onOutput?.(stream, chunk.toString('utf8'));
      callback();
    },
  });
}

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Runs each step in its own hardened container (see containerOptions for the limits) and removes
 * it afterwards, whatever happened. Output is read live through attach and capped like the
 * subprocess sandbox's, so the result has the same shape in both modes.
 *
 * The repository must be readable by the container's non-root user (a checkout normally is, a
 * `mkdtemp` folder is not: 0700). The output folder is not mounted: the step writes to a bounded
 * volume whose regular files are copied into it afterwards (see ContainerOutput).
 */
export class ContainerSandbox implements Sandbox {
  readonly mode = 'container' as const;

  constructor(private readonly options: ContainerSandboxOptions) {}

  async run(request: SandboxRequest): Promise<SandboxResult> {
    const { docker, settings } = this.options;
    const cwd = await confineRealPath(request.repoDir, request.cwd ?? '.', 'working directory');
    const { env, dropped } = screenEnvValues(request.env);
    // qf's own folder: the step never writes to it (its output volume is copied here afterwards).
    await mkdir(request.outputDir, { recursive: true });

    const stdout = new CappedOutput(request.maxOutputBytes);
    const stderr = new CappedOutput(request.maxOutputBytes);
    // From create to exit: the step's cost as the runner sees it, engine work included.
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const screened = { isolation: CONTAINER_ISOLATION, ...(dropped.length > 0 ? { envDropped: dropped } : {}) };
    const notStarted = (reason: string): SandboxResult => ({
      mode: this.mode,
      exitCode: null,
      signal: null,
      timedOut: false,
      oomKilled: false,
      durationMs: elapsed(),
      stdout: stdout.result(),
      stderr: stderr.result(),
      spawnError: reason,
      ...screened,
    });

    let output: ContainerOutput;
    try {
      output = await ContainerOutput.open(docker, settings, request.timeoutMs / 1000 + HOLDER_SLACK_SECONDS);
    } catch (error) {
      const status = statusCode(error);
      if (status === 404 || (status !== undefined && status >= 500) || isConnectionError(error)) throw await this.unavailable(error);
      if (status === undefined) throw error;
      return notStarted(`the output folder's holder container could not start (the image needs a \`sleep\` command): ${errorMessage(error)}`);
    }
    try {
      return { ...(await this.runInContainer({ ...request, env }, cwd, output, stdout, stderr, elapsed, notStarted)), ...screened };
    } finally {
      await output.remove();
    }
  }

  private async runInContainer(
    request: SandboxRequest,
    cwd: string,
    output: ContainerOutput,
    stdout: CappedOutput,
    stderr: CappedOutput,
    elapsed: () => number,
    notStarted: (reason: string) => SandboxResult,
  ): Promise<SandboxResult> {
    const { docker, settings } = this.options;
    let container: Docker.Container;
    try {
      container = await docker.createContainer(containerOptions(request, cwd, settings, settings.image, output.mount(request.outputDir)));
    } catch (error) {
      const status = statusCode(error);
      if (status === 404 || (status !== undefined && status >= 500) || isConnectionError(error)) throw await this.unavailable(error);
      if (status === undefined) throw error;
      return notStarted(errorMessage(error)); // e.g. a mount source that does not exist
    }

    try {
      // Attach before start, so not a byte is missed; stdout and stderr arrive multiplexed (no TTY).
      const withStdin = request.stdin !== undefined;
      const stream = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        ...(withStdin ? { stdin: true, hijack: true } : {}),
      })) as NodeJS.ReadWriteStream;
      const drained = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      docker.modem.demuxStream(stream, sink(stdout, 'stdout', request), sink(stderr, 'stderr', request));

      try {
        await container.start();
      } catch (error) {
        if (isConnectionError(error)) throw await this.unavailable(error);
        if (statusCode(error) === undefined) throw error;
        return notStarted(errorMessage(error)); // the runtime could not start it (e.g. an unreadable working directory)
      }
      // Half-close after writing: the command sees end of input, and its output still flows back.
      if (withStdin) (stream as unknown as { end(chunk: string): void }).end(request.stdin!);

      let timedOut = false;
      const kill = () => void container.kill({ signal: 'SIGKILL' }).catch(() => undefined); // already gone: nothing to kill
      const deadline = setTimeout(() => {
        timedOut = true;
        kill();
      }, request.timeoutMs);
      request.signal?.addEventListener('abort', kill, { once: true });
      if (request.signal?.aborted) kill();
      let waited: { StatusCode?: number };
      try {
        waited = (await container.wait()) as { StatusCode?: number };
      } finally {
        clearTimeout(deadline);
        request.signal?.removeEventListener('abort', kill);
      }
      const durationMs = elapsed();

      // Collect the logs before the container is removed (the finally below).
      await settleWithin(drained, DRAIN_MS);
      const info = await container.inspect();
      const exitCode = info.State.ExitCode ?? waited.StatusCode ?? null;
      // Docker flags a container OOMKilled when the OOM killer ended any process in it. That is the
      // command only if the command itself died of SIGKILL; a child killed while the command went on
      // (and, say, pytest finished its report) leaves the command's own exit standing.
      const cgroupOom = info.State.OOMKilled === true;
      const oomKilled = cgroupOom && !timedOut && exitCode === EXIT_SIGKILL;
      const stderrResult = stderr.result();
      const execFailed = exitCode === 127 ? TINI_EXEC_FAILED.exec(stderrResult.text) : null;

      // The init process exits with 128+n when the command died of signal n; report it as the
      // subprocess sandbox does (exitCode null, the signal's name), so tools see one shape.
      let signal: string | null = null;
      let code: number | null = exitCode;
      if (timedOut || oomKilled) {
        signal = 'SIGKILL';
        code = null;
      } else if (exitCode !== null && exitCode > 128 && SIGNAL_NAMES.has(exitCode - 128)) {
        signal = SIGNAL_NAMES.get(exitCode - 128) ?? null;
        code = null;
      } else if (execFailed) {
        code = null;
      }

      const copied = await output.copyTo(request.outputDir, settings.output_max_files);
      const outputRecord: OutputRecord = { limitBytes: settings.output_mb * 1024 * 1024, maxFiles: settings.output_max_files, ...copied };

      return {
        mode: this.mode,
        exitCode: code,
        signal,
        timedOut,
        oomKilled,
        ...(cgroupOom && !oomKilled ? { oomKilledDescendant: true } : {}),
        durationMs,
        stdout: stdout.result(),
        stderr: stderrResult,
        imageDigest: info.Image,
        output: outputRecord,
        ...(execFailed?.[1] !== undefined ? { spawnError: execFailed[1] } : {}),
      };
    } catch (error) {
      if (isConnectionError(error) || (statusCode(error) ?? 0) >= 500) throw await this.unavailable(error);
      throw error;
    } finally {
      // Forced: at the deadline the container may still be running; removal kills it.
      await container.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  private async unavailable(error: unknown): Promise<QfError> {
    return new QfError(
      'SANDBOX_UNAVAILABLE',
      `The Docker engine at ${await describeEngine(this.options.docker)} failed while running a step in "${this.options.settings.image}": ${errorMessage(error)}`,
      { cause: error },
    );
  }
}
