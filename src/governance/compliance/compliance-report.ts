import type { StorageBackend, StoredAuditEvent } from '../../store/types.js';
import { verifyStoredChains, type AuditVerification } from './verify-stored-chains.js';

/**
 * What an auditor asks about one repository over one period, built from the tamper-evident log
 * (and the approvals table, which keeps the approver's permission). Actions it reads:
 * `approval.recorded`, `*.veto`, `gate.decided`, `psmp.resolved` (OVERRIDE), `psmp.escalated`.
 */
export interface ComplianceReport {
  repo: string;
  period: { since: string; until: string };
  generatedAt: string;
  integrity: AuditVerification;
  approvals: Array<{ at: string; by: string; permission: string; planHash: string; runId: string | null; source: string }>;
  vetoes: Array<{ at: string; actor: string; subject: string; code: string; message: string }>;
  gateDecisions: Array<{ at: string; subject: string; verdict: string }>;
  overrides: Array<{ at: string; by: string; conflictId: string; reason: string; winner: string | null }>;
  escalations: Array<{
    conflictId: string;
    escalatedAt: string;
    resolvedAt: string | null;
    resolvedBy: string | null;
    resolution: string | null;
    durationSeconds: number | null;
  }>;
}

export async function buildComplianceReport(
  store: StorageBackend,
  options: { repo: string; since: string; until: string; now?: Date },
): Promise<ComplianceReport> {
  const { repo, since, until } = options;
  const events = await store.listAudit({ projectId: repo, since, until });
  const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
  const byTime = (a: { at: string }, b: { at: string }): number => a.at.localeCompare(b.at);

  const approvals = (await store.listApprovals({ projectId: repo, since, until })).map((a) => ({
    at: a.at,
    by: a.by,
    permission: a.permission,
    planHash: a.planHash,
    runId: a.runId,
    source: a.source,
  }));
  const vetoes = events
    .filter((e) => e.action.endsWith('.veto'))
    .map((e) => {
      const veto = (e.data.veto ?? e.data) as Record<string, unknown>;
      return { at: e.at, actor: e.actor, subject: e.subject, code: str(veto.code, e.action), message: str(veto.message) };
    });
  const gateDecisions = events
    .filter((e) => e.action === 'gate.decided')
    .map((e) => ({ at: e.at, subject: e.subject, verdict: str(e.data.verdict, 'unknown') }));
  const overrides = events
    .filter((e) => e.action === 'psmp.resolved' && e.data.strategy === 'OVERRIDE')
    .map((e) => ({
      at: e.at,
      by: str(e.data.by, e.actor),
      conflictId: str(e.data.conflictId, e.subject),
      reason: str(e.data.reason),
      winner: typeof e.data.winner === 'string' ? e.data.winner : null,
    }));

  // An escalation is resolved by the first later non-escalating resolution, even after `until`.
  const escalated = events.filter((e) => e.action === 'psmp.escalated');
  const later = escalated.length > 0 ? await store.listAudit({ projectId: repo, actionPrefix: 'psmp.resolved', since: escalated[0]!.at }) : [];
  const escalations = escalated.map((e) => {
    const conflictId = str(e.data.conflictId, e.subject);
    const done: StoredAuditEvent | undefined = later.filter((r) => str(r.data.conflictId, r.subject) === conflictId && r.at >= e.at).sort(byTime)[0];
    return {
      conflictId,
      escalatedAt: e.at,
      resolvedAt: done?.at ?? null,
      resolvedBy: done ? str(done.data.by, done.actor) : null,
      resolution: done ? str(done.data.strategy) : null,
      durationSeconds: done ? (Date.parse(done.at) - Date.parse(e.at)) / 1000 : null,
    };
  });

  return {
    repo,
    period: { since, until },
    generatedAt: (options.now ?? new Date()).toISOString(),
    integrity: await verifyStoredChains(store),
    approvals: approvals.sort(byTime),
    vetoes: vetoes.sort(byTime),
    gateDecisions: gateDecisions.sort(byTime),
    overrides: overrides.sort(byTime),
    escalations: escalations.sort((a, b) => a.escalatedAt.localeCompare(b.escalatedAt)),
  };
}
