import { QfError } from '../../errors.js';
import type { ArtifactRecord, ConflictRecord, ConflictResolution, StorageBackend } from '../../store/types.js';
import type { ResolutionInput } from './types.js';

const STRATEGIES = new Set(['RETRY', 'OVERRIDE', 'MERGE', 'ESCALATE']);

/**
 * One resolution inside the caller's transaction. Everything is checked before anything is
 * written, so a bad resolution leaves the conflict exactly as it was.
 */
export async function applyResolution(tx: StorageBackend, projectId: string, conflictId: string, input: ResolutionInput, now: string): Promise<ConflictRecord> {
  const conflict = await tx.getConflict(conflictId);
  if (!conflict || conflict.projectId !== projectId) throw bad(`conflict '${conflictId}' does not exist in project '${projectId}'`);
  if (conflict.status === 'resolved' || conflict.status === 'satisfied') {
    const last = conflict.resolutions.at(-1);
    throw bad(
      `conflict '${conflictId}' is already ${conflict.status}${last ? ` (${last.strategy} by ${last.by} at ${last.at})` : ''}; expected an open, retrying or escalated conflict`,
    );
  }
  if (!STRATEGIES.has(input.strategy))
    throw bad(`unknown strategy '${String(input.strategy)}' for conflict '${conflictId}'; expected RETRY, OVERRIDE, MERGE or ESCALATE`);
  if (!input.by?.trim() || !input.reason?.trim()) throw bad(`a ${input.strategy} of conflict '${conflictId}' needs who (by) and why (reason)`);

  const artifacts: ArtifactRecord[] = [];
  for (const id of conflict.artifactIds) {
    const artifact = await tx.getArtifact(id);
    if (!artifact) throw bad(`conflict '${conflictId}' names artifact '${id}', which the store does not hold`);
    artifacts.push(artifact);
  }
  const resolution: ConflictResolution = { strategy: input.strategy, by: input.by, reason: input.reason, at: now };
  let status: ConflictRecord['status'] = 'resolved';
  let escalatedAt = conflict.escalatedAt;

  switch (input.strategy) {
    case 'OVERRIDE': {
      const winner = input.winner ?? conflict.artifactIds.at(-1);
      if (winner === undefined || !conflict.artifactIds.includes(winner)) {
        throw bad(`unknown artifact '${String(winner)}' in the OVERRIDE of conflict '${conflictId}'; expected one of: ${conflict.artifactIds.join(', ')}`);
      }
      resolution.winner = winner;
      break;
    }
    case 'MERGE': {
      if (!input.mergedDigest) throw bad(`a MERGE of conflict '${conflictId}' needs the merged content's digest (mergedDigest)`);
      const first = artifacts[0] as ArtifactRecord;
      const version = Math.max(0, ...(await tx.listArtifacts(projectId)).filter((a) => a.type === first.type).map((a) => a.version)) + 1;
      const merged = await tx.insertArtifact({
        id: `${projectId}:${first.type}@${version}`,
        projectId,
        runId: conflict.runId,
        type: first.type,
        producer: `merge:${input.by}`,
        iteration: Math.max(...artifacts.map((a) => a.iteration)),
        dependsOn: [...new Set(artifacts.flatMap((a) => a.dependsOn))],
        digest: input.mergedDigest,
        ref: input.mergedRef ?? null,
        createdAt: now,
      });
      resolution.mergedArtifactId = merged.id;
      break;
    }
    case 'RETRY':
      status = 'retrying';
      break;
    case 'ESCALATE':
      status = 'escalated';
      escalatedAt = now;
      break;
  }
  const updated: ConflictRecord = {
    ...conflict,
    status,
    escalatedAt,
    resolvedAt: status === 'resolved' ? now : null,
    resolutions: [...conflict.resolutions, resolution],
  };
  await tx.saveConflict(updated);
  return updated;
}

function bad(message: string): QfError {
  return new QfError('BAD_INPUT', message);
}
