import { ExitCode } from '../constants.js';
import type { CliIo } from './cli-io.js';
import { runCommand, RUN_USAGE } from './commands/run.js';
import { exitCodeForError, formatError } from './exit-code-for-error.js';
import { validateCommand } from './commands/validate.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

// `run` is loaded with the CLI; every other command loads when it is used, so a run does not pay
// for JSON Schema generation, the golden set or the store's drivers (sqlite3, pg).
const COMMANDS: Record<string, { run: Command; usage: string }> = {
  run: { run: runCommand, usage: RUN_USAGE },
  validate: { run: validateCommand, usage: 'qf validate FILE...' },
  schema: { run: async (argv, io) => (await import('./commands/schema.js')).schemaCommand(argv, io), usage: 'qf schema [--evidence]' },
  verify: { run: async (argv, io) => (await import('./commands/verify.js')).verifyCommand(argv, io), usage: 'qf verify [--key PUBLIC_KEY.pem] DIR|evidence.json' },
  golden: { run: async (argv, io) => (await import('./commands/golden.js')).goldenCommand(argv, io), usage: 'qf golden [FILE]' },
  metrics: { run: async (argv, io) => (await import('./commands/metrics.js')).metricsCommand(argv, io), usage: 'qf metrics' },
  audit: { run: async (argv, io) => (await import('./commands/audit.js')).auditCommand(argv, io), usage: 'qf audit verify|list [--db PATH | --database-url URL]' },
  report: { run: async (argv, io) => (await import('./commands/report.js')).reportCommand(argv, io), usage: 'qf report --repo OWNER/NAME --since DATE [--until DATE] --format json|md|csv [--db PATH | --database-url URL]' },
  checkpoint: { run: async (argv, io) => (await import('./commands/checkpoint.js')).checkpointCommand(argv, io), usage: 'qf checkpoint list|create|restore … [--db PATH | --database-url URL]' },
};

export const HELP = `qf — QualityFoundry, the evidence-first quality gate

Commands:
${Object.values(COMMANDS).map((command) => `  ${command.usage}`).join('\n')}

Exit codes: 0 pass · 1 gate failed or blocked · 2 bad input or configuration · 3 waiting for a human
`;

/** The CLI without a process: argv in, exit code out. Tests call this directly. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP);
    return name ? ExitCode.pass : ExitCode.badInput;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`qf: unknown command "${name}".\n\n${HELP}`);
    return ExitCode.badInput;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Bad flags from parseArgs arrive as TypeErrors with a code; they are input errors too.
    const flagError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.stderr(flagError ? `qf ${name}: ${(error as Error).message}\nUsage: ${command.usage}\n` : `${formatError(error)}\n`);
    return exitCodeForError(error);
  }
}
