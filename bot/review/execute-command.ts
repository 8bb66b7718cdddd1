import { errorMessage } from '../../src/errors.js';
import { AuditAction } from '../bot-constants.js';
import { APPROVER_VERBS, grammarMarkdown, type Command } from '../commands/index.js';
import { reactAccepted, reply, replyRefused } from './answer.js';
import { authorizeReviewer } from './authorize-reviewer.js';
import { findGate, findOwnHold, type FoundCheckRun } from './find-check-runs.js';
import { currentReviews, loadReviewState, refreshReviewState, type ReviewState } from './load-review-state.js';
import { loadPullRequest } from './load-pull-request.js';
import { publishHold, publishReviewCheckRun, releaseHoldCheckRun } from './review-check-runs.js';
import { rerunWorkflowOf } from './rerun-workflow.js';
import { pullSubject, updateStatusComment } from './status-comment.js';
import { resolveConflict } from '../conflicts/resolve-conflict.js';
import { sendReport } from '../report/send-report.js';
import { shortHash, shortSha, type Actor, type ReviewScope } from './review-types.js';

/** Where a command came from: a new comment, or a click on the bot's Approve/Reject buttons. */
export type CommandSource =
  | { kind: 'comment'; commentId: number; url: string }
  | { kind: 'button'; checkRunId: number; url: string | null; headSha: string; planHash: string | null };

export interface CommandRequest {
  pullNumber: number;
  actor: Actor;
  command: Command;
  source: CommandSource;
  policyPath: string;
}

class Refused extends Error {}
const refuse = (reason: string): never => {
  throw new Refused(reason);
};

/**
 * Runs one parsed command for one pull request: the same path for comments and buttons, so the
 * authorization is the same. Every outcome is answered (👍 and the status comment, or a reply saying
 * why) and every refusal audited.
 */
export async function executeCommand(scope: ReviewScope, request: CommandRequest): Promise<void> {
  const { command, actor, source } = request;
  if (command.verb === 'help') {
    await reply(scope, request.pullNumber, `@${actor.login} here is what the bot understands:\n\n${grammarMarkdown()}`);
    return;
  }
  const pull = await loadPullRequest(scope, request.pullNumber);
  const state = await loadReviewState(scope, pull, request.policyPath);
  try {
    if (!pull.open) refuse('the pull request is closed');
    const permission = APPROVER_VERBS.has(command.verb) ? await authorize(scope, state, request) : 'none';
    switch (command.verb) {
      case 'approve':
      case 'reject':
        await decide(scope, state, request, command.verb, permission);
        break;
      case 'hold':
        await hold(scope, state, request);
        break;
      case 'unhold':
        await unhold(scope, state, request);
        break;
      case 'retry':
        await retry(scope, state, request);
        break;
      case 'resolve':
        await resolveConflict(scope, state, {
          args: command.reason,
          actor,
          permission,
          link: source.url,
          refuse,
          rerunGate: async () => {
            const gate = await findGate(scope, pull.headSha);
            if (!gate) refuse(`no gate run exists on the head ${shortSha(pull.headSha)} to run again`);
            await rerunOnce(scope, state, gate!, null, actor.login);
          },
        });
        break;
      case 'report':
        await sendReport(scope, { pull, actor, args: command.reason, refuse });
        break;
      case 'status':
        break;
    }
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    await scope.deps.auditor(scope.projectId).append({
      actor: actor.login,
      action: AuditAction.refused,
      subject: pullSubject(scope.projectId, pull.number),
      data: { verb: command.verb, reason: error.message, headSha: pull.headSha, planHash: state.plan?.externalId ?? null, source: sourceData(source) },
    });
    await replyRefused(scope, { pullNumber: pull.number, login: actor.login, lines: [command.line], reason: error.message });
    await updateStatusComment(scope, await refreshReviewState(scope, state), { create: false });
    return;
  }
  // The command is done and recorded; answering is best effort from here. Failing the delivery now
  // would make GitHub's redelivery answer "already decided" instead.
  try {
    if (source.kind === 'comment') await reactAccepted(scope, source.commentId);
    await updateStatusComment(scope, await refreshReviewState(scope, state), { create: true });
  } catch (error) {
    scope.log.warn({ err: error, pull: pull.number }, 'the command was done but could not be answered');
  }
}

