import type { RepoRef } from './check-run-types.js';

/**
 * A workflow run's page on the bot's dashboard: the bot records the run as `<run id>.<attempt>` of the
 * repository (bot/dashboard/dashboard-links.ts runPath gives the same path for it).
 */
export function dashboardRunUrl(botUrl: string, repo: RepoRef, runId: number, attempt: number): string {
  return `${botUrl}/dashboard/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/runs/${runId}.${attempt}`;
}
