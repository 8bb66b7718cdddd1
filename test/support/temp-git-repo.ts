import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The folder of fixture projects (small Python projects, each with its policy). */
export const PROJECTS_DIR = fileURLToPath(new URL('../fixtures/projects/', import.meta.url));

/** The repository root (for `qf golden`, `package.json`, …). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'QF Test',
  GIT_AUTHOR_EMAIL: 'qf-test@example.invalid',
  GIT_COMMITTER_NAME: 'QF Test',
  GIT_COMMITTER_EMAIL: 'qf-test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs git in `dir` with a fixed identity; throws with git's own message when it fails. */
export async function runGit(dir: string, args: string[]): Promise<string> {
  const result = await execa('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: GIT_ENV, stdin: 'ignore' });
  return result.stdout;
}

/** A temp folder that `cleanup()` removes. */
export async function tempDir(prefix = 'qf-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TempGitRepo {
  /** Absolute path of the work tree. */
  dir: string;
  /** The commit the fixture was committed as. */
  head: string;
  cleanup: () => Promise<void>;
}

/**
 * Copies `test/fixtures/projects/<fixture>` into a fresh temp folder, `git init`s it and commits
 * every file on branch `main`. The fixture folder itself is never touched.
 */
export async function tempGitRepo(fixture: string): Promise<TempGitRepo> {
  const { dir: parent, cleanup } = await tempDir(`qf-${fixture}-`);
  const dir = path.join(parent, 'repo');
  await cp(path.join(PROJECTS_DIR, fixture), dir, { recursive: true });
  await runGit(dir, ['init', '-q']);
  await runGit(dir, ['add', '-A']);
  await runGit(dir, ['commit', '-q', '-m', `fixture ${fixture}`]);
  const head = (await runGit(dir, ['rev-parse', 'HEAD'])).trim();
  return { dir, head, cleanup };
}
