import { callGitHub } from './call-github.js';
import type { RepoRef } from './check-run-types.js';
import type { GitHubClient } from './create-github-client.js';

export interface PullRequestRef {
  number: number;
  headSha: string;
  baseSha: string;
  baseRef: string;
}

/**
 * The open pull request whose head is `headSha`. `workflow_run.pull_requests` is empty for forks, so
 * we list open pull requests from the head repository's branch and match the SHA exactly.
 */
export async function findPullRequestByHead(
  octokit: GitHubClient,
  repo: RepoRef,
  head: { sha: string; owner: string | undefined; branch: string | undefined },
): Promise<PullRequestRef | null> {
  const pulls = await callGitHub('find the pull request', () =>
    octokit.paginate(octokit.rest.pulls.list, {
      ...repo,
      state: 'open',
      per_page: 100,
      ...(head.owner && head.branch ? { head: `${head.owner}:${head.branch}` } : {}),
    }),
  );
  const pull = pulls.find((candidate) => candidate.head.sha === head.sha);
  return pull ? { number: pull.number, headSha: pull.head.sha, baseSha: pull.base.sha, baseRef: pull.base.ref } : null;
}
