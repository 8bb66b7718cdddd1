import { isQfError } from '../errors.js';
import { confineRealPath } from '../sandbox/confine-path.js';

/**
 * Checks a step's working directory and paths on resolved real paths before anything runs: `../x`,
 * an absolute path or a symlink in the (hostile) repository that leads out of it. Paths are resolved
 * against the working directory, as the tool resolves them. Returns why the step is refused, or
 * undefined when everything stays inside the repository.
 */
export async function confineStepPaths(repoDir: string, cwd: string | undefined, paths: readonly string[] = []): Promise<string | undefined> {
  try {
    const workingDir = await confineRealPath(repoDir, cwd ?? '.', 'working directory');
    for (const entry of paths) await confineRealPath(repoDir, entry, 'test path', workingDir);
    return undefined;
  } catch (error) {
    if (isQfError(error, 'BAD_INPUT')) return error.message;
    throw error;
  }
}
