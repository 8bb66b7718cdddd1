import { CheckRunName } from '../constants.js';
import type { ApprovalRecord } from '../evidence/schema.js';
import type { AcceptedResolution, ApprovalLookup, ApprovalSource, ResolutionLookup } from '../orchestrator/types.js';
import { callGitHub, GitHubApiError } from './call-github.js';
import type { CheckRunSummary, RepoRef } from './check-run-types.js';
import type { GitHubClient } from './create-github-client.js';

export interface CheckRunApprovalSourceOptions {
  octokit: GitHubClient;
  repo: RepoRef;
  /** Slug of the GitHub App whose approval check runs count (the `approval-app` input); none: nothing counts. */
  approvalApp: string | undefined;
}

/**
 * Approvals recorded by the bot as `qualityfoundry/approval` check runs. One counts only when it was
 * created by the configured app, on the head SHA, concluded success, for the current planHash. A
 * `failure` one from that app, head and plan is a rejection (`/qf reject`): the run is blocked. The
 * app's `action_required` one is its request for approval (the buttons) and neither. Every other
 * candidate is listed with the reason it was not taken, so the summary can say why.
 */
export class CheckRunApprovalSource implements ApprovalSource {
  /** The notes of the last lookup, for the summary. */
  lastNotes: string[] = [];

  constructor(private readonly options: CheckRunApprovalSourceOptions) {}

  async lookup(planHash: string, headSha: string | null): Promise<ApprovalLookup> {
    const { octokit, repo, approvalApp } = this.options;
    if (headSha === null) return this.#remember({ approvals: [], rejected: [], notes: ['No head commit: approvals from check runs cannot apply.'] });
    // filter=all: a re-run approval creates a new check run; older ones still explain a rejection.
    let runs: CheckRunSummary[];
    try {
      runs = await callGitHub('list approval check runs', () =>
        octokit.paginate(octokit.rest.checks.listForRef, { ...repo, ref: headSha, check_name: CheckRunName.approval, filter: 'all', per_page: 100 }),
      );
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      // Fail closed but keep going: without the list there is no approval, and the run waits for one.
      return this.#remember({
        approvals: [],
        rejected: [],
        notes: [`Approval check runs could not be listed (${error.message}); no approval is taken as given.`],
      });
    }
    const approvals: ApprovalRecord[] = [];
    const rejected: Array<{ by: string; reason: string }> = [];
    const notes: string[] = [];
    if (!approvalApp && runs.length > 0) {
      notes.push(`Approval check runs were found but the \`approval-app\` input is not set, so none counts.`);
    }
    for (const run of runs) {
      if (isFromApp(run, { planHash, headSha, approvalApp }) && run.status === 'completed') {
        if (run.conclusion === 'action_required') continue;
        if (run.conclusion === 'failure') {
          rejected.push({ by: `@${approverOf(run)}`, reason: reasonOf(run) });
          continue;
        }
      }
      const reason = whyNot(run, { planHash, headSha, approvalApp });
      if (reason) {
        notes.push(`Check run ${run.id} (${describeApp(run)}) is not an approval: ${reason}.`);
        continue;
      }
      approvals.push({ by: approverOf(run), at: run.completed_at ?? run.started_at ?? '', planHash, headSha, source: 'check-run' });
    }
    return this.#remember({ approvals, rejected, notes });
  }

  /**
   * The hold on the head commit: the configured app's newest `qualityfoundry/hold` check run there,
   * while it is not completed (`/qf hold`; `/qf unhold` completes it). Fails closed: when the list
   * cannot be read, the run is taken as held.
   */
  async hold(headSha: string | null): Promise<{ by: string; reason: string } | null> {
    const { octokit, repo, approvalApp } = this.options;
    if (headSha === null || !approvalApp) return null;
    let runs: CheckRunSummary[];
    try {
      runs = await callGitHub('list hold check runs', () =>
        octokit.paginate(octokit.rest.checks.listForRef, { ...repo, ref: headSha, check_name: CheckRunName.hold, filter: 'all', per_page: 100 }),
      );
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      return { by: approvalApp, reason: `hold check runs could not be listed (${error.message}); the run is taken as held` };
    }
    const newest = runs.filter((run) => run.app?.slug === approvalApp && run.head_sha === headSha).sort((a, b) => Number(b.id) - Number(a.id))[0];
    if (!newest || newest.status === 'completed') return null;
    return { by: `@${approverOf(newest)}`, reason: reasonOf(newest) };
  }

  /**
   * The bot's `/qf resolve` decisions on the head: `qualityfoundry/resolution` check runs of the
   * configured app, completed success, external_id `<conflict id>:<STRATEGY>`. Any other is noted
   * with why it was not taken (anyone who can write checks could create one under another app).
   */
  async resolutions(headSha: string | null): Promise<ResolutionLookup> {
    const { octokit, repo, approvalApp } = this.options;
    // Without an approval app nobody can resolve, so there is nothing to ask GitHub for.
    if (headSha === null || !approvalApp) return { accepted: [], notes: [] };
    let runs: CheckRunSummary[];
    try {
      runs = await callGitHub('list resolution check runs', () =>
        octokit.paginate(octokit.rest.checks.listForRef, { ...repo, ref: headSha, check_name: CheckRunName.resolution, filter: 'all', per_page: 100 }),
      );
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      return { accepted: [], notes: [`Resolution check runs could not be listed (${error.message}); no resolution is taken as given.`] };
    }
    const accepted: AcceptedResolution[] = [];
    const notes: string[] = [];
    for (const run of runs.sort((a, b) => Number(a.id) - Number(b.id))) {
      const match = RESOLUTION_ID.exec(run.external_id ?? '');
      const why =
        run.app?.slug !== approvalApp
          ? `created by ${describeApp(run)}, only app "${approvalApp}" may resolve`
          : run.head_sha !== headSha
            ? `it is on commit ${run.head_sha.slice(0, 12)}, not the head ${headSha.slice(0, 12)}`
            : run.status !== 'completed' || run.conclusion !== 'success'
              ? `its conclusion is ${run.conclusion ?? run.status}, not success`
              : !match
                ? `its external_id ${JSON.stringify((run.external_id ?? '').slice(0, 80))} is not <conflict id>:<STRATEGY>`
                : null;
      if (why) {
        notes.push(`Check run ${run.id} (${describeApp(run)}) is not a resolution: ${why}.`);
        continue;
      }
      accepted.push({
        conflictId: match![1]!,
        strategy: match![2] as AcceptedResolution['strategy'],
        by: approverOf(run),
        reason: reasonOf(run),
        checkRunId: Number(run.id),
      });
    }
    return { accepted, notes };
  }

  #remember(lookup: ApprovalLookup): ApprovalLookup {
    this.lastNotes = lookup.notes;
    return lookup;
  }
}

