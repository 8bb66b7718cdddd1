import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { OutputFifos } from './output-fifos.js';
import type { WarmStart } from './types.js';

/** How a command ended. */
export interface CommandExit {
  exitCode: number | null;
  signal: string | null;
  /** It could not be started at all (not installed, not executable): what the OS said. */
  spawnError?: string;
}

/** A started command, as the subprocess sandbox supervises it. */
export interface LaunchedCommand {
  child: ChildProcess;
  exited: Promise<CommandExit>;
  /** The named pipes its stdout and stderr go to; undefined where the system has none (ordinary pipes). */
  fifos: OutputFifos | undefined;
  /** Set for a command handed to a warm-started Python: after it exits, how it began. */
  warmStart?: () => Promise<WarmStart>;
}

/**
 * Starts a command with execa in its own process group (so a deadline can kill every descendant),
 * never through a shell, with exactly the environment given.
 */
export function launchCommand(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): LaunchedCommand {
  // Named pipes where the system has them (see OutputFifos for why); ordinary pipes otherwise.
  const fifos = OutputFifos.open();
  // execa gives an integer to spawn() as the descriptor to use; its types only list 3 to 9.
  const outputFds = fifos ? ({ stdout: fifos.stdio[0], stderr: fifos.stdio[1] } as unknown as { stdout: 3; stderr: 4 }) : {};
  const child = execa(command, [...args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    reject: false,
    stdin: 'ignore',
    ...outputFds,
    buffer: false,
    stripFinalNewline: false,
  });
  // Once the command has started it holds its own copies; ours would keep the pipes from ending.
  fifos?.closeWriteEnds();
  const exited = child.then((outcome): CommandExit => {
    const neverStarted = outcome.failed && outcome.exitCode === undefined && outcome.signal === undefined;
    return { exitCode: outcome.exitCode ?? null, signal: outcome.signal ?? null, ...(neverStarted ? { spawnError: outcome.shortMessage ?? outcome.message } : {}) };
  });
  return { child, exited, fifos };
}