async function authorize(scope: ReviewScope, state: ReviewState, request: CommandRequest): Promise<string> {
  if (!state.policy)
    return refuse(
      `the policy of the base commit ${shortSha(state.pull.baseSha)} cannot be read (${state.policyProblem}), so nobody may ${request.command.verb}`,
    );
  const result = await authorizeReviewer(scope, { actor: request.actor, pull: state.pull, policy: state.policy });
  if (!result.ok) return refuse(result.reason);
  return result.permission;
}

async function decide(scope: ReviewScope, state: ReviewState, request: CommandRequest, verdict: 'approve' | 'reject', permission: string): Promise<void> {
  const { pull, plan } = state;
  const { source, actor } = request;
  if (source.kind === 'button' && source.headSha !== pull.headSha) {
    refuse(`the button is on an old head SHA ${shortSha(source.headSha)}; the head is now ${shortSha(pull.headSha)} and needs its own approval`);
  }
  if (!plan?.externalId) refuse(`no plan is waiting for approval on the head ${shortSha(pull.headSha)}`);
  const planHash = plan!.externalId!;
  if (source.kind === 'button' && source.planHash !== planHash) {
    refuse(`the plan changed: the button is for plan ${shortHash(source.planHash ?? 'none')}, the plan waiting now is ${shortHash(planHash)}`);
  }
  const rejection = currentReviews(state).find((review) => review.verdict === 'reject');
  if (rejection) refuse(`plan ${shortHash(planHash)} was rejected by @${rejection.by}: ${rejection.reason}; a new push makes a new plan`);
  const at = scope.deps.clock().toISOString();
  const reason = request.command.reason || (source.kind === 'button' ? `${verdict === 'approve' ? 'approved' : 'rejected'} with the check-run button` : '');
  const commentId = source.kind === 'comment' ? String(source.commentId) : `check-run:${source.checkRunId}`;
  const recorded = await scope.deps.store.transaction(async (tx) => {
    await tx.upsertProject({ id: scope.projectId, createdAt: at });
    const fresh = await tx.recordPrReview({
      projectId: scope.projectId,
      pullNumber: pull.number,
      headSha: pull.headSha,
      planHash,
      by: actor.login,
      verdict,
      permission,
      reason,
      commentId,
      commentUrl: source.url,
      at,
    });
    if (fresh && verdict === 'approve')
      await tx.recordApproval({ projectId: scope.projectId, runId: null, planHash, by: actor.login, permission, at, source: 'bot' });
    return fresh;
  });
  if (!recorded) refuse(`@${actor.login} already decided on plan ${shortHash(planHash)} at ${shortSha(pull.headSha)}; it counts once`);
  const checkRun = await publishReviewCheckRun(scope, { verdict, by: actor.login, headSha: pull.headSha, planHash, reason, permission, link: source.url });
  await scope.deps.auditor(scope.projectId).append({
    actor: actor.login,
    action: verdict === 'approve' ? AuditAction.approved : AuditAction.rejected,
    subject: pullSubject(scope.projectId, pull.number),
    data: { permission, planHash, headSha: pull.headSha, reason, commentId, commentUrl: source.url, checkRunId: checkRun.id },
  });
  const approvals = currentReviews(await refreshReviewState(scope, state)).filter((review) => review.verdict === 'approve');
  // Enough approvals (or a rejection, so the gate says blocked now): the plan's workflow runs again.
  if (verdict === 'reject' || approvals.length >= state.policy!.approval.count)
    await rerunOnce(scope, state, plan!, `${verdict}:${scope.projectId}:${pull.headSha}:${planHash}`, actor.login);
}

