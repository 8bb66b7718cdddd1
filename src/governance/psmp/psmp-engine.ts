import type { AuditEventInput } from '../../audit/audit-chain.js';
import { openStore } from '../../store/open-store.js';
import type { ArtifactRecord, ConflictRecord, StorageBackend } from '../../store/types.js';
import { digestOf } from '../../util/canonical-json.js';
import { ArtifactIndex, parseDependency } from './artifact-index.js';
import { buildBlockingReport } from './blocking-report.js';
import { findConflictsFor } from './detect-conflicts.js';
import { applyResolution } from './apply-resolution.js';
import type { ArtifactDeclaration, AuditSink, BlockingReport, DeclareResult, DetectedConflict, GovernanceMode, ResolutionInput } from './types.js';

export interface PsmpEngineOptions {
  mode: GovernanceMode;
  /** Every declaration, conflict and resolution is audited here. */
  audit?: AuditSink;
  clock?: () => Date;
  /** Who the resolutions ADAPTIVE makes by itself are recorded as (default `psmp`): the bot names itself. */
  autoResolver?: string;
}

/**
 * The project state management protocol: producers declare artifacts, the engine finds the
 * conflicts each declaration raises, the mode decides their status, humans (or ADAPTIVE) resolve
 * them, and the blocking report says what may proceed. All writes of one declaration or
 * resolution happen in one transaction under a per-project lock.
 */
export class PsmpEngine {
  private readonly clock: () => Date;

