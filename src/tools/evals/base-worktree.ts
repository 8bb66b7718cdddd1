import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import { git } from '../../util/git.js';

/** A clean checkout of the base commit, for as long as the base's evals run. */
export interface BaseWorktree {
  sha: string;
  dir: string;
  remove(): Promise<void>;
}

/** The hooks of the repository (its config is the runner's, not the pull request's) must not run for a checkout qf makes. */
const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null'];

/**
 * `git worktree add --detach` of the base commit into a temp folder: the committed tree only, none
 * of the head's files or build output. The folder is readable by everyone, as a checkout is, so the
 * container sandbox's user can read it. Returns why not when the commit is not in the repository
 * (a shallow clone) or git fails.
 */
export async function addBaseWorktree(repoDir: string, baseRef: string): Promise<BaseWorktree | string> {
  let sha: string;
  try {
    sha = (await git(repoDir, ['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`])).trim();
  } catch {
    return `the base commit ${baseRef} is not in the repository (a shallow clone? check out with fetch-depth: 0)`;
  }
  const parent = await mkdtemp(path.join(os.tmpdir(), 'qf-base-'));
  await chmod(parent, 0o755);
  const dir = path.join(parent, 'base');
  const remove = async () => {
    await git(repoDir, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    await git(repoDir, ['worktree', 'prune']).catch(() => undefined);
  };
  try {
    await git(repoDir, [...NO_HOOKS, 'worktree', 'add', '--detach', '--force', dir, sha]);
  } catch (error) {
    await remove();
    return `the base commit ${sha.slice(0, 12)} could not be checked out: ${errorMessage(error)}`;
  }
  return { sha, dir, remove };
}
