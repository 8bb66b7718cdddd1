/**
 * The few error classes of QualityFoundry. Each carries a stable `code` and, where one exists, the
 * `cause`. Messages are for humans: what went wrong, where, and what was expected. Formatting for a
 * terminal or a check run happens at the edge, never here.
 */
export type QfErrorCode =
  | 'POLICY_INVALID' // policy file unreadable, not YAML, or fails the schema / semantic checks
  | 'BAD_INPUT' // CLI flags, Action inputs, missing repository, unreadable files
  | 'TOOL_REFUSED' // tool not in the policy's allowlist, or unknown
  | 'TOOL_FAILED' // a tool could not produce a result (pytest missing, report missing or truncated)
  | 'SANDBOX_UNAVAILABLE' // requested sandbox cannot run (no engine, no image)
  | 'EVIDENCE_INVALID' // evidence does not match its schema, a digest or the audit chain
  | 'STORE_ERROR' // database unreachable, corrupted, newer schema
  | 'GITHUB_API'; // GitHub answered with an error after retries

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
