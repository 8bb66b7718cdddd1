import { fitSections, PlatformLimit } from '../../src/github/limits.js';
import { AuditAction } from '../bot-constants.js';
import { reply } from '../review/answer.js';
import { LEVELS, permissionOf } from '../review/authorize-reviewer.js';
import type { Actor, PullRequestInfo, ReviewScope } from '../review/review-types.js';
import { pullSubject } from '../review/status-comment.js';
import { buildRepositoryReport, renderRepositoryReport, reportSections } from './build-repository-report.js';
import { parseReportArgs } from './parse-report-args.js';

/** The HTTP API's path of a repository's compliance report (the same builder answers it). */
export function reportApiPath(projectId: string, query: { format: string; since: string; until: string; pull?: number }): string {
  const [owner, repo] = projectId.split('/');
  const params = new URLSearchParams({ format: query.format, since: query.since, until: query.until });
  // With the pull request, the API's report carries that pull request's trail too, as the reply does.
  if (query.pull !== undefined) params.set('pull', String(query.pull));
  return `/api/v1/projects/${encodeURIComponent(owner!)}/${encodeURIComponent(repo!)}/reports/compliance?${params}`;
}

/**
 * `/qf report`: anyone with write access gets the repository's compliance report (and this pull
 * request's own audit trail). Markdown inline, cut in priority order to the comment limit; JSON and
 * CSV as a digest with a link to the full report from the HTTP API.
 */
export async function sendReport(
  scope: ReviewScope,
  request: { pull: PullRequestInfo; actor: Actor; args: string; refuse(reason: string): never },
): Promise<void> {
  const { refuse, actor, pull } = request;
  const now = scope.deps.clock();
  const parsed = parseReportArgs(request.args, now);
  if (!parsed.ok) return refuse(parsed.problem);
  const permission = await permissionOf(scope, actor.login);
  if (LEVELS.indexOf(permission) < LEVELS.indexOf('write')) refuse(`@${actor.login} has permission \`${permission}\`; a report needs \`write\` or higher`);
  const { args } = parsed;
  const report = await buildRepositoryReport(scope.deps.store, {
    repo: scope.projectId,
    since: args.since,
    until: args.until,
    now,
    pullSubject: pullSubject(scope.projectId, pull.number),
  });
  const path = reportApiPath(scope.projectId, { ...args, pull: pull.number });
  const link = scope.deps.publicUrl ? `[the full report](${scope.deps.publicUrl}${path})` : `the full report at \`${path}\` on the bot's HTTP API`;
  const period = `${args.sinceDay ?? 'the beginning'} to ${args.untilDay ?? 'now'}`;
  let body: string;
  if (args.format === 'md') {
    const sections = reportSections(report).map((markdown, priority) => ({ priority, markdown }));
    body = fitSections(
      [{ priority: -1, markdown: `@${actor.login} the compliance report of ${scope.projectId}, ${period}:` }, ...sections],
      PlatformLimit.commentChars - 200,
      `See ${link}.`,
    ).text;
  } else {
    const c = report.compliance;
    body = [
      `@${actor.login} the compliance report of ${scope.projectId}, ${period}, as ${args.format.toUpperCase()}: ${link}.`,
      '',
      `- audit chains: ${c.integrity.ok ? `all ${c.integrity.chains.length} verify` : `**broken** (${c.integrity.firstBroken?.chain} at seq ${c.integrity.firstBroken?.seq})`}`,
      `- approvals: ${c.approvals.length}, vetoes: ${c.vetoes.length}, gate decisions: ${c.gateDecisions.length}, overrides: ${c.overrides.length}, escalations: ${c.escalations.length}`,
      `- bot decisions: ${report.botDecisions.length}; this pull request's trail: ${report.pullRequest?.events.length ?? 0} events`,
    ].join('\n');
  }
  await scope.deps.auditor(scope.projectId).append({
    actor: actor.login,
    action: AuditAction.reported,
    subject: pullSubject(scope.projectId, pull.number),
    data: { format: args.format, since: args.since, until: args.until, permission, bytes: Buffer.byteLength(renderRepositoryReport(report, args.format)) },
  });
  await reply(scope, pull.number, body);
}
