import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { CommandExit, LaunchedCommand } from './launch-command.js';
import { OutputFifos } from './output-fifos.js';
import { signalGroup } from './process-group.js';
import type { SandboxRequest, WarmStart } from './types.js';
import { WARM_PYTEST_LAUNCHER } from './warm-pytest-launcher.js';

const STATUS_FILE = 'warm-start.json';

export interface WarmPytestOptions {
  /** The interpreter a pytest step will name; a step naming another one starts the ordinary way. */
  python: string;
  /** The repository under test: the working directory, from which nothing is imported ahead of time. */
  repoDir: string;
  /** The step's environment as it will be, already filtered through the allowlist. */
  env: Record<string, string>;
}

/**
 * A Python that imports pytest while qf is still loading, reading the policy and planning, and then
 * runs the first pytest step it is handed. Importing pytest costs about 130 ms (bench/results/core.md),
 * and qf's own start-up is about as long: run one after the other they add up, side by side they don't.
 *
 * Until a step claims it, the process has only imported pytest's own modules from outside the
 * repository (see the launcher); a run that waits for approval, uses the container sandbox or has no
 * pytest step discards it. A step with another interpreter, folder or environment is never handed
 * to it; when the working folder has a module named like one already imported, the launcher starts
 * the plain `python -m pytest …` instead. The step's result says which happened (`warmStart`).
 */
export class WarmPytest {
  private taken = false;

  private constructor(
    private readonly options: WarmPytestOptions,
    private readonly launched: LaunchedCommand & { fifos: OutputFifos },
  ) {}

  static start(options: WarmPytestOptions): WarmPytest | undefined {
    // PYTHONPATH's entries are importable before the launcher's first line, and relative ones would
    // resolve against the wrong folder: such a run starts the ordinary way.
    if (options.env.PYTHONPATH) return undefined;
    // Only with named pipes (not on Windows): its output must already go where the step's will.
    const fifos = OutputFifos.open();
    if (!fifos) return undefined;
    // Started where and how the step will run, so that whatever resolves the interpreter (a pyenv
    // shim reading .python-version, say) resolves it the same way. The status file goes to the
    // pipes' private folder, which closing the pipes removes.
    const args = ['-c', WARM_PYTEST_LAUNCHER, path.join(fifos.dir, STATUS_FILE)];
    // Spawned with node:child_process, not execa like every step: this runs before the rest of qf
    // loads, and loading execa first would cost ~15 ms of the head start. Same options as a step's.
    const child = spawn(options.python, args, { cwd: options.repoDir, env: options.env, detached: true, stdio: ['pipe', ...fifos.stdio] });
    // Listening at once: a failed spawn reports on the next tick.
    const exited = new Promise<CommandExit>((resolve) => {
      child.once('error', (error) => resolve({ exitCode: null, signal: null, spawnError: error.message }));
      child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
    });
    child.stdin?.on('error', () => undefined); // a launcher that died is noticed when its result is read
    fifos.closeWriteEnds();
    // Unclaimed, it must never keep qf running: at qf's exit its stdin closes and it ends.
    child.unref();
    (child.stdin as Socket | null)?.unref();
    return new WarmPytest(options, { child, exited, fifos });
  }

  /**
   * The warm process, handed once to a request it was started for: `python -m pytest …` with the same
   * interpreter, working directory and environment. Any other request starts the ordinary way.
   */
  claim(request: SandboxRequest, cwd: string): LaunchedCommand | undefined {
    const { child } = this.launched;
    if (this.taken || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
    const sameRun = request.command === this.options.python && request.args[0] === '-m' && request.args[1] === 'pytest'
      && path.resolve(cwd) === path.resolve(this.options.repoDir) && sameEnv(request.env, this.options.env);
    if (!sameRun) return undefined;
    this.taken = true;
    child.ref();
    child.stdin?.end(JSON.stringify({ command: request.command, args: request.args, env: request.env }));
    return { ...this.launched, warmStart: () => this.readStatus() };
  }

  /** Ends the process when no step claimed it. Safe to call more than once. */
  async discard(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    const { child, fifos } = this.launched;
    child.ref(); // until its exit is seen: an unreferenced child would let qf end before the clean-up
    signalGroup(child.pid, 'SIGKILL');
    await this.launched.exited;
    await fifos.close();
  }

  /** Read by the sandbox after the command exits, before it closes the pipes (and their folder). */
  private async readStatus(): Promise<WarmStart> {
    try {
      return JSON.parse(await readFile(path.join(this.launched.fifos.dir, STATUS_FILE), 'utf8')) as WarmStart;
    } catch {
      return { used: false, reason: 'the warm-started Python ended before it started the command' };
    }
  }
}

function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => b[name] === a[name]);
}
