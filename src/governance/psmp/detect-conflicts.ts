import type { ArtifactRecord } from '../../store/types.js';
import { ArtifactIndex, parseDependency } from './artifact-index.js';
import type { DetectedConflict } from './types.js';

const short = (digest: string): string => digest.slice(0, 12);

/**
 * The conflicts `candidate` raises against the artifacts declared before it (`index`, which must
 * not yet hold it). `declaredVersion` is the version the producer claimed, if it claimed one.
 */
export function findConflictsFor(candidate: ArtifactRecord, index: ArtifactIndex, declaredVersion?: number): DetectedConflict[] {
  const found: DetectedConflict[] = [];
  const { type, iteration, producer } = candidate;

  // Same type, same iteration, another producer, other content: two answers to one question.
  const otherProducers = new Map<string, ArtifactRecord>();
  for (const other of index.sameSlot(type, iteration)) {
    if (other.producer !== producer && other.digest !== candidate.digest) otherProducers.set(other.producer, other);
  }
  for (const other of otherProducers.values()) {
    found.push({
      kind: 'duplicate_producer',
      key: `${type}|${iteration}|${other.id}|${candidate.id}`,
      artifactIds: [other.id, candidate.id],
      message: `"${type}" in iteration ${iteration} came from ${other.producer} (digest ${short(other.digest)}) and ${producer} (digest ${short(candidate.digest)}) with different content`,
      details: { type, iteration, producers: [other.producer, producer] },
      lowRisk: false,
    });
  }

  const previous = index.latest(type);
  if (declaredVersion !== undefined && previous && declaredVersion !== previous.version + 1) {
    const newerIteration = iteration > previous.iteration;
    found.push({
      kind: 'version_conflict',
      key: `${type}|declared|${candidate.id}`,
      artifactIds: [previous.id, candidate.id],
      message: `${producer} declared "${type}" as version ${declaredVersion}, but the latest is version ${previous.version} by ${previous.producer} (expected ${previous.version + 1})`,
      details: { type, declaredVersion, latestVersion: previous.version, storedAs: candidate.version },
      lowRisk: previous.producer === producer || newerIteration,
    });
  } else {
    const redeclared = index
      .sameSlot(type, iteration)
      .filter((a) => a.producer === producer && a.digest !== candidate.digest)
      .at(-1);
    if (redeclared) {
      found.push({
        kind: 'version_conflict',
        key: `${type}|redeclared|${candidate.id}`,
        artifactIds: [redeclared.id, candidate.id],
        message: `${producer} re-declared "${type}" in iteration ${iteration} with other content (version ${redeclared.version} → ${candidate.version})`,
        details: { type, reason: 'redeclared', previousVersion: redeclared.version, version: candidate.version },
        lowRisk: true,
      });
    }
  }

  for (const dependency of candidate.dependsOn) {
    if (index.has(dependency, iteration) || parseDependency(dependency).type === type) continue;
    found.push({
      kind: 'missing_dependency',
      key: `${candidate.id}|${dependency}`,
      artifactIds: [candidate.id],
      message: `"${type}" version ${candidate.version} by ${producer} depends on "${dependency}", which nobody has declared`,
      details: { missing: dependency, iteration },
      lowRisk: false,
    });
  }

  const cycle = findCycle(candidate, index);
  if (cycle) {
    const ids = cycle.slice(0, -1).map((t) => (t === type ? candidate.id : (index.latest(t)?.id ?? t)));
    found.push({
      kind: 'circular_dependency',
      key: `cycle|${candidate.id}`,
      artifactIds: ids,
      message: `circular dependency: ${cycle.join(' → ')}`,
      details: { path: cycle },
      lowRisk: false,
    });
  }
  return found;
}

/**
 * A dependency path from the candidate's type back to itself, following the latest artifact of
 * each type (the candidate being the latest of its own), e.g. [a, b, c, a].
 */
export function findCycle(candidate: ArtifactRecord, index: ArtifactIndex): string[] | undefined {
  const start = candidate.type;
  const depsOf = (type: string): string[] => (type === start ? candidate.dependsOn : (index.latest(type)?.dependsOn ?? [])).map((d) => parseDependency(d).type);
  const visited = new Set<string>();
  const path: string[] = [start];
  const walk = (type: string): boolean => {
    for (const next of depsOf(type)) {
      if (next === start) {
        // A self-dependency names an earlier version of itself: not a cycle.
        if (type === start) continue;
        path.push(start);
        return true;
      }
      if (visited.has(next)) continue;
      visited.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  return walk(start) ? path : undefined;
}

/**
 * Every conflict in a list of artifacts, declared in the given order: what PSMP would have raised
 * had they been declared one by one. For sharded runs and in-memory checks.
 */
export function detectConflicts(artifacts: readonly ArtifactRecord[]): DetectedConflict[] {
  const index = new ArtifactIndex();
  const found: DetectedConflict[] = [];
  for (const artifact of artifacts) {
    found.push(...findConflictsFor(artifact, index));
    index.add(artifact);
  }
  return found;
}
