/**
 * The few error classes of QualityFoundry. Each carries a stable `code` and, where one exists, the
 * `cause`. Messages are for humans: what went wrong, where, and what was expected. Formatting for a
 * terminal or a check run happens at the edge, never here.
 */
import { ExitCode } from './constants.js';

export type QfErrorCode =
  | 'POLICY_INVALID' // policy file unreadable, not YAML, or fails the schema / semantic checks
  | 'USAGE' // a command line that does not fit the command's usage (the edge prints the usage)
  | 'BAD_INPUT' // Action inputs, missing repository, unreadable files
  | 'INTERRUPTED' // the run was stopped by a signal; its evidence is marked incomplete
  | 'TOOL_REFUSED' // tool not in the policy's allowlist, unknown (removed), or its input does not fit
  | 'TOOL_FAILED' // a tool could not produce a result (pytest missing, report missing or truncated)
  | 'SANDBOX_UNAVAILABLE' // requested sandbox cannot run (no engine, no image)
  | 'EVIDENCE_INVALID' // evidence does not match its schema, a digest or the audit chain
  | 'STORE_ERROR' // database unreachable, corrupted, newer schema
  | 'GITHUB_API'; // GitHub answered with an error after retries

/**
 * The one table from error to exit code, used by the CLI's main() and the Action's run(). A refused
 * tool blocks the run like a failed gate would; anything that is not a QfError is a bug (`error`).
 */
export const EXIT_CODE_FOR_ERROR: Readonly<Record<QfErrorCode, ExitCode>> = {
  POLICY_INVALID: ExitCode.badInput,
  USAGE: ExitCode.badInput,
  BAD_INPUT: ExitCode.badInput,
  INTERRUPTED: ExitCode.interrupted,
  TOOL_REFUSED: ExitCode.gateFailed,
  TOOL_FAILED: ExitCode.badInput,
  SANDBOX_UNAVAILABLE: ExitCode.badInput,
  EVIDENCE_INVALID: ExitCode.badInput,
  STORE_ERROR: ExitCode.badInput,
  GITHUB_API: ExitCode.error,
};

export function exitCodeForError(error: unknown): ExitCode {
  return isQfError(error) ? EXIT_CODE_FOR_ERROR[error.code] : ExitCode.error;
}

export class QfError extends Error {
  readonly code: QfErrorCode;
  override readonly cause?: unknown;

  constructor(code: QfErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message);
    this.name = 'QfError';
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isQfError(value: unknown, code?: QfErrorCode): value is QfError {
  return value instanceof QfError && (code === undefined || value.code === code);
}

/** The message of anything thrown, without a stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
