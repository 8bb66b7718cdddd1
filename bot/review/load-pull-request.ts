import { callGitHub } from '../../src/github/call-github.js';
import type { PullRequestInfo, ReviewScope } from './review-types.js';

/** The pull request as GitHub has it now: the payload of a comment event carries no head SHA. */
export async function loadPullRequest(scope: ReviewScope, number: number): Promise<PullRequestInfo> {
  const { data } = await callGitHub(`read pull request #${number}`, () => scope.octokit.rest.pulls.get({ ...scope.repo, pull_number: number }));
  return pullRequestInfo(data);
}

/** What the bot keeps of a pull request, from the REST answer or a webhook payload (same fields). */
export function pullRequestInfo(pr: {
  number: number;
  head: { sha: string };
  base: { sha: string };
  user: { login: string } | null;
  state: string;
  html_url: string;
}): PullRequestInfo {
  return { number: pr.number, headSha: pr.head.sha, baseSha: pr.base.sha, author: pr.user?.login ?? '', open: pr.state === 'open', htmlUrl: pr.html_url };
}

/** The open pull request whose head is `headSha` (check_run.pull_requests is empty for forks). */
export async function findPullRequestByHeadSha(scope: ReviewScope, headSha: string): Promise<number | null> {
  const pulls = await callGitHub('list open pull requests', () =>
    scope.octokit.paginate(scope.octokit.rest.pulls.list, { ...scope.repo, state: 'open', per_page: 100 }),
  );
  return pulls.find((pull) => pull.head.sha === headSha)?.number ?? null;
}
