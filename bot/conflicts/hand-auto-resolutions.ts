import type { ConflictRecord } from '../../src/store/index.js';
import { AuditAction, BOT_ACTOR } from '../bot-constants.js';
import type { ReviewScope } from '../review/review-types.js';
import { createResolutionCheckRun } from './create-resolution-check-run.js';

/** A conflict ADAPTIVE resolved by itself on ingestion (PSMP found it low-risk): the bot is who resolved it. */
export const isAutoResolved = (conflict: ConflictRecord): boolean =>
  conflict.status === 'resolved' && conflict.resolutions.length === 1 && conflict.resolutions[0]!.by === BOT_ACTOR;

/**
 * ADAPTIVE's own resolutions go where a `/qf resolve` goes: each is handed to the Action as a
 * `qualityfoundry/resolution` check run on the head (the engine's resolution is an OVERRIDE: the
 * newer result wins) and audited with who (the bot), the strategy, the reason and the time it took.
 * Once per conflict, whichever replica or redelivery gets here first.
 */
export async function handAutoResolutions(
  scope: ReviewScope,
  conflicts: readonly ConflictRecord[],
  context: { headSha: string; runId: number; shortIds: ReadonlyMap<string, string>; subject: string },
): Promise<void> {
  for (const conflict of conflicts.filter(isAutoResolved)) {
    const claim = `auto-resolution:${conflict.id}`;
    if (!(await scope.deps.store.claim(claim, scope.deps.clock().toISOString()))) continue;
    const resolution = conflict.resolutions[0]!;
    const shortId = context.shortIds.get(conflict.id) ?? conflict.id;
    const checkRun = await createResolutionCheckRun(scope, {
      headSha: context.headSha,
      conflictId: conflict.id,
      strategy: resolution.strategy,
      title: `Conflict ${shortId}: ${resolution.strategy.toLowerCase()} by @${BOT_ACTOR} (adaptive, low risk)`,
      summary: [
        `The policy's mode is ADAPTIVE and PSMP classifies conflict \`${shortId}\` (${conflict.kind}) as low-risk, so @${BOT_ACTOR} resolved it without a human: ${resolution.strategy}.`,
        '',
        `What disagreed: ${conflict.message}.`,
        '',
        // The Action records the `Reason:` line as the resolution's reason: keep it to the reason.
        `Reason: ${resolution.reason}`,
        ...(resolution.winner ? ['', `The newer result wins: \`${resolution.winner}\`.`] : []),
      ].join('\n'),
    }).catch(async (error: unknown) => {
      await scope.deps.store.releaseClaim(claim);
      throw error;
    });
    await scope.deps.auditor(scope.projectId).append({
      actor: BOT_ACTOR,
      action: AuditAction.conflictAutoResolved,
      subject: context.subject,
      data: {
        conflictId: conflict.id,
        shortId,
        kind: conflict.kind,
        strategy: resolution.strategy,
        reason: resolution.reason,
        ...(resolution.winner ? { winner: resolution.winner } : {}),
        headSha: context.headSha,
        runId: context.runId,
        secondsToResolve: Math.round((Date.parse(conflict.resolvedAt ?? resolution.at) - Date.parse(conflict.createdAt)) / 1000),
        checkRunId: checkRun.id,
        externalId: checkRun.externalId,
      },
    });
  }
}
