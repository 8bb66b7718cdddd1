import { ExitCode } from '../constants.js';
import { isQfError } from '../errors.js';

/** Every error the CLI reports is bad input or configuration (2); anything else is a bug, also 2. */
export function exitCodeForError(error: unknown): ExitCode {
  return isQfError(error) ? ExitCode.badInput : ExitCode.badInput;
}

export function formatError(error: unknown): string {
  if (isQfError(error)) return `qf: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `qf: unexpected error: ${message}\nThis is a bug in qf; please report it with the command you ran.`;
}
