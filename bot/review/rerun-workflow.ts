import { QfError } from '../../src/errors.js';
import { callGitHub } from '../../src/github/call-github.js';
import type { FoundCheckRun } from './find-check-runs.js';
import type { ReviewScope } from './review-types.js';

/**
 * Re-runs the workflow run that published `checkRun`. Found through the check run's check suite
 * (`GET /actions/runs?check_suite_id=`); when the suite names no workflow run (a check run made with
 * the workflow token may land in another suite of the commit), through the run its details_url links,
 * accepted only when that run is on the same head commit.
 */
export async function rerunWorkflowOf(scope: ReviewScope, checkRun: FoundCheckRun): Promise<number> {
  const runId = (await runOfSuite(scope, checkRun)) ?? (await runOfDetailsUrl(scope, checkRun));
  if (runId === null) {
    throw new QfError('GITHUB_API', `no workflow run found for check run ${checkRun.id} (${checkRun.name}) on ${checkRun.headSha.slice(0, 7)}`);
  }
  await callGitHub(`re-run workflow run ${runId}`, () => scope.octokit.rest.actions.reRunWorkflow({ ...scope.repo, run_id: runId }));
  return runId;
}

async function runOfSuite(scope: ReviewScope, checkRun: FoundCheckRun): Promise<number | null> {
  if (checkRun.checkSuiteId === null) return null;
  const suiteId = checkRun.checkSuiteId;
  const { data } = await callGitHub(`find the workflow run of check suite ${suiteId}`, () =>
    scope.octokit.rest.actions.listWorkflowRunsForRepo({ ...scope.repo, check_suite_id: suiteId, per_page: 1 }),
  );
  return data.workflow_runs[0]?.id ?? null;
}

async function runOfDetailsUrl(scope: ReviewScope, checkRun: FoundCheckRun): Promise<number | null> {
  const match = /\/actions\/runs\/(\d+)/.exec(checkRun.detailsUrl ?? '');
  if (!match) return null;
  const runId = Number(match[1]);
  const { data } = await callGitHub(`read workflow run ${runId}`, () => scope.octokit.rest.actions.getWorkflowRun({ ...scope.repo, run_id: runId }));
  return data.head_sha === checkRun.headSha ? runId : null;
}