  constructor(
    readonly store: StorageBackend,
    private readonly options: PsmpEngineOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** An engine over a private in-memory SQLite store, for a run that keeps nothing. */
  static async inMemory(options: PsmpEngineOptions): Promise<PsmpEngine> {
    return new PsmpEngine(await openStore({ dbPath: ':memory:' }), options);
  }

  get mode(): GovernanceMode {
    return this.options.mode;
  }

  async declare(declaration: ArtifactDeclaration): Promise<DeclareResult> {
    const now = this.clock().toISOString();
    const result = await this.store.transaction(async (tx) => {
      await tx.upsertProject({ id: declaration.projectId, createdAt: now });
      const existing = await tx.listArtifacts(declaration.projectId);
      const index = new ArtifactIndex(existing);
      const dependsOn = [...new Set(declaration.dependsOn ?? [])];
      const same = existing.find(
        (a) =>
          a.type === declaration.type &&
          a.producer === declaration.producer &&
          a.iteration === declaration.iteration &&
          a.digest === declaration.digest &&
          digestOf(a.dependsOn) === digestOf(dependsOn),
      );
      if (same) return { artifact: same, unchanged: true, conflicts: [], closed: [] };

      const version = (index.latest(declaration.type)?.version ?? 0) + 1;
      const artifact = await tx.insertArtifact({
        id: `${declaration.projectId}:${declaration.type}@${version}`,
        projectId: declaration.projectId,
        runId: declaration.runId ?? null,
        type: declaration.type,
        producer: declaration.producer,
        iteration: declaration.iteration,
        dependsOn,
        digest: declaration.digest,
        ref: declaration.ref ?? null,
        createdAt: now,
      });
      // A re-declaration that answers a RETRY is what was asked for, not a new conflict.
      const answersRetry = (await tx.listConflicts(declaration.projectId, ['retrying'])).some((c) =>
        c.artifactIds.some((id) => index.byId.get(id)?.type === artifact.type && index.byId.get(id)?.producer === artifact.producer),
      );
      const conflicts = findConflictsFor(artifact, index, declaration.version)
        .filter((found) => !(answersRetry && found.details.reason === 'redeclared'))
        .map((found) => this.toRecord(found, artifact, now));
      for (const conflict of conflicts) await tx.saveConflict(conflict);
      index.add(artifact);
      const closed = await closeSettled(tx, artifact, index, now);
      return { artifact, unchanged: false, conflicts, closed };
    }, `project:${declaration.projectId}`);

    if (!result.unchanged) {
      const { artifact } = result;
      await this.audit({
        actor: artifact.producer,
        action: 'psmp.declared',
        subject: artifact.id,
        at: now,
        data: { type: artifact.type, version: artifact.version, iteration: artifact.iteration, digest: artifact.digest },
      });
      for (const c of result.conflicts) await this.audit(conflictEvent(c, now));
      for (const c of result.closed)
        await this.audit({
          actor: 'psmp',
          action: 'psmp.closed',
          subject: c.id,
          at: now,
          data: { conflictId: c.id, kind: c.kind, status: c.status, by: artifact.id },
        });
    }
    return result;
  }

  /** Applies a strategy to an unresolved conflict. Unknown conflicts or artifacts change nothing. */
  async resolve(projectId: string, conflictId: string, input: ResolutionInput): Promise<ConflictRecord> {
    const now = this.clock().toISOString();
    const resolved = await this.store.transaction((tx) => applyResolution(tx, projectId, conflictId, input, now), `project:${projectId}`);
    const action = input.strategy === 'ESCALATE' ? 'psmp.escalated' : input.strategy === 'RETRY' ? 'psmp.retry' : 'psmp.resolved';
    const last = resolved.resolutions.at(-1);
    await this.audit({
      actor: input.by,
      action,
      subject: conflictId,
      at: now,
      data: {
        conflictId,
        kind: resolved.kind,
        strategy: input.strategy,
        reason: input.reason,
        escalatedAt: resolved.escalatedAt,
        ...(last?.winner ? { winner: last.winner } : {}),
        ...(last?.mergedArtifactId ? { mergedArtifactId: last.mergedArtifactId } : {}),
      },
    });
    return resolved;
  }

  async blockingReport(projectId: string, runId?: string): Promise<BlockingReport> {
    const artifacts = await this.store.listArtifacts(projectId);
    const conflicts = await this.store.listConflicts(projectId);
    const inRun = <T extends { runId: string | null }>(rows: T[]): T[] => (runId === undefined ? rows : rows.filter((r) => r.runId === runId));
    return buildBlockingReport(this.options.mode, inRun(artifacts), inRun(conflicts));
  }

  private toRecord(found: DetectedConflict, artifact: ArtifactRecord, now: string): ConflictRecord {
    const base: ConflictRecord = {
      id: `conflict-${digestOf({ projectId: artifact.projectId, kind: found.kind, key: found.key }).slice(0, 16)}`,
      projectId: artifact.projectId,
      runId: artifact.runId,
      kind: found.kind,
      artifactIds: found.artifactIds,
      message: found.message,
      details: found.details,
      lowRisk: found.lowRisk,
      status: 'open',
      createdAt: now,
      escalatedAt: null,
      resolvedAt: null,
      resolutions: [],
    };
    if (this.options.mode !== 'adaptive') return base;
    if (found.lowRisk) {
      const reason =
        found.details.declaredVersion !== undefined
          ? 'adaptive: a newer iteration or the same producer supersedes'
          : 'adaptive: re-declaration by the same producer';
      const by = this.options.autoResolver ?? 'psmp';
      return { ...base, status: 'resolved', resolvedAt: now, resolutions: [{ strategy: 'OVERRIDE', by, reason, at: now, winner: artifact.id }] };
    }
    return {
      ...base,
      status: 'escalated',
      escalatedAt: now,
      resolutions: [{ strategy: 'ESCALATE', by: this.options.autoResolver ?? 'psmp', reason: 'adaptive: not a low-risk conflict', at: now }],
    };
  }

  private async audit(event: AuditEventInput): Promise<void> {
    if (this.options.audit) await this.options.audit(event);
  }
}

/** Missing dependencies the new artifact provides, and RETRYs its producer has now answered. */
async function closeSettled(tx: StorageBackend, artifact: ArtifactRecord, index: ArtifactIndex, now: string): Promise<ConflictRecord[]> {
  const closed: ConflictRecord[] = [];
  for (const conflict of await tx.listConflicts(artifact.projectId, ['open', 'retrying', 'escalated'])) {
    let update: ConflictRecord | undefined;
    const missing = conflict.kind === 'missing_dependency' ? String(conflict.details.missing) : undefined;
    // Recorded before dependencies were per iteration, a conflict names none: any iteration satisfies it.
    const iteration = typeof conflict.details.iteration === 'number' ? conflict.details.iteration : undefined;
    if (missing !== undefined && parseDependency(missing).type === artifact.type && index.has(missing, iteration)) {
      update = { ...conflict, status: 'satisfied', resolvedAt: now };
    } else if (conflict.status === 'retrying') {
      const retried = conflict.artifactIds
        .map((id) => index.byId.get(id))
        .some((a) => a && a.type === artifact.type && a.producer === artifact.producer && a.id !== artifact.id);
      if (retried) {
        const last = conflict.resolutions.at(-1);
        update = {
          ...conflict,
          status: 'resolved',
          resolvedAt: now,
          resolutions: [
            ...conflict.resolutions.slice(0, -1),
            { ...(last ?? { strategy: 'RETRY', by: 'psmp', reason: 'retried', at: now }), retriedAs: artifact.id },
          ],
        };
      }
    }
    if (update) {
      await tx.saveConflict(update);
      closed.push(update);
    }
  }
  return closed;
}

function conflictEvent(conflict: ConflictRecord, at: string): AuditEventInput {
  const escalated = conflict.status === 'escalated';
  const overridden = conflict.status === 'resolved';
  return {
    actor: 'psmp',
    action: escalated ? 'psmp.escalated' : overridden ? 'psmp.resolved' : 'psmp.conflict',
    subject: conflict.id,
    at,
    data: {
      conflictId: conflict.id,
      kind: conflict.kind,
      status: conflict.status,
      message: conflict.message,
      artifactIds: conflict.artifactIds,
      ...(overridden ? { strategy: 'OVERRIDE', by: conflict.resolutions.at(-1)?.by ?? 'psmp' } : {}),
      ...(escalated ? { strategy: 'ESCALATE' } : {}),
    },
  };
}
