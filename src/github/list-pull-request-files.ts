import { callGitHub } from './call-github.js';
import type { RepoRef } from './check-run-types.js';
import type { GitHubClient } from './create-github-client.js';

/**
 * Paths a pull request changes, every page of them (GitHub caps the list at 3000 files). A renamed
 * file counts under both names: moving a file out of a guarded folder changes that folder too.
 */
export async function listPullRequestFiles(octokit: GitHubClient, repo: RepoRef, pullNumber: number): Promise<string[]> {
  const files = await callGitHub('list the pull request files', () =>
    octokit.paginate(octokit.rest.pulls.listFiles, { ...repo, pull_number: pullNumber, per_page: 100 }),
  );
  const paths = new Set<string>();
  for (const file of files) {
    paths.add(file.filename);
    if (file.previous_filename) paths.add(file.previous_filename);
  }
  return [...paths].sort();
}
