import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { QfError } from '../errors.js';

const execFileAsync = promisify(execFile);

/** Listings of big repositories run to megabytes; git's output is never streamed, so allow plenty. */
const GIT_MAX_BUFFER = 256 << 20;

/**
 * git with the repository's own config unable to run programs (fsmonitor) on our behalf. Plain
 * `execFile`: git is a short, trusted call whose output we read whole (the sandbox, which runs
 * untrusted commands, uses execa).
 */
export async function git(repoDir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', ['-c', 'core.fsmonitor=false', '-c', 'core.quotePath=false', ...args], {
      cwd: repoDir,
      maxBuffer: GIT_MAX_BUFFER,
      encoding: 'utf8',
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message: string };
    const said = (stderr || stdout || message).trim().split('\n')[0];
    throw new QfError('BAD_INPUT', `git ${args.join(' ')} failed in ${repoDir}: ${said}`);
  }
}
