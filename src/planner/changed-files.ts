import { stat } from 'node:fs/promises';
import { QfError } from '../errors.js';
import { git } from '../util/git.js';

/** Refuses a folder that does not exist or is not inside a git work tree, with what was expected. */
export async function assertGitRepository(repoDir: string): Promise<void> {
  const info = await stat(repoDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new QfError('BAD_INPUT', `Repository folder ${repoDir} does not exist; expected the path of a git checkout (--repo DIR).`);
  const inside = await git(repoDir, ['rev-parse', '--is-inside-work-tree']).catch(() => '');
  if (inside.trim() !== 'true')
    throw new QfError('BAD_INPUT', `${repoDir} is not a git repository; expected a git checkout (run \`git init\` or point --repo at one).`);
}

function splitNul(output: string): string[] {
  return output.split('\0').filter((line) => line.length > 0);
}

/**
 * Files changed between `base` and `head` (three-dot: since their merge base), relative to
 * `repoDir`. Without `head`, the work tree counts too (uncommitted and untracked files).
 * Without `base`, every file git would track counts as changed: a local run plans everything.
 * A missing folder or one outside git is named as such rather than by git's own message; that
 * check runs only when git fails, so a healthy run pays for one git call, not two.
 */
export async function changedFilesFromGit(repoDir: string, base: string | null, head: string | null, options: ChangedFilesOptions = {}): Promise<string[]> {
  try {
    return await listChangedFiles(repoDir, base, head, options);
  } catch (error) {
    await assertGitRepository(repoDir);
    throw error;
  }
}

export interface ChangedFilesOptions {
  /**
   * A repository-relative folder whose untracked files are not part of the change: qf's own output
   * folder, left by an earlier run. Its tracked files (committed by the change) still count.
   */
  ignoreUntrackedUnder?: string;
}

async function listChangedFiles(repoDir: string, base: string | null, head: string | null, options: ChangedFilesOptions): Promise<string[]> {
  const exclude = options.ignoreUntrackedUnder ? ['--', '.', `:(exclude,literal)${options.ignoreUntrackedUnder}`] : [];
  const untracked = async () => splitNul(await git(repoDir, ['ls-files', '--others', '--exclude-standard', '-z', ...exclude]));
  if (!base) {
    if (!options.ignoreUntrackedUnder) return splitNul(await git(repoDir, ['ls-files', '--cached', '--others', '--exclude-standard', '-z'])).sort();
    const [tracked, others] = await Promise.all([git(repoDir, ['ls-files', '--cached', '-z']).then(splitNul), untracked()]);
    return [...new Set([...tracked, ...others])].sort();
  }
  const files = new Set(splitNul(await git(repoDir, ['diff', '--name-only', '--relative', '-z', `${base}...${head ?? 'HEAD'}`])));
  if (!head) {
    for (const file of splitNul(await git(repoDir, ['diff', '--name-only', '--relative', '-z', 'HEAD']))) files.add(file);
    for (const file of await untracked()) files.add(file);
  }
  return [...files].sort();
}
