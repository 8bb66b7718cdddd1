import type { ComplianceReport } from './compliance-report.js';

export type ReportFormat = 'json' | 'md' | 'csv';

export function renderComplianceReport(report: ComplianceReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') return toCsv(report);
  return toMarkdown(report);
}

const cell = (value: unknown): string =>
  String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function table(title: string, headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return `## ${title}\n\nNone.\n`;
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
  return `## ${title}\n\n${lines.join('\n')}\n`;
}

function toMarkdown(r: ComplianceReport): string {
  const integrity = r.integrity.ok
    ? `All ${r.integrity.chains.length} audit chains verify (${r.integrity.chains.reduce((n, c) => n + c.count, 0)} events).`
    : `**Audit chain broken**: ${r.integrity.firstBroken?.chain} at seq ${r.integrity.firstBroken?.seq}: ${r.integrity.firstBroken?.reason}`;
  return [
    `# Compliance report: ${r.repo}\n\nPeriod ${r.period.since} to ${r.period.until} (generated ${r.generatedAt}).\n\n${integrity}\n`,
    table(
      'Approvals',
      ['At', 'By', 'Permission', 'Plan', 'Run', 'Source'],
      r.approvals.map((a) => [a.at, a.by, a.permission, a.planHash.slice(0, 12), a.runId, a.source]),
    ),
    table(
      'Vetoes',
      ['At', 'Actor', 'Subject', 'Code', 'Message'],
      r.vetoes.map((v) => [v.at, v.actor, v.subject, v.code, v.message]),
    ),
    table(
      'Gate decisions',
      ['At', 'Run', 'Verdict'],
      r.gateDecisions.map((g) => [g.at, g.subject, g.verdict]),
    ),
    table(
      'Overrides',
      ['At', 'By', 'Conflict', 'Winner', 'Reason'],
      r.overrides.map((o) => [o.at, o.by, o.conflictId, o.winner, o.reason]),
    ),
    table(
      'Escalations',
      ['Conflict', 'Escalated', 'Resolved', 'By', 'How', 'Took (s)'],
      r.escalations.map((e) => [e.conflictId, e.escalatedAt, e.resolvedAt ?? 'open', e.resolvedBy, e.resolution, e.durationSeconds]),
    ),
  ].join('\n');
}

const csvField = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One row per fact, one `section` column, so a spreadsheet can filter. */
function toCsv(r: ComplianceReport): string {
  const rows: unknown[][] = [['section', 'at', 'who', 'subject', 'kind', 'detail', 'duration_seconds']];
  for (const a of r.approvals) rows.push(['approval', a.at, a.by, a.runId ?? a.planHash, a.permission, a.source, '']);
  for (const v of r.vetoes) rows.push(['veto', v.at, v.actor, v.subject, v.code, v.message, '']);
  for (const g of r.gateDecisions) rows.push(['gate', g.at, '', g.subject, g.verdict, '', '']);
  for (const o of r.overrides) rows.push(['override', o.at, o.by, o.conflictId, o.winner ?? '', o.reason, '']);
  for (const e of r.escalations)
    rows.push(['escalation', e.escalatedAt, e.resolvedBy ?? '', e.conflictId, e.resolution ?? 'open', e.resolvedAt ?? '', e.durationSeconds ?? '']);
  return `${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}
