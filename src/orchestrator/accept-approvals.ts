import type { ApprovalRecord } from '../evidence/schema.js';
import type { Policy } from '../policy/schema.js';
import type { ApprovalLookup } from './types.js';

/**
 * Keeps the approvals that count: for this plan, on this head commit, by distinct people, and not
 * by the pull request's author unless the policy allows it. Says why each other one was dropped.
 */
export function acceptApprovals(
  lookup: ApprovalLookup,
  context: { planHash: string; headSha: string | null; author?: string; policy: Policy },
): { accepted: ApprovalRecord[]; notes: string[] } {
  const accepted: ApprovalRecord[] = [];
  const notes = [...lookup.notes];
  const seen = new Set<string>();
  for (const approval of lookup.approvals) {
    if (approval.planHash !== context.planHash)
      notes.push(`Approval by ${approval.by} is for plan ${approval.planHash.slice(0, 12)}, not the current plan ${context.planHash.slice(0, 12)}.`);
    else if (context.headSha && approval.headSha && approval.headSha !== context.headSha)
      notes.push(`Approval by ${approval.by} is for commit ${approval.headSha.slice(0, 7)}, not the head ${context.headSha.slice(0, 7)}.`);
    else if (!context.policy.approval.allow_author && context.author && approval.by.toLowerCase() === context.author.toLowerCase())
      notes.push(`Approval by ${approval.by} does not count: authors may not approve their own change (approval.allow_author is false).`);
    else if (seen.has(approval.by.toLowerCase())) notes.push(`Approval by ${approval.by} counted once.`);
    else {
      seen.add(approval.by.toLowerCase());
      accepted.push(approval);
    }
  }
  return { accepted, notes };
}
