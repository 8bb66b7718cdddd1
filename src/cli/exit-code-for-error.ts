import { ExitCode } from '../constants.js';
import { isQfError } from '../errors.js';

/**
 * Every error that reaches the CLI's edge is bad input or configuration (2): verdicts come back as
 * exit codes, not errors. An unexpected error (a bug) exits 2 as well, with a different message.
 */
export function exitCodeForError(_error: unknown): ExitCode {
  return ExitCode.badInput;
}

export function formatError(error: unknown): string {
  if (isQfError(error)) return `qf: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `qf: unexpected error: ${message}\nThis is a bug in qf; please report it with the command you ran.`;
}
