import { isQfError } from '../../src/errors.js';
import { PsmpEngine } from '../../src/governance/index.js';
import type { Strategy } from '../../src/store/index.js';
import { digestOf } from '../../src/util/canonical-json.js';
import { AuditAction } from '../bot-constants.js';
import { mentions } from '../ingest/after-ingestion.js';
import { reply } from '../review/answer.js';
import type { ReviewState } from '../review/load-review-state.js';
import { shortSha, type Actor, type ReviewScope } from '../review/review-types.js';
import { pullSubject } from '../review/status-comment.js';
import { createResolutionCheckRun } from './create-resolution-check-run.js';
import { findConflictByShortId, isUnresolved } from './pull-conflicts.js';

const STRATEGIES: Record<string, Strategy> = { retry: 'RETRY', override: 'OVERRIDE', merge: 'MERGE', escalate: 'ESCALATE' };

export interface ResolveRequest {
  /** What followed `/qf resolve`: `<id> <strategy> [reason]`. */
  args: string;
  actor: Actor;
  permission: string;
  link: string | null;
  refuse(reason: string): never;
  /** Runs the head's gate workflow again (retry). */
  rerunGate(): Promise<void>;
}

/**
 * `/qf resolve`: the strategy applied through the PSMP engine (stored and audited with who, why and
 * how long the conflict waited), then handed to the Action as a `qualityfoundry/resolution` check run
 * on the head SHA whose external_id is `<conflict id>:<STRATEGY>`.
 */
export async function resolveConflict(scope: ReviewScope, state: ReviewState, request: ResolveRequest): Promise<void> {
  const { refuse, actor } = request;
  const [shortId = '', word = '', ...rest] = request.args.trim().split(/\s+/);
  const found = STRATEGIES[word.toLowerCase()];
  if (!found) return refuse(`unknown strategy \`${word}\`; expected retry, override, merge or escalate`);
  const strategy: Strategy = found;
  const open = state.conflicts.filter((entry) => isUnresolved(entry.conflict)).map((entry) => `\`${entry.shortId}\``);
  const conflict = await findConflictByShortId(scope.deps.store, scope.projectId, shortId);
  const onHead = state.conflicts.find((entry) => entry.conflict.id === conflict?.id);
  if (!conflict || !onHead)
    refuse(
      `unknown conflict id \`${shortId}\` on the head ${shortSha(state.pull.headSha)}; ${open.length ? `unresolved here: ${open.join(', ')}` : 'no conflict is unresolved here'}`,
    );
  if (!isUnresolved(conflict!)) refuse(`conflict \`${shortId}\` is already ${conflict!.status}`);
  const given = rest.join(' ');
  if (strategy === 'MERGE' && !given) refuse('`/qf resolve <id> merge <decision>` needs the merged decision as its reason');
  const reason = given || `${word.toLowerCase()} by @${actor.login}`;
  const auditor = scope.deps.auditor(scope.projectId);
  const run = conflict!.runId ? await scope.deps.store.getRun(conflict!.runId) : undefined;
  const mode = run?.mode === 'adaptive' || run?.mode === 'playground' ? run.mode : 'strict';
  const engine = new PsmpEngine(scope.deps.store, { mode, clock: scope.deps.clock, audit: (event) => auditor.append(event) });
  const resolved = await engine
    .resolve(scope.projectId, conflict!.id, {
      strategy,
      by: actor.login,
      reason,
      ...(strategy === 'MERGE' ? { mergedDigest: digestOf({ decision: reason, by: actor.login }), ...(request.link ? { mergedRef: request.link } : {}) } : {}),
    })
    .catch((error: unknown) => (isQfError(error, 'BAD_INPUT') ? refuse(error.message) : Promise.reject(error)));
  const { id: checkRunId, externalId } = await createResolutionCheckRun(scope, {
    headSha: state.pull.headSha,
    conflictId: conflict!.id,
    strategy,
    title: `Conflict ${shortId}: ${strategy.toLowerCase()} by @${actor.login}`,
    summary: `@${actor.login} (permission \`${request.permission}\`) resolved conflict \`${shortId}\` (${conflict!.kind}) with ${strategy}.\n\nReason: ${reason}${request.link ? `\n\n[Where it was given](${request.link})` : ''}`,
  });
  const at = scope.deps.clock();
  await auditor.append({
    actor: actor.login,
    action: AuditAction.conflictResolved,
    subject: pullSubject(scope.projectId, state.pull.number),
    data: {
      conflictId: conflict!.id,
      shortId,
      strategy,
      reason,
      permission: request.permission,
      headSha: state.pull.headSha,
      status: resolved.status,
      secondsToResolve: Math.round((at.getTime() - Date.parse(conflict!.createdAt)) / 1000),
      checkRunId,
      externalId,
      commentUrl: request.link,
    },
  });
  if (strategy === 'RETRY') await request.rerunGate();
  if (strategy === 'ESCALATE') {
    const who = mentions(state, scope.repo.owner);
    await reply(scope, state.pull.number, `${who ? `${who}: ` : ''}@${actor.login} escalated conflict \`${shortId}\`: ${reason}.`);
  }
}
