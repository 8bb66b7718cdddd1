import { AuditAction } from '../bot-constants.js';
import { loadReviewState } from '../review/load-review-state.js';
import { readBotConfig } from '../review/read-bot-config.js';
import { pullRequestInfo } from '../review/load-pull-request.js';
import { shortSha } from '../review/review-types.js';
import { pullSubject, updateStatusComment } from '../review/status-comment.js';
import type { HandlerOptions } from './handler-options.js';

/**
 * A push: approvals, rejections and holds were for the old head and no longer count (check runs live
 * on a commit, so this holds by construction). The status comment says so; it is only edited — the
 * new plan, when the workflow publishes it, is what asks people to act.
 */
export async function onPullRequestSynchronize({ context, deps, scope }: HandlerOptions<'pull_request.synchronize'>): Promise<void> {
  const { pull_request: pr, before } = context.payload;
  const reviews = await deps.store.listPrReviews(scope.projectId, pr.number);
  const stale = reviews.filter((review) => review.headSha !== pr.head.sha);
  if (stale.length > 0) {
    await deps.auditor(scope.projectId).append({
      actor: 'qualityfoundry-bot',
      action: AuditAction.stale,
      subject: pullSubject(scope.projectId, pr.number),
      data: { from: before, to: pr.head.sha, reviews: stale.map((review) => ({ by: review.by, verdict: review.verdict, headSha: shortSha(review.headSha) })) },
    });
  }
  const pull = pullRequestInfo(pr);
  const config = await readBotConfig(context);
  await updateStatusComment(scope, await loadReviewState(scope, pull, config.policy), { create: false });
}
