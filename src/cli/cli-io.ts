/** Where a command writes; tests pass their own to read what a user would see. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The environment the sandbox allowlist picks from; only the CLI's entry point reads process.env. */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: the run stops and writes evidence marked incomplete. */
  signal?: AbortSignal;
  /** The process's own streams, for `qf mcp`, which speaks JSON-RPC over them (every other command writes text through stdout/stderr above). */
  streams?: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream };
  /** stderr is a terminal: progress is one status line rewritten in place, not a line every interval. */
  isTTY?: boolean;
  /** How often a running step reports on a non-terminal stderr; 10 s unless a test shortens it. */
  progressIntervalMs?: number;
}
