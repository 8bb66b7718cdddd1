import { PlatformLimit, truncateChars } from '../../src/github/limits.js';
import { grammarMarkdown } from '../commands/index.js';
import { STATUS_MARKER } from '../bot-constants.js';
import { currentReviews, type ReviewState } from './load-review-state.js';
import { shortHash, shortSha } from './review-types.js';
import { renderConflicts } from '../conflicts/render-conflicts.js';

/** An approval or other command that did not count, as the audit chain recorded it. */
export interface Refusal {
  by: string;
  verb: string;
  reason: string;
  headSha: string | null;
  at: string;
}

/** A run of the head commit on the bot's dashboard (only when QF_PUBLIC_URL is set). */
export interface RunLink {
  label: string;
  url: string;
}

/**
 * The one status comment of a pull request: the plan, approvals so far and who is still needed, what
 * did not count and why, hold/reject state, links. Rendered from the store and GitHub each time, so
 * it is never stale and an edit of it is the whole update.
 */
export function renderStatus(state: ReviewState, refusals: readonly Refusal[], runLinks: readonly RunLink[] = []): string {
  const { pull, plan, policy } = state;
  const lines = [STATUS_MARKER, '### QualityFoundry review', ''];
  const head = `\`${shortSha(pull.headSha)}\``;
  if (!plan?.externalId) {
    lines.push(`No plan is waiting for approval on the head ${head}.`);
  } else {
    const planLink = plan.htmlUrl ? ` ([plan](${plan.htmlUrl}))` : '';
    lines.push(`**Plan** \`${shortHash(plan.externalId)}\`${planLink} on the head ${head}${plan.title ? `: ${plan.title}` : ''}.`);
  }
  if (state.policyProblem) lines.push('', `⚠️ The policy of the base commit cannot be read, so nobody can approve: ${state.policyProblem}`);
  if (state.policyNotice) lines.push('', `ℹ️ ${state.policyNotice} Approvers are decided by the base commit's policy.`);

  const current = currentReviews(state);
  const rejection = current.find((review) => review.verdict === 'reject');
  const approvals = current.filter((review) => review.verdict === 'approve');
  if (rejection) {
    lines.push('', `⛔ **Rejected** by @${rejection.by}: ${rejection.reason}. The gate reports this plan blocked; a new push makes a new plan.`);
  } else if (plan?.externalId && policy) {
    const needed = policy.approval.count;
    lines.push('', `**Approvals: ${Math.min(approvals.length, needed)} of ${needed}**${approvals.length >= needed ? ' ✅ — the gate runs again.' : ''}`);
    for (const review of approvals)
      lines.push(
        `- @${review.by} (\`${review.permission}\`)${review.commentUrl ? ` — [comment](${review.commentUrl})` : ''}${review.reason ? `: ${review.reason}` : ''}`,
      );
    if (approvals.length < needed) lines.push(`- still needed: ${needed - approvals.length} more from ${whoMayApprove(state)}`);
  }
  if (state.hold?.held)
    lines.push(
      '',
      `⏸️ **Held** by @${state.hold.by}${state.hold.reason ? `: ${state.hold.reason}` : ''}. \`qualityfoundry/hold\` stays in progress until \`/qf unhold\`.`,
    );

  lines.push(...renderConflicts(state));

  const stale = state.reviews.filter((review) => review.headSha !== pull.headSha);
  const didNotCount = [
    ...refusals
      .filter((refusal) => refusal.headSha === null || refusal.headSha === pull.headSha)
      .map((refusal) => `- \`/qf ${refusal.verb}\` by @${refusal.by}: ${refusal.reason}`),
    ...latestPerReviewer(stale).map(
      (review) =>
        `- ${review.verdict === 'approve' ? 'approval' : 'rejection'} by @${review.by} was for ${shortSha(review.headSha)}; the head is now ${shortSha(pull.headSha)}`,
    ),
  ];
  if (didNotCount.length > 0) lines.push('', '**Did not count**', ...didNotCount.slice(-20));
  if (runLinks.length > 0) lines.push('', `**Dashboard**: ${runLinks.map((link) => `[${link.label}](${link.url})`).join(' · ')}`);
  lines.push('', '<details><summary>Commands</summary>', '', grammarMarkdown(), '', '</details>');
  return truncateChars(lines.join('\n'), PlatformLimit.commentChars);
}

function whoMayApprove(state: ReviewState): string {
  const approvers = state.policy!.approval.approvers;
  const named = [...approvers.users.map((user) => `@${user.replace(/^@/, '')}`), ...approvers.teams.map((team) => `team ${team}`)];
  const author = state.policy!.approval.allow_author ? '' : ' (not the author or a commit author)';
  return `someone with \`${approvers.min_permission}\` or higher${named.length ? ` among ${named.join(', ')}` : ''}${author}`;
}

function latestPerReviewer<T extends { by: string }>(rows: readonly T[]): T[] {
  const byLogin = new Map<string, T>();
  for (const row of rows) byLogin.set(row.by.toLowerCase(), row);
  return [...byLogin.values()];
}
