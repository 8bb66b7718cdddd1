import { CheckRunName } from '../../src/constants.js';
import { callGitHub } from '../../src/github/call-github.js';
import { truncateChars } from '../../src/github/limits.js';
import type { Strategy } from '../../src/store/index.js';
import type { ReviewScope } from '../review/review-types.js';

/** Title and summary stay well inside GitHub's limits (255 characters, 65535 bytes). */
const SUMMARY_CHARS = 60_000;

/**
 * How a resolution reaches the Action: a completed, successful `qualityfoundry/resolution` check run
 * on the head SHA whose external_id is `<conflict id>:<STRATEGY>`, and whose title names who decided
 * (`… by @login`), which the Action's next run accepts only from the configured app.
 */
export async function createResolutionCheckRun(
  scope: ReviewScope,
  resolution: { headSha: string; conflictId: string; strategy: Strategy; title: string; summary: string },
): Promise<{ id: number; externalId: string }> {
  const externalId = `${resolution.conflictId}:${resolution.strategy}`;
  const { data } = await callGitHub(`create the ${CheckRunName.resolution} check run`, () =>
    scope.octokit.rest.checks.create({
      ...scope.repo,
      name: CheckRunName.resolution,
      head_sha: resolution.headSha,
      external_id: externalId,
      status: 'completed',
      conclusion: 'success',
      output: { title: truncateChars(resolution.title, 255), summary: truncateChars(resolution.summary, SUMMARY_CHARS) },
    }),
  );
  return { id: data.id, externalId };
}
