import { buildComplianceReport, projectChain, renderComplianceReport, type ComplianceReport, type ReportFormat } from '../../src/governance/index.js';
import type { StorageBackend, StoredAuditEvent } from '../../src/store/index.js';
import { AuditAction } from '../bot-constants.js';

/** The governance core's compliance report plus what the bot decided (rejections, holds, ingested verdicts, conflict resolutions). */
export interface RepositoryReport {
  compliance: ComplianceReport;
  botDecisions: Array<{ at: string; actor: string; action: string; subject: string; detail: string }>;
  /** Set when the report was asked for on a pull request: that pull request's own audit trail. */
  pullRequest: { subject: string; events: Array<{ seq: number; at: string; actor: string; action: string; detail: string }> } | null;
}

const DECISIONS = new Set<string>([
  AuditAction.rejected,
  AuditAction.held,
  AuditAction.released,
  AuditAction.evidenceIngested,
  AuditAction.evidenceRejected,
  AuditAction.conflictEscalated,
  AuditAction.conflictResolved,
  AuditAction.approved,
]);

/** `since`/`until` are ISO times; `until` is exclusive. The same builder serves `/qf report` and the HTTP API. */
export async function buildRepositoryReport(
  store: StorageBackend,
  options: { repo: string; since: string; until: string; now?: Date; pullSubject?: string },
): Promise<RepositoryReport> {
  const compliance = await buildComplianceReport(store, {
    repo: options.repo,
    since: options.since,
    until: options.until,
    ...(options.now ? { now: options.now } : {}),
  });
  const events = await store.listAudit({ chain: projectChain(options.repo), since: options.since, until: options.until });
  const botDecisions = events
    .filter((e) => DECISIONS.has(e.action))
    .map((e) => ({ at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: detailOf(e) }));
  const pullRequest = options.pullSubject
    ? {
        subject: options.pullSubject,
        events: events
          .filter((e) => e.subject === options.pullSubject)
          .map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, detail: detailOf(e) })),
      }
    : null;
  return { compliance, botDecisions, pullRequest };
}

function detailOf(event: StoredAuditEvent): string {
  const d = event.data as Record<string, unknown>;
  const parts = [d.verdict, d.strategy, d.shortId, d.reason, d.problems, d.headSha && String(d.headSha).slice(0, 7)].filter(
    (v) => v !== undefined && v !== null && v !== '',
  );
  return parts.map((v) => (Array.isArray(v) ? v.join('; ') : String(v))).join(' · ');
}

const cell = (value: unknown): string =>
  String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

/** Markdown sections in priority order (first kept when cut): header and integrity, this PR, the rest. */
export function reportSections(report: RepositoryReport): string[] {
  const [head = '', ...rest] = renderComplianceReport(report.compliance, 'md').split(/\n(?=## )/);
  const sections = [head.trim()];
  if (report.pullRequest) {
    const rows = report.pullRequest.events.map((e) => `| ${e.seq} | ${e.at} | ${cell(e.actor)} | ${e.action} | ${cell(e.detail)} |`);
    sections.push(
      `## This pull request (${cell(report.pullRequest.subject)})\n\n${rows.length ? ['| Seq | At | Actor | Action | Detail |', '|---|---|---|---|---|', ...rows].join('\n') : 'No events.'}\n`,
    );
  }
  const decisions = report.botDecisions.map((e) => `| ${e.at} | ${cell(e.actor)} | ${e.action} | ${cell(e.subject)} | ${cell(e.detail)} |`);
  sections.push(
    `## Bot decisions (rejections, holds, ingested runs, conflicts)\n\n${decisions.length ? ['| At | Actor | Action | Subject | Detail |', '|---|---|---|---|---|', ...decisions].join('\n') : 'None.'}\n`,
  );
  return [...sections, ...rest.map((section) => section.trim())];
}

export function renderRepositoryReport(report: RepositoryReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') {
    // The core's columns (section, at, who, subject, kind, detail, duration_seconds), one more section.
    const field = (v: unknown): string => (/[",\n\r]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const rows = report.botDecisions.map((e) => ['bot_decision', e.at, e.actor, e.subject, e.action, e.detail, ''].map(field).join(','));
    return `${[renderComplianceReport(report.compliance, 'csv').trimEnd(), ...rows].join('\r\n')}\r\n`;
  }
  return `${reportSections(report).join('\n\n')}\n`;
}
