import { type ParseArgsConfig, parseArgs } from 'node:util';
import { QfError } from '../errors.js';
import { didYouMean } from '../policy/did-you-mean.js';

/** node's message for a flag not among the options: `Unknown option '--bsae'. To specify …`. */
const UNKNOWN_OPTION = /^Unknown option '(-{1,2}[^'=]+)/;

/**
 * `parseArgs` whose errors are a command line that does not fit (USAGE: main() adds the command's
 * usage, exit 2): an unknown flag gets the closest known one (`--bsae` → did you mean --base?).
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    const unknown = UNKNOWN_OPTION.exec((error as Error).message)?.[1];
    if (!unknown) throw new QfError('USAGE', (error as Error).message, { cause: error });
    const suggestion = didYouMean(
      unknown,
      Object.keys(config.options ?? {}).map((name) => `--${name}`),
    );
    throw new QfError('USAGE', `unknown flag ${unknown}${suggestion ? `; did you mean ${suggestion}?` : ''}`, { cause: error });
  }
}
