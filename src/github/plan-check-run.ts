import { CheckRunName } from '../constants.js';
import type { Evidence } from '../evidence/schema.js';
import type { RepoRef } from './check-run-types.js';
import { CheckRunPublisher } from './check-run-publisher.js';
import type { GitHubClient } from './create-github-client.js';
import { fitSections, PlatformLimit } from './limits.js';

/**
 * `qualityfoundry/plan`: the plan that waits for a human, as action_required with external_id =
 * planHash. The bot reads the hash back from here when a reviewer approves.
 */
export async function publishPlanCheckRun(options: {
  octokit: GitHubClient;
  repo: RepoRef;
  headSha: string;
  detailsUrl?: string;
  evidence: Evidence;
}): Promise<number> {
  const { evidence } = options;
  const { planHash, steps } = evidence.plan;
  const publisher = new CheckRunPublisher(options.octokit, {
    repo: options.repo,
    name: CheckRunName.plan,
    headSha: options.headSha,
    externalId: planHash,
    ...(options.detailsUrl ? { detailsUrl: options.detailsUrl } : {}),
  });
  const stepLines = steps.map((step) => `| \`${step.id}\` | \`${step.tool}\` | ${step.matched.map((path) => `\`${path}\``).join(', ') || '—'} |`);
  const summary = fitSections(
    [
      {
        priority: 0,
        markdown: [
          `**This plan needs ${evidence.approval.needed} approval${evidence.approval.needed === 1 ? '' : 's'} before it runs.**`,
          evidence.approval.reason ? `Why: ${evidence.approval.reason}` : '',
          '',
          'To approve, a reviewer comments `/qf approve` on the pull request; `/qf reject <reason>` rejects it.',
          'A new push changes the plan hash and needs a new approval.',
          '',
          `Plan hash: \`${planHash}\``,
        ].join('\n'),
      },
      { priority: 1, markdown: ['| step | tool | matched |', '|---|---|---|', ...stepLines].join('\n') },
    ],
    PlatformLimit.checkRunOutputBytes,
    'The full plan is in evidence.json.',
  ).text;
  return publisher.complete({
    conclusion: 'action_required',
    output: { title: `Approval needed: ${steps.length} step${steps.length === 1 ? '' : 's'}`, summary },
  });
}
