import type { Evidence } from '../evidence/schema.js';
import { type ArtifactLink, renderSummary } from '../report/render-summary.js';
import { annotationsFromEvidence } from './annotations-from-evidence.js';
import { GitHubApiError } from './call-github.js';
import { checkRunConclusion } from './check-run-conclusion.js';
import type { CheckRunPublisher } from './check-run-publisher.js';
import type { RepoRef } from './check-run-types.js';
import type { GitHubClient } from './create-github-client.js';
import { gateOutput, type GateOutput } from './gate-output.js';
import { publishPlanCheckRun } from './plan-check-run.js';

export interface PublishGateResultOptions {
  octokit: GitHubClient;
  repo: RepoRef;
  headSha: string;
  detailsUrl: string;
  evidence: Evidence;
  /** The gate check run, possibly already started in_progress; null: the checks API is not to be used. */
  gate: CheckRunPublisher | null;
  artifact: ArtifactLink | undefined;
  /** Notices for the summary (policy changed, approvals not taken, …). */
  notices: string[];
  /** Working directory relative to the repository root, for annotation paths. */
  pathPrefix: string;
  /** This run's page on the bot's dashboard (input api-url), linked from the summary. */
  dashboardUrl?: string | undefined;
}

export interface PublishedGateResult {
  checkRunId: number | null;
  planCheckRunId: number | null;
  /** Output for the job summary: includes a notice when the check run could not be published. */
  output: GateOutput;
}

/**
 * Publishes a verdict: the plan check run when it waits for approval, then the gate check run with its
 * annotations. A checks API failure (read-only token, 5xx after retries) does not throw: it becomes a
 * notice in the job summary, which with the artifact still carries the whole result.
 */
export async function publishGateResult(options: PublishGateResultOptions): Promise<PublishedGateResult> {
  const { evidence, artifact } = options;
  const rendered = renderSummary(evidence, { ...(artifact ? { artifact } : {}), ...(options.dashboardUrl ? { dashboardUrl: options.dashboardUrl } : {}) });
  const pointer = artifact
    ? `Full evidence: artifact \`${artifact.name}\`${artifact.id !== undefined ? ` (id ${artifact.id})` : ''}.`
    : 'Full evidence: evidence.json of this run.';
  const notices = [...options.notices];
  let checkRunId: number | null = null;
  let planCheckRunId: number | null = null;

  if (options.gate) {
    try {
      // A held run waits too, but for `/qf unhold`, not for an approval of its plan.
      if (evidence.gate.verdict === 'needs_approval' && evidence.approval.status === 'waiting') {
        planCheckRunId = await publishPlanCheckRun({
          octokit: options.octokit,
          repo: options.repo,
          headSha: options.headSha,
          detailsUrl: options.detailsUrl,
          evidence,
        });
      }
      const { title, summary, text } = gateOutput(rendered, notices, evidence, pointer);
      checkRunId = await options.gate.complete({
        conclusion: checkRunConclusion(evidence),
        output: { title, summary, text },
        annotations: annotationsFromEvidence(evidence, options.pathPrefix),
      });
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      checkRunId = options.gate.id;
      notices.push(`The check run could not be published (${error.message}). This job summary and the evidence artifact hold the full result.`);
    }
  }
  return { checkRunId, planCheckRunId, output: gateOutput(rendered, notices, evidence, pointer) };
}
