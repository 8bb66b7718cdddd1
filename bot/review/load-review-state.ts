import { errorMessage } from '../../src/errors.js';
import { callGitHub } from '../../src/github/call-github.js';
import { loadBasePolicy } from '../../src/github/load-base-policy.js';
import type { Policy } from '../../src/policy/schema.js';
import type { PrHoldRow, PrReviewRow } from '../../src/store/index.js';
import { listPullConflicts, type PullConflict } from '../conflicts/pull-conflicts.js';
import { findPlan, type FoundCheckRun } from './find-check-runs.js';
import type { PullRequestInfo, ReviewScope } from './review-types.js';

/** What the bot knows about one pull request at one moment: the inputs of every decision and of the status comment. */
export interface ReviewState {
  pull: PullRequestInfo;
  /** The policy of the base commit; null when it cannot be read (then nobody may approve). */
  policy: Policy | null;
  policyProblem: string | null;
  /** Set when the pull request edits the policy file: its version is not the one used. */
  policyNotice: string | null;
  plan: FoundCheckRun | null;
  /** Every decision on this pull request, all heads, oldest first. */
  reviews: PrReviewRow[];
  hold: PrHoldRow | undefined;
  /** Conflicts across the ingested runs of the head commit (escalated ones need a `/qf resolve`). */
  conflicts: PullConflict[];
}

export async function loadReviewState(scope: ReviewScope, pull: PullRequestInfo, policyPath: string): Promise<ReviewState> {
  const [base, plan, reviews, hold, conflicts] = await Promise.all([
    readBasePolicy(scope, pull, policyPath),
    findPlan(scope, pull.headSha),
    scope.deps.store.listPrReviews(scope.projectId, pull.number),
    scope.deps.store.getPrHold(scope.projectId, pull.headSha),
    listPullConflicts(scope.deps.store, scope.projectId, pull.headSha),
  ]);
  return { pull, ...base, plan, reviews, hold, conflicts };
}

async function readBasePolicy(
  scope: ReviewScope,
  pull: PullRequestInfo,
  path: string,
): Promise<Pick<ReviewState, 'policy' | 'policyProblem' | 'policyNotice'>> {
  try {
    const files = await callGitHub(`list the files of #${pull.number}`, () =>
      scope.octokit.paginate(scope.octokit.rest.pulls.listFiles, { ...scope.repo, pull_number: pull.number, per_page: 100 }),
    );
    const base = await loadBasePolicy({
      octokit: scope.octokit,
      repo: scope.repo,
      path,
      baseSha: pull.baseSha,
      headSha: pull.headSha,
      changedFiles: files.map((file) => file.filename),
    });
    return { policy: base.policy.policy, policyProblem: null, policyNotice: base.notice };
  } catch (error) {
    scope.log.warn({ err: error }, 'the base policy cannot be read');
    return { policy: null, policyProblem: errorMessage(error), policyNotice: null };
  }
}

/** The same state with the store's side read again (after a decision): GitHub's side has not changed. */
export async function refreshReviewState(scope: ReviewScope, state: ReviewState): Promise<ReviewState> {
  const [reviews, hold, conflicts] = await Promise.all([
    scope.deps.store.listPrReviews(scope.projectId, state.pull.number),
    scope.deps.store.getPrHold(scope.projectId, state.pull.headSha),
    listPullConflicts(scope.deps.store, scope.projectId, state.pull.headSha),
  ]);
  return { ...state, reviews, hold, conflicts };
}

/** Decisions that count now: on the head commit, for the plan waiting there. */
export function currentReviews(state: ReviewState): PrReviewRow[] {
  const planHash = state.plan?.externalId;
  return state.reviews.filter((review) => review.headSha === state.pull.headSha && review.planHash === planHash);
}
