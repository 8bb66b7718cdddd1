import type { ArtifactRecord, ConflictRecord } from '../../store/types.js';
import { parseDependency } from './artifact-index.js';
import type { BlockedArtifact, BlockingReport, GovernanceMode } from './types.js';

const UNRESOLVED = new Set(['open', 'retrying', 'escalated']);

/**
 * Which artifacts are blocked and by which conflicts: those a conflict names, then, transitively,
 * those built from a blocked type. The mode turns that into a decision.
 */
export function buildBlockingReport(mode: GovernanceMode, artifacts: readonly ArtifactRecord[], conflicts: readonly ConflictRecord[]): BlockingReport {
  const unresolved = conflicts.filter((c) => UNRESOLVED.has(c.status));
  const byId = new Map(artifacts.map((a) => [a.id, a]));
  const blocked = new Map<string, BlockedArtifact>();
  const blockedTypes = new Map<string, string[]>();
  const block = (artifact: ArtifactRecord, conflictIds: string[], via?: string): boolean => {
    const entry = blocked.get(artifact.id);
    if (entry) {
      const before = entry.blockedBy.length;
      entry.blockedBy = [...new Set([...entry.blockedBy, ...conflictIds])];
      if (entry.blockedBy.length === before) return false;
    } else {
      blocked.set(artifact.id, {
        artifactId: artifact.id,
        type: artifact.type,
        producer: artifact.producer,
        version: artifact.version,
        blockedBy: [...conflictIds],
        ...(via ? { viaDependency: via } : {}),
      });
    }
    blockedTypes.set(artifact.type, [...new Set([...(blockedTypes.get(artifact.type) ?? []), ...conflictIds])]);
    return true;
  };
  for (const conflict of unresolved) {
    for (const id of conflict.artifactIds) {
      const artifact = byId.get(id);
      if (artifact) block(artifact, [conflict.id]);
    }
  }
  // Propagate along dependencies until nothing changes (cycles terminate: sets stop growing).
  for (let changed = true; changed; ) {
    changed = false;
    for (const artifact of artifacts) {
      for (const dependency of artifact.dependsOn) {
        const { type } = parseDependency(dependency);
        const by = type === artifact.type ? undefined : blockedTypes.get(type);
        if (by && block(artifact, by, type)) changed = true;
      }
    }
  }
  const wouldBlock = unresolved.length > 0;
  const onlyEscalated = unresolved.every((c) => c.status === 'escalated');
  const decision = mode === 'playground' || !wouldBlock ? 'proceed' : mode === 'adaptive' && onlyEscalated ? 'waiting_for_human' : 'blocked';
  return {
    mode,
    decision,
    blocked: decision !== 'proceed',
    wouldBlock,
    unresolved,
    blockedArtifacts: [...blocked.values()],
    reasons: unresolved.map((c) => `${c.kind} (${c.status}): ${c.message}`),
  };
}
