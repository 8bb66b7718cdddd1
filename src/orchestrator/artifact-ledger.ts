import { buildBlockingReport } from '../governance/psmp/blocking-report.js';
import { detectConflicts } from '../governance/psmp/detect-conflicts.js';
import type { ArtifactDeclaration, BlockingReport, GovernanceMode } from '../governance/psmp/types.js';
import type { ArtifactRecord, ConflictRecord } from '../store/types.js';

/**
 * Where a run declares its results as PSMP artifacts. With a store (`qf run --db`), the
 * PsmpEngine keeps them across runs; without one, the run checks its own declarations in memory.
 */
export interface ArtifactLedger {
  declare(declaration: Omit<ArtifactDeclaration, 'projectId'>): Promise<void>;
  report(): Promise<BlockingReport>;
}

/** The in-memory ledger: one run's artifacts, checked with the same conflict rules and modes. */
export function inRunLedger(mode: GovernanceMode, projectId: string, runId: string, now: () => Date): ArtifactLedger {
  const artifacts: ArtifactRecord[] = [];
  // Counted per type: a merge of shards declares one artifact per test, so a scan per declaration would be quadratic.
  const versions = new Map<string, number>();
  return {
    async declare(declaration) {
      const version = (versions.get(declaration.type) ?? 0) + 1;
      versions.set(declaration.type, version);
      artifacts.push({
        id: `${projectId}:${declaration.type}@${version}`,
        projectId,
        runId,
        type: declaration.type,
        producer: declaration.producer,
        iteration: declaration.iteration,
        version,
        dependsOn: declaration.dependsOn ?? [],
        digest: declaration.digest,
        ref: declaration.ref ?? null,
        createdAt: now().toISOString(),
      });
    },
    async report() {
      const at = now().toISOString();
      const conflicts: ConflictRecord[] = detectConflicts(artifacts).map((found, index) => {
        // ADAPTIVE overrides low-risk findings by itself; everything else waits for a human.
        const autoOverride = mode === 'adaptive' && found.lowRisk;
        return {
          id: `c${index + 1}`,
          projectId,
          runId,
          kind: found.kind,
          artifactIds: found.artifactIds,
          message: found.message,
          details: found.details,
          lowRisk: found.lowRisk,
          status: autoOverride ? 'resolved' : mode === 'adaptive' ? 'escalated' : 'open',
          createdAt: at,
          escalatedAt: mode === 'adaptive' && !autoOverride ? at : null,
          resolvedAt: autoOverride ? at : null,
          resolutions: autoOverride ? [{ strategy: 'OVERRIDE', by: 'qf', reason: 'adaptive mode: low-risk conflict', at }] : [],
        } as ConflictRecord;
      });
      return buildBlockingReport(mode, artifacts, conflicts);
    },
  };
}

/** The durable ledger over a PsmpEngine (SQLite or PostgreSQL). */
export function storeLedger(
  engine: { declare(d: ArtifactDeclaration): Promise<unknown>; blockingReport(projectId: string, runId?: string): Promise<BlockingReport> },
  projectId: string,
  runId: string,
): ArtifactLedger {
  return {
    declare: async (declaration) => {
      await engine.declare({ ...declaration, projectId, runId });
    },
    report: () => engine.blockingReport(projectId, runId),
  };
}
