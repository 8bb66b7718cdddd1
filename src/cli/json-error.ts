import type { ExitCode } from '../constants.js';
import { isQfError } from '../errors.js';
import { PolicyError, type PolicyProblem } from '../policy/policy-error.js';

/** What `--json` prints on stdout when a command fails: the one JSON document of that run. */
export interface JsonErrorDocument {
  error: { code: string; message: string; problems: PolicyProblem[] };
  exitCode: ExitCode;
}

/** `--json` was asked for: flags after `--` are arguments, not flags. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

export function jsonErrorDocument(error: unknown, exitCode: ExitCode): string {
  const problems = error instanceof PolicyError ? error.problems.map(({ file, line, column, path, message }) => ({ file, line, column, path, message })) : [];
  const message = error instanceof Error ? error.message : String(error);
  const document: JsonErrorDocument = {
    // A policy's message lists its problems; here they are in `problems`, so the message is its headline.
    error: { code: isQfError(error) ? error.code : 'INTERNAL', message: problems.length > 0 ? message.split('\n')[0]! : message, problems },
    exitCode,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