/** Re-runs the workflow that produced `checkRun`, once per claim key; a failed re-run gives the claim back. */
async function rerunOnce(scope: ReviewScope, state: ReviewState, checkRun: FoundCheckRun, key: string | null, by: string): Promise<void> {
  if (key !== null && !(await scope.deps.store.claim(`rerun:${key}`, scope.deps.clock().toISOString()))) return;
  try {
    const runId = await rerunWorkflowOf(scope, checkRun);
    await scope.deps.auditor(scope.projectId).append({
      actor: by,
      action: AuditAction.retried,
      subject: pullSubject(scope.projectId, state.pull.number),
      data: { workflowRunId: runId, checkRunId: checkRun.id, headSha: state.pull.headSha, planHash: state.plan?.externalId ?? null },
    });
  } catch (error) {
    if (key !== null) await scope.deps.store.releaseClaim(`rerun:${key}`);
    refuse(`the workflow run could not be started again: ${errorMessage(error)}`);
  }
}

async function hold(scope: ReviewScope, state: ReviewState, request: CommandRequest): Promise<void> {
  const { pull } = state;
  if (state.hold?.held) refuse(`the head ${shortSha(pull.headSha)} is already held by @${state.hold.by}`);
  const at = scope.deps.clock().toISOString();
  await scope.deps.store.upsertProject({ id: scope.projectId, createdAt: at });
  await scope.deps.store.savePrHold({
    projectId: scope.projectId,
    headSha: pull.headSha,
    pullNumber: pull.number,
    held: true,
    by: request.actor.login,
    reason: request.command.reason,
    at,
  });
  const checkRun = await publishHold(scope, { headSha: pull.headSha, by: request.actor.login, reason: request.command.reason });
  await scope.deps.auditor(scope.projectId).append({
    actor: request.actor.login,
    action: AuditAction.held,
    subject: pullSubject(scope.projectId, pull.number),
    data: { headSha: pull.headSha, reason: request.command.reason, checkRunId: checkRun.id, commentUrl: request.source.url },
  });
}

async function unhold(scope: ReviewScope, state: ReviewState, request: CommandRequest): Promise<void> {
  const { pull } = state;
  if (!state.hold?.held) refuse(`the head ${shortSha(pull.headSha)} is not held`);
  const at = scope.deps.clock().toISOString();
  await scope.deps.store.savePrHold({
    projectId: scope.projectId,
    headSha: pull.headSha,
    pullNumber: pull.number,
    held: false,
    by: request.actor.login,
    reason: '',
    at,
  });
  const own = await findOwnHold(scope, pull.headSha);
  if (own) await releaseHoldCheckRun(scope, { checkRunId: own.id, by: request.actor.login });
  await scope.deps.auditor(scope.projectId).append({
    actor: request.actor.login,
    action: AuditAction.released,
    subject: pullSubject(scope.projectId, pull.number),
    data: { headSha: pull.headSha, heldBy: state.hold!.by, checkRunId: own?.id ?? null, commentUrl: request.source.url },
  });
  // The run that reported the hold is over: run the gate again now that nothing holds it.
  const gate = await findGate(scope, pull.headSha);
  if (gate) await rerunOnce(scope, state, gate, null, request.actor.login);
}

async function retry(scope: ReviewScope, state: ReviewState, request: CommandRequest): Promise<void> {
  const gate = await findGate(scope, state.pull.headSha);
  if (!gate) refuse(`no gate run exists on the head ${shortSha(state.pull.headSha)} yet`);
  await rerunOnce(scope, state, gate!, null, request.actor.login);
}

function sourceData(source: CommandSource): Record<string, unknown> {
  return source.kind === 'comment'
    ? { comment: source.commentId, url: source.url }
    : { checkRun: source.checkRunId, url: source.url, headSha: source.headSha, planHash: source.planHash };
}
