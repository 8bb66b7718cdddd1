import { AuditAction, BOT_ACTOR } from '../bot-constants.js';
import { handAutoResolutions, isAutoResolved } from '../conflicts/hand-auto-resolutions.js';
import { listPullConflicts } from '../conflicts/pull-conflicts.js';
import { reply } from '../review/answer.js';
import { findPullRequestByHeadSha, loadPullRequest } from '../review/load-pull-request.js';
import { loadReviewState, type ReviewState } from '../review/load-review-state.js';
import type { ReviewScope } from '../review/review-types.js';
import { pullSubject, updateStatusComment } from '../review/status-comment.js';
import type { IngestResult, WorkflowRunRef } from './ingest-evidence.js';

/**
 * After a run is recorded: when it raised conflicts that need a human (STRICT: open, ADAPTIVE:
 * escalated), the status comment shows them and ONE new comment per conflict mentions the
 * approvers (an edit of the status comment notifies nobody). Those ADAPTIVE resolved by itself are
 * handed to the Action and shown as auto-resolved, mentioning nobody. PLAYGROUND only records.
 */
export async function afterIngestion(scope: ReviewScope, ref: WorkflowRunRef, result: IngestResult, policyPath: string): Promise<void> {
  if (result.status === 'rejected') scope.log.warn({ runId: ref.runId, attempt: ref.attempt, problems: result.problems }, 'evidence rejected');
  if (result.status !== 'ingested') return;
  scope.log.info({ runId: ref.runId, attempt: ref.attempt, conflicts: result.conflicts.length }, 'evidence ingested');
  const needHuman = result.conflicts.filter((conflict) => conflict.status === 'open' || conflict.status === 'escalated');
  const announce = needHuman.length > 0 && result.evidence.policy.mode !== 'playground';
  const autoResolved = result.conflicts.filter(isAutoResolved);
  const show = announce || autoResolved.length > 0;
  const shortIds = new Map(
    show ? (await listPullConflicts(scope.deps.store, scope.projectId, ref.headSha)).map((entry) => [entry.conflict.id, entry.shortId]) : [],
  );
  // Handed to the Action on the head whether or not a pull request is open for it.
  if (autoResolved.length > 0)
    await handAutoResolutions(scope, autoResolved, { headSha: ref.headSha, runId: ref.runId, shortIds, subject: result.runRecordId });
  // An existing status comment is edited when this run closed a conflict it shows (a dependency now
  // produced, a RETRY answered); with a public URL it also gains the new run's dashboard link.
  if (!show && result.closed.length === 0 && !scope.deps.publicUrl) return;
  const number = await findPullRequestByHeadSha(scope, ref.headSha);
  if (number === null) return;
  const pull = await loadPullRequest(scope, number);
  if (!pull.open || pull.headSha !== ref.headSha) return;
  const state = await loadReviewState(scope, pull, policyPath);
  const status = await updateStatusComment(scope, state, { create: show });
  if (!announce) return;
  for (const conflict of needHuman) {
    // One announcement per conflict, whichever replica or redelivery gets here first.
    if (!(await scope.deps.store.claim(`escalation:${conflict.id}`, scope.deps.clock().toISOString()))) continue;
    const shortId = shortIds.get(conflict.id) ?? conflict.id;
    const who = mentions(state, scope.repo.owner);
    await reply(
      scope,
      number,
      [
        `${who ? `${who}: ` : ''}conflict \`${shortId}\` needs a decision — ${conflict.message}.`,
        `See the [status comment](${status?.url ?? pull.htmlUrl}); resolve with \`/qf resolve ${shortId} <retry|override|merge|escalate> [reason]\`.`,
      ].join('\n'),
    ).catch(async (error: unknown) => {
      await scope.deps.store.releaseClaim(`escalation:${conflict.id}`);
      throw error;
    });
    await scope.deps.auditor(scope.projectId).append({
      actor: BOT_ACTOR,
      action: AuditAction.conflictEscalated,
      subject: pullSubject(scope.projectId, number),
      data: { conflictId: conflict.id, shortId, kind: conflict.kind, status: conflict.status, headSha: ref.headSha, runId: ref.runId, mentioned: who },
    });
  }
}

/** The approvers the base policy names (users and teams); empty when it names nobody. */
export function mentions(state: Pick<ReviewState, 'policy'>, owner: string): string {
  const approvers = state.policy?.approval.approvers;
  if (!approvers) return '';
  return [
    ...approvers.users.map((user) => `@${user.replace(/^@/, '')}`),
    ...approvers.teams.map((team) => `@${team.includes('/') ? team : `${owner}/${team}`}`),
  ].join(' ');
}
