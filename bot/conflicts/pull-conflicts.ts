import type { ConflictRecord, StorageBackend } from '../../src/store/index.js';

/** A conflict as reviewers see it: a short id (`c1`) and the runs that disagree. */
export interface PullConflict {
  shortId: string;
  conflict: ConflictRecord;
  /** The workflow runs whose results disagree, oldest first; `shard` names the shard job (`2 of 3`) when a shard's result is involved. */
  runs: Array<{ id: string; url: string | null; verdict: string | null; shard: string | null }>;
  /** The step the conflict is about, when it is about one. */
  step: string | null;
  /** The test, when shards disagree on one. */
  test: string | null;
  /** The shard slot (`unit`, `1 of 2`), when shards claim one with different selections. */
  slot: { step: string; shard: string } | null;
}

const UNRESOLVED = new Set(['open', 'retrying', 'escalated']);

/**
 * Short ids are positions in the repository's conflicts, oldest first (`c1` is the first conflict
 * the store ever recorded for it): stable, because conflicts are never deleted, and short enough
 * to type in `/qf resolve c1 override`.
 */
export async function listPullConflicts(
  store: StorageBackend,
  projectId: string,
  headSha: string,
  options: { unresolvedOnly?: boolean } = {},
): Promise<PullConflict[]> {
  const conflicts = await store.listConflicts(projectId);
  const runs = new Map((await store.listRuns(projectId)).map((run) => [run.id, run]));
  const artifacts = new Map((await store.listArtifacts(projectId)).map((artifact) => [artifact.id, artifact]));
  const found: PullConflict[] = [];
  conflicts.forEach((conflict, index) => {
    const involved = conflict.artifactIds.map((id) => artifacts.get(id)).filter((a) => a !== undefined);
    const runIds = [...new Set(involved.map((a) => a.runId).filter((id): id is string => id !== null))];
    if (!runIds.some((id) => runs.get(id)?.headSha === headSha)) return;
    if (options.unresolvedOnly && !UNRESOLVED.has(conflict.status)) return;
    found.push({
      shortId: `c${index + 1}`,
      conflict,
      runs: runIds.map((id) => {
        const run = runs.get(id);
        const source = run?.data.source as { url?: string } | undefined;
        const shard = /\/shard-(\d+)-of-(\d+)$/.exec(involved.find((a) => a.runId === id)?.producer ?? '');
        return { id, url: source?.url ?? null, verdict: run?.verdict ?? null, shard: shard ? `${shard[1]} of ${shard[2]}` : null };
      }),
      step: typeAfter(involved[0]?.type, 'step:'),
      test: typeAfter(involved[0]?.type, 'test:'),
      slot: slotOf(involved[0]?.type),
    });
  });
  return found;
}

const typeAfter = (type: string | undefined, prefix: string): string | null => (type?.startsWith(prefix) ? type.slice(prefix.length) : null);

/** `shard:<step>:<i>-of-<n>` (see declareShardResults). */
function slotOf(type: string | undefined): PullConflict['slot'] {
  const match = /^shard:(.+):(\d+)-of-(\d+)$/.exec(type ?? '');
  return match ? { step: match[1]!, shard: `${match[2]} of ${match[3]}` } : null;
}

/** Finds a conflict of the repository by its short id (`c3`), whatever its head. */
export async function findConflictByShortId(store: StorageBackend, projectId: string, shortId: string): Promise<ConflictRecord | undefined> {
  const match = /^c(\d+)$/i.exec(shortId);
  if (!match) return undefined;
  return (await store.listConflicts(projectId))[Number(match[1]) - 1];
}

export const isUnresolved = (conflict: ConflictRecord): boolean => UNRESOLVED.has(conflict.status);
