/**
 * The sandbox contract. Both implementations (subprocess, container) take the same request and
 * return the same result, so tools never know which one ran them.
 */
import type { IsolationRecord } from './process-isolation.js';
import type { DroppedEnvVar } from './sandbox-env.js';

export interface SandboxRequest {
  /** Executable and arguments; never passed through a shell. */
  command: string;
  args: readonly string[];
  /** Absolute path of the repository; the command's working directory is `cwd` inside it. */
  repoDir: string;
  /** Working directory relative to `repoDir` (default `.`); must stay inside it. */
  cwd?: string;
  /** Absolute path of the one folder the command may write its reports to. */
  outputDir: string;
  /** Environment already filtered through the allowlist (see `buildSandboxEnv`). */
  env: Record<string, string>;
  /** Deadline in milliseconds; at the deadline the whole process group / container is killed. */
  timeoutMs: number;
  /** Keep at most this many bytes of stdout and of stderr each (the tail is kept). */
  maxOutputBytes: number;
  /** Text written to the command's stdin, which is then closed; without it stdin is empty (closed at once). */
  stdin?: string;
  /** Aborting kills the command (the whole process group / the container) at once. */
  signal?: AbortSignal;
  /** Optional live output, for progress lines. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface CapturedOutput {
  /** The kept text: the last `maxOutputBytes` bytes of the stream. */
  text: string;
  /** Bytes dropped because the cap was reached. */
  droppedBytes: number;
}

export interface SandboxResult {
  mode: 'subprocess' | 'container';
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The kernel's OOM killer ended the command itself (container mode only; see oomKilledDescendant). */
  oomKilled: boolean;
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** Container mode only: the image's content digest. */
  imageDigest?: string;
  /** The command could not be started at all (not installed, not executable): what the OS said. */
  spawnError?: string;
  /** Set when the policy allowed a fallback from container to subprocess and it happened. */
  fallbackReason?: string;
  /** How the step's processes were kept from qf's: /proc, and whether every descendant ended with the step. */
  isolation?: IsolationRecord;
  /** Variables the sandbox left out because their value is a credential: names and formats, never values. */
  envDropped?: DroppedEnvVar[];
  /** Container mode: the OOM killer ended a process of the step other than the command; the command's own exit stands. */
  oomKilledDescendant?: boolean;
  /** Container mode: what the step left in its output folder, within the policy's limits, and what was refused. */
  output?: OutputRecord;
}

/** Something a step left in its output folder that qf did not take, and why. */
export interface OutputRefusal {
  path: string;
  reason: string;
}

/** Container mode: the bounds of the output folder and what came out of it. */
export interface OutputRecord {
  limitBytes: number;
  maxFiles: number;
  files: number;
  bytes: number;
  refused: OutputRefusal[];
  /** Refusals beyond the listed ones. */
  refusedUnlisted: number;
}

export interface Sandbox {
  readonly mode: SandboxResult['mode'];
  run(request: SandboxRequest): Promise<SandboxResult>;
}
