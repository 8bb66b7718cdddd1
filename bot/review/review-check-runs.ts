import { CheckRunName } from '../../src/constants.js';
import { callGitHub } from '../../src/github/call-github.js';
import { PlatformLimit, truncateBytes, truncateChars } from '../../src/github/limits.js';
import { ButtonId } from '../bot-constants.js';
import { shortHash, shortSha, type ReviewScope } from './review-types.js';

/** A check run the bot created, as the status comment links it. */
export interface CreatedCheckRun {
  id: number;
  htmlUrl: string | null;
}

const title = (text: string): string => truncateChars(text, 255);
const summary = (text: string): string => truncateBytes(text, PlatformLimit.checkRunOutputBytes);

/**
 * `qualityfoundry/approval` exactly as the Action reads it: on the head SHA, external_id = planHash,
 * title `Approved by @login` (success) or `Rejected by @login` (failure; the reason in the summary).
 */
export async function publishReviewCheckRun(
  scope: ReviewScope,
  review: { verdict: 'approve' | 'reject'; by: string; headSha: string; planHash: string; reason: string; permission: string; link: string | null },
): Promise<CreatedCheckRun> {
  const approved = review.verdict === 'approve';
  const lines = [
    `${approved ? 'Approved' : 'Rejected'} by @${review.by} (permission \`${review.permission}\`) for plan \`${shortHash(review.planHash)}\` on \`${shortSha(review.headSha)}\`.`,
    review.reason ? `\nReason: ${review.reason}` : '',
    review.link ? `\n[Where it was given](${review.link})` : '',
  ];
  const { data } = await callGitHub(`create the ${CheckRunName.approval} check run`, () =>
    scope.octokit.rest.checks.create({
      ...scope.repo,
      name: CheckRunName.approval,
      head_sha: review.headSha,
      external_id: review.planHash,
      status: 'completed',
      conclusion: approved ? 'success' : 'failure',
      output: { title: title(`${approved ? 'Approved' : 'Rejected'} by @${review.by}`), summary: summary(lines.join('')) },
    }),
  );
  return { id: data.id, htmlUrl: data.html_url ?? null };
}

/**
 * The bot's own request for approval, with Approve/Reject buttons: GitHub sends
 * `check_run.requested_action` only to the app that created the check run, and the plan check run
 * is the workflow's. Its conclusion is action_required, so it never counts as an approval.
 */
export async function publishApprovalRequest(scope: ReviewScope, plan: { headSha: string; planHash: string; needed: number }): Promise<CreatedCheckRun> {
  const { data } = await callGitHub(`create the ${CheckRunName.approval} request`, () =>
    scope.octokit.rest.checks.create({
      ...scope.repo,
      name: CheckRunName.approval,
      head_sha: plan.headSha,
      external_id: plan.planHash,
      status: 'completed',
      conclusion: 'action_required',
      output: {
        title: title(`Waiting for ${plan.needed} approval${plan.needed === 1 ? '' : 's'}`),
        summary: summary(
          `Plan \`${shortHash(plan.planHash)}\` on \`${shortSha(plan.headSha)}\` needs approval. Click Approve or Reject, or comment \`/qf approve\` / \`/qf reject <reason>\`.`,
        ),
      },
      actions: [
        { label: 'Approve', description: 'Approve this plan', identifier: ButtonId.approve },
        { label: 'Reject', description: 'Reject this plan', identifier: ButtonId.reject },
      ],
    }),
  );
  return { id: data.id, htmlUrl: data.html_url ?? null };
}

/** `qualityfoundry/hold` in progress on the head SHA: branch protection can require it to pass. */
export async function publishHold(scope: ReviewScope, hold: { headSha: string; by: string; reason: string }): Promise<CreatedCheckRun> {
  const { data } = await callGitHub(`create the ${CheckRunName.hold} check run`, () =>
    scope.octokit.rest.checks.create({
      ...scope.repo,
      name: CheckRunName.hold,
      head_sha: hold.headSha,
      status: 'in_progress',
      output: {
        title: title(`Held by @${hold.by}`),
        summary: summary(`${hold.reason ? `Reason: ${hold.reason}\n\n` : ''}\`/qf unhold\` releases it.`),
      },
    }),
  );
  return { id: data.id, htmlUrl: data.html_url ?? null };
}

/** Completes the hold check run with success once `/qf unhold` releases it. */
export async function releaseHoldCheckRun(scope: ReviewScope, release: { checkRunId: number; by: string }): Promise<void> {
  await callGitHub(`complete the ${CheckRunName.hold} check run`, () =>
    scope.octokit.rest.checks.update({
      ...scope.repo,
      check_run_id: release.checkRunId,
      status: 'completed',
      conclusion: 'success',
      output: { title: title(`Released by @${release.by}`), summary: 'The hold was released with `/qf unhold`.' },
    }),
  );
}
