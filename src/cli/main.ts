import { ExitCode } from '../constants.js';
import { exitCodeForError, isQfError, QfError } from '../errors.js';
import type { CliIo } from './cli-io.js';
import { COMMAND_USAGE, type CommandName } from './command-usage.js';
import { qfRunCommand } from './commands/qf-run.js';
import { validateCommand } from './commands/validate.js';
import { jsonErrorDocument, wantsJson } from './json-error.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

// `run` is loaded with the CLI; every other command loads when it is used, so a run does not pay
// for JSON Schema generation, the golden set or the store's drivers (sqlite3, pg).
const COMMANDS: Record<CommandName, Command> = {
  run: qfRunCommand,
  validate: validateCommand,
  schema: async (argv, io) => (await import('./commands/schema.js')).schemaCommand(argv, io),
  verify: async (argv, io) => (await import('./commands/verify.js')).verifyCommand(argv, io),
  golden: async (argv, io) => (await import('./commands/golden.js')).goldenCommand(argv, io),
  metrics: async (argv, io) => (await import('./commands/metrics.js')).metricsCommand(argv, io),
  audit: async (argv, io) => (await import('./commands/audit.js')).auditCommand(argv, io),
  report: async (argv, io) => (await import('./commands/report.js')).reportCommand(argv, io),
  checkpoint: async (argv, io) => (await import('./commands/checkpoint.js')).checkpointCommand(argv, io),
  mcp: async (argv, io) => (await import('./commands/mcp.js')).mcpCommand(argv, io),
  merge: async (argv, io) => (await import('./commands/merge.js')).mergeCommand(argv, io),
};

export const HELP = `qf — QualityFoundry, the evidence-first quality gate

Commands:
${Object.values(COMMAND_USAGE)
  .map((usage) => `  ${usage}`)
  .join('\n')}

Exit codes: 0 pass · 1 gate failed or blocked · 2 bad input or configuration · 3 waiting for a human
            4 GitHub's API or qf itself failed · 130 interrupted (evidence marked incomplete)
`;

const isCommandName = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

/** The CLI without a process: argv in, exit code out. Commands throw; only this formats. Tests call it directly. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP);
    return name ? ExitCode.pass : ExitCode.badInput;
  }
  if (!isCommandName(name)) {
    io.stderr(`qf: unknown command "${name}".\n\n${HELP}`);
    return ExitCode.badInput;
  }
  try {
    return await COMMANDS[name](rest, io);
  } catch (thrown) {
    // Commands parse flags with parseFlags (USAGE errors); a parseArgs TypeError that got through is USAGE too.
    const flagError = (thrown as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const error = flagError ? new QfError('USAGE', (thrown as Error).message, { cause: thrown }) : thrown;
    io.stderr(`${formatError(name, error)}\n`);
    const exitCode = exitCodeForError(error);
    // A script that asked for JSON gets one JSON document on stdout, failures included.
    if (wantsJson(rest)) io.stdout(jsonErrorDocument(error, exitCode));
    return exitCode;
  }
}

function formatError(command: CommandName, error: unknown): string {
  if (isQfError(error, 'USAGE')) return `qf ${command}: ${error.message}\nUsage: ${COMMAND_USAGE[command]}`;
  if (isQfError(error)) return `qf: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `qf: unexpected error: ${message}\nThis is a bug in qf; please report it with the command you ran.`;
}
