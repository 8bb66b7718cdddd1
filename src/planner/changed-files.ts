import { stat } from 'node:fs/promises';
import { execa } from 'execa';
import { QfError } from '../errors.js';

/** git with the repository's own config unable to run programs (fsmonitor) on our behalf. */
export async function git(repoDir: string, args: string[]): Promise<string> {
  const result = await execa('git', ['-c', 'core.fsmonitor=false', '-c', 'core.quotePath=false', ...args], { cwd: repoDir, reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    throw new QfError('BAD_INPUT', `git ${args.join(' ')} failed in ${repoDir}: ${(result.stderr || result.stdout).trim().split('\n')[0]}`);
  }
  return result.stdout;
}

/** Refuses a folder that does not exist or is not inside a git work tree, with what was expected. */
export async function assertGitRepository(repoDir: string): Promise<void> {
  const info = await stat(repoDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new QfError('BAD_INPUT', `Repository folder ${repoDir} does not exist; expected the path of a git checkout (--repo DIR).`);
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: repoDir, reject: false, stdin: 'ignore' });
  if (inside.stdout.trim() !== 'true') throw new QfError('BAD_INPUT', `${repoDir} is not a git repository; expected a git checkout (run \`git init\` or point --repo at one).`);
}

function splitNul(output: string): string[] {
  return output.split('\0').filter((line) => line.length > 0);
}

/**
 * Files changed between `base` and `head` (three-dot: since their merge base), relative to
 * `repoDir`. Without `head`, the work tree counts too (uncommitted and untracked files).
 * Without `base`, every file git would track counts as changed: a local run plans everything.
 */
export async function changedFilesFromGit(repoDir: string, base: string | null, head: string | null): Promise<string[]> {
  await assertGitRepository(repoDir);
  if (!base) return splitNul(await git(repoDir, ['ls-files', '--cached', '--others', '--exclude-standard', '-z'])).sort();
  const files = new Set(splitNul(await git(repoDir, ['diff', '--name-only', '--relative', '-z', `${base}...${head ?? 'HEAD'}`])));
  if (!head) {
    for (const file of splitNul(await git(repoDir, ['diff', '--name-only', '--relative', '-z', 'HEAD']))) files.add(file);
    for (const file of splitNul(await git(repoDir, ['ls-files', '--others', '--exclude-standard', '-z']))) files.add(file);
  }
  return [...files].sort();
}
