import { CheckRunName } from '../../src/constants.js';
import { AuditAction } from '../bot-constants.js';
import { reply } from '../review/answer.js';
import { findPullRequestByHeadSha, loadPullRequest } from '../review/load-pull-request.js';
import { loadReviewState } from '../review/load-review-state.js';
import { readBotConfig } from '../review/read-bot-config.js';
import { publishApprovalRequest } from '../review/review-check-runs.js';
import { shortHash } from '../review/review-types.js';
import { pullSubject, updateStatusComment } from '../review/status-comment.js';
import type { HandlerOptions } from './handler-options.js';
import { afterIngestion } from '../ingest/after-ingestion.js';
import { ingestEvidence, workflowRunRef } from '../ingest/ingest-evidence.js';
import { callGitHub } from '../../src/github/call-github.js';
import type { ReviewScope } from '../review/review-types.js';

/**
 * `qualityfoundry/gate` completed: the Action points its details URL at its workflow run, whose
 * evidence is ingested (the same run's workflow_run.completed finds it already recorded).
 */
async function ingestGateRun(
  scope: ReviewScope,
  run: { details_url: string | null; head_sha: string },
  config: () => Promise<{ policy: string }>,
): Promise<void> {
  const match = /\/actions\/runs\/(\d+)/.exec(run.details_url ?? '');
  if (!match) return scope.log.info({ detailsUrl: run.details_url }, 'the gate check run names no workflow run; nothing to ingest');
  const { data } = await callGitHub('read the workflow run', () => scope.octokit.rest.actions.getWorkflowRun({ ...scope.repo, run_id: Number(match[1]) }));
  const ref = workflowRunRef(data, scope.projectId);
  if (ref.headSha !== run.head_sha)
    return scope.log.warn({ runId: ref.runId }, 'the gate check run and its workflow run disagree on the head SHA; not ingested');
  const result = await ingestEvidence(scope, ref, { requireEvidence: true });
  await afterIngestion(scope, ref, result, result.status === 'ingested' ? (await config()).policy : '');
}

/**
 * The workflow published `qualityfoundry/plan` (action_required): a human must act. The bot adds its
 * Approve/Reject buttons (once per head SHA and plan) and the status comment; when that comment
 * already exists, an edit notifies nobody, so one short new comment says a new plan waits.
 */
export async function onCheckRunCompleted({ context, deps, scope }: HandlerOptions<'check_run.completed'>): Promise<void> {
  const run = context.payload.check_run;
  if (run.name === CheckRunName.gate && run.app?.id !== deps.appId) return ingestGateRun(scope, run, () => readBotConfig(context));
  if (run.name !== CheckRunName.plan || run.conclusion !== 'action_required' || !run.external_id || run.app?.id === deps.appId) return;
  const number = run.pull_requests[0]?.number ?? (await findPullRequestByHeadSha(scope, run.head_sha));
  if (number === null) return;
  const pull = await loadPullRequest(scope, number);
  if (pull.headSha !== run.head_sha || !pull.open) return;
  const at = deps.clock().toISOString();
  const claim = `plan:${scope.projectId}:${run.head_sha}:${run.external_id}`;
  if (!(await deps.store.claim(claim, at))) return;
  const config = await readBotConfig(context);
  const state = await loadReviewState(scope, pull, config.policy);
  const needed = state.policy?.approval.count ?? 1;
  const request = await publishApprovalRequest(scope, { headSha: run.head_sha, planHash: run.external_id, needed }).catch(async (error: unknown) => {
    await deps.store.releaseClaim(claim);
    throw error;
  });
  await deps.auditor(scope.projectId).append({
    actor: 'qualityfoundry-bot',
    action: AuditAction.planSeen,
    subject: pullSubject(scope.projectId, number),
    data: { headSha: run.head_sha, planHash: run.external_id, planCheckRunId: run.id, requestCheckRunId: request.id, needed },
  });
  const status = await updateStatusComment(scope, state, { create: true });
  if (status?.existed) {
    await reply(
      scope,
      number,
      `A new plan \`${shortHash(run.external_id)}\` waits for ${needed} approval${needed === 1 ? '' : 's'}: see the [status comment](${status.url}).`,
    );
  }
}
