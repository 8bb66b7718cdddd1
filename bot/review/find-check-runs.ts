import { CheckRunName } from '../../src/constants.js';
import { callGitHub } from '../../src/github/call-github.js';
import type { ReviewScope } from './review-types.js';

/** A check run as the bot needs it: where it is, which plan it names, and which workflow made it. */
export interface FoundCheckRun {
  id: number;
  name: string;
  headSha: string;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  title: string;
  htmlUrl: string | null;
  detailsUrl: string | null;
  checkSuiteId: number | null;
  appId: number | null;
}

/** The newest check runs named `name` on a commit, newest first. */
export async function listCheckRuns(scope: ReviewScope, headSha: string, name: string): Promise<FoundCheckRun[]> {
  const runs = await callGitHub(`list ${name} check runs`, () =>
    scope.octokit.paginate(scope.octokit.rest.checks.listForRef, { ...scope.repo, ref: headSha, check_name: name, filter: 'all', per_page: 100 }),
  );
  return runs
    .map((run) => ({
      id: run.id,
      name: run.name,
      headSha: run.head_sha,
      externalId: run.external_id ?? null,
      status: run.status,
      conclusion: run.conclusion ?? null,
      title: run.output?.title ?? '',
      htmlUrl: run.html_url ?? null,
      detailsUrl: run.details_url ?? null,
      checkSuiteId: run.check_suite?.id ?? null,
      appId: run.app?.id ?? null,
    }))
    .sort((a, b) => b.id - a.id);
}

/**
 * The plan waiting on the head commit: the newest `qualityfoundry/plan` the workflow published
 * (never one of the bot's own check runs), with its plan hash in external_id.
 */
export async function findPlan(scope: ReviewScope, headSha: string): Promise<FoundCheckRun | null> {
  const runs = await listCheckRuns(scope, headSha, CheckRunName.plan);
  return runs.find((run) => run.appId !== scope.deps.appId && run.externalId) ?? null;
}

/** The newest `qualityfoundry/gate` run on the head commit, for `/qf retry` and `/qf unhold`. */
export async function findGate(scope: ReviewScope, headSha: string): Promise<FoundCheckRun | null> {
  const runs = await listCheckRuns(scope, headSha, CheckRunName.gate);
  return runs.find((run) => run.appId !== scope.deps.appId) ?? null;
}

/** The bot's own newest hold check run on the head commit. */
export async function findOwnHold(scope: ReviewScope, headSha: string): Promise<FoundCheckRun | null> {
  const runs = await listCheckRuns(scope, headSha, CheckRunName.hold);
  return runs.find((run) => run.appId === scope.deps.appId) ?? null;
}
