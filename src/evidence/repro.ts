import path from 'node:path';
import { git } from '../util/git.js';
import { digestOf } from '../util/canonical-json.js';
import { hashConfinedFile, MAX_STEP_FILE_BYTES } from '../util/open-confined-file.js';
import type { Evidence } from './schema.js';

/** Files whose content pins a Python or Node dependency set. */
const LOCKFILE = /(^|\/)(requirements[^/]*\.txt|poetry\.lock|uv\.lock|Pipfile\.lock|package-lock\.json|pdm\.lock|constraints[^/]*\.txt)$/;

/** git's output, or null where git cannot answer (no commits yet, not a repository). */
async function gitOutput(repoDir: string, args: string[]): Promise<string | null> {
  return git(repoDir, args).then(
    (output) => output.trim(),
    () => null,
  );
}

/** sha256 over the repository's tracked lockfiles: equal fingerprints, equal dependency pins. */
export async function dependencyFingerprint(repoDir: string): Promise<Evidence['repro']['dependencyFingerprint']> {
  const listed = (await gitOutput(repoDir, ['ls-files', '-z'])) ?? '';
  const lockfiles = listed
    .split('\0')
    .filter((file) => LOCKFILE.test(file))
    .sort();
  // The tested code may have swapped a lockfile for a link to a host file or a pipe by now (this runs
  // alongside the first step): each is read only as a regular file inside the repository, else left out.
  const read = await Promise.all(
    lockfiles.map(async (file) => {
      const hashed = await hashConfinedFile(path.join(repoDir, file), { within: repoDir, maxBytes: MAX_STEP_FILE_BYTES }).catch(() => undefined);
      return hashed ? { path: file, sha256: hashed.sha256 } : undefined;
    }),
  );
  const files = read.filter((entry) => entry !== undefined);
  return { sha256: digestOf(files), files };
}

/**
 * Commit, branch and dirty flag from one `git status --porcelain=v2 --branch`: its header names the
 * commit (`(initial)` before the first one) and the branch (`(detached)` off any branch, reported
 * as `HEAD` like `git rev-parse --abbrev-ref HEAD` does); any other line is a changed tracked file.
 */
export async function gitRepro(repoDir: string): Promise<Pick<Evidence['repro'], 'gitSha' | 'branch' | 'dirty'>> {
  const status = await gitOutput(repoDir, ['status', '--porcelain=v2', '--branch', '--untracked-files=no', '--', '.']);
  if (status === null) return { gitSha: null, branch: null, dirty: null };
  const lines = status.split('\n').filter((line) => line.length > 0);
  const header = (name: string) => lines.find((line) => line.startsWith(`# branch.${name} `))?.slice(`# branch.${name} `.length);
  const oid = header('oid');
  const head = header('head');
  return {
    gitSha: oid && oid !== '(initial)' ? oid : null,
    branch: head === '(detached)' ? 'HEAD' : (head ?? null),
    dirty: lines.some((line) => !line.startsWith('#')),
  };
}