/** `/qf resolve` writes `conflict-<16 hex>:<STRATEGY>`. */
const RESOLUTION_ID = /^(conflict-[0-9a-f]{16}):(RETRY|OVERRIDE|MERGE|ESCALATE)$/;

function whyNot(run: CheckRunSummary, expected: { planHash: string; headSha: string; approvalApp: string | undefined }): string | null {
  if (!expected.approvalApp) return 'no approval app is configured';
  if (run.app?.slug !== expected.approvalApp) return `created by ${describeApp(run)}, only app "${expected.approvalApp}" may approve`;
  if (run.head_sha !== expected.headSha) return `it is on commit ${run.head_sha.slice(0, 12)}, not the head ${expected.headSha.slice(0, 12)}`;
  if (run.status !== 'completed' || run.conclusion !== 'success') return `its conclusion is ${run.conclusion ?? run.status}, not success`;
  if (run.external_id !== expected.planHash)
    return `it approves plan ${(run.external_id ?? 'none').slice(0, 12)}, the current plan is ${expected.planHash.slice(0, 12)}`;
  return null;
}

/** Created by the configured app for this plan on the head: the bot's own word on this plan. */
function isFromApp(run: CheckRunSummary, expected: { planHash: string; headSha: string; approvalApp: string | undefined }): boolean {
  return Boolean(expected.approvalApp) && run.app?.slug === expected.approvalApp && run.head_sha === expected.headSha && run.external_id === expected.planHash;
}

/** The bot writes the reviewer's reason as a `Reason: …` line of the summary. */
function reasonOf(run: CheckRunSummary): string {
  return /^Reason: (.+)$/m.exec(run.output?.summary ?? '')?.[1]?.trim() ?? 'no reason given';
}

function describeApp(run: CheckRunSummary): string {
  return run.app?.slug ? `app "${run.app.slug}"` : 'no app';
}

/** The bot names the approver in the output title ("Approved by @login"); fall back to the app. */
function approverOf(run: CheckRunSummary): string {
  const match = /@([A-Za-z0-9-]+(?:\[bot\])?)/.exec(run.output?.title ?? '');
  return match?.[1] ?? run.app?.slug ?? 'unknown';
}
