import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QfError } from '../errors.js';
import { assertGitRepository } from '../planner/changed-files.js';
import { git } from '../util/git.js';

/** The commit a ref names, as a full SHA; a ref that names none is bad input. */
export async function resolveCommit(repoDir: string, ref: string, flag: string): Promise<string> {
  const sha = await git(repoDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).catch(() => '');
  if (!/^[0-9a-f]{40,64}$/.test(sha.trim())) await assertGitRepository(repoDir); // a missing folder is named as such
  if (!/^[0-9a-f]{40,64}$/.test(sha.trim()))
    throw new QfError('BAD_INPUT', `${flag} ${ref}: no such commit in ${repoDir}; expected a branch, tag, SHA or HEAD~N.`);
  return sha.trim();
}

/** A clean checkout of one commit, in a temporary git worktree outside the user's work tree. */
export interface HeadCheckout {
  /** The folder to run in: the checkout's counterpart of the repository folder qf was pointed at. */
  dir: string;
  /** Removes the worktree and its temporary folder (and git's record of it). */
  remove(): Promise<void>;
}

/**
 * `qf run --head REF` tests that commit, not whatever the work tree holds: its files are checked
 * out with `git worktree add --detach` into a temporary folder, which `remove()` deletes. When the
 * repository folder is a subfolder of the git work tree, the run uses the same subfolder.
 */
export async function checkoutHead(repoDir: string, sha: string): Promise<HeadCheckout> {
  const prefix = (await git(repoDir, ['rev-parse', '--show-prefix'])).trim();
  const parent = await mkdtemp(path.join(os.tmpdir(), 'qf-head-'));
  const tree = path.join(parent, 'tree');
  const remove = async () => {
    await git(repoDir, ['worktree', 'remove', '--force', tree]).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    // A worktree whose folder is gone is forgotten by git only once pruned.
    await git(repoDir, ['worktree', 'prune']).catch(() => undefined);
  };
  try {
    // The repository's hooks do not run: a checkout for testing is not the user's own checkout.
    await git(repoDir, ['-c', 'core.hooksPath=/dev/null', 'worktree', 'add', '--detach', '--quiet', tree, sha]);
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir: prefix ? path.join(tree, prefix) : tree, remove };
}
