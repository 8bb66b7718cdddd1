import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { CheckRunName, EvidenceFile, ExitCode, evidenceArtifactName } from '../constants.js';
import { isQfError, QfError } from '../errors.js';
import { GitHubApiError } from '../github/call-github.js';
import { CheckRunPublisher } from '../github/check-run-publisher.js';
import type { GitHubClient } from '../github/create-github-client.js';
import { findPullRequestByHead } from '../github/find-pull-request.js';
import { fitSections, PlatformLimit } from '../github/limits.js';
import { dashboardRunUrl } from '../github/dashboard-run-url.js';
import { publishGateResult } from '../github/publish-gate-result.js';
import { readFileAtRef } from '../github/read-file-at-ref.js';
import { type BundleCheck, validateEvidenceBundle } from '../github/validate-evidence-bundle.js';
import { CheckRunApprovalSource } from '../github/check-run-approval-source.js';
import { checkPolicyText } from '../policy/load-policy.js';
import { sha256Hex } from '../util/canonical-json.js';
import type { ActionContext } from './context.js';
import { downloadEvidence } from './evidence-artifact.js';
import { finishStep } from './finish-step.js';
import type { ActionInputs } from './inputs.js';

/** The base policy (parsed) and the check-run approval source publish mode re-judges with. */
function rejudgeWith(policyBytes: Buffer, inputs: ActionInputs, context: ActionContext, octokit: GitHubClient) {
  const checked = checkPolicyText(policyBytes, { path: inputs.policy, sourceRef: null });
  if (!checked.ok) return undefined; // an invalid base policy cannot judge; the digest check still binds the evidence to it
  return { policy: checked.policy, approvals: new CheckRunApprovalSource({ octokit, repo: context.repo, approvalApp: inputs.approvalApp }) };
}

/**
 * `mode: publish`, the trusted half of the two-workflow pattern: a `workflow_run` job with a write
 * token takes the evidence artifact of the pull request's run (untrusted: it may come from a fork),
 * validates it, finds the pull request by head SHA and publishes the check runs. It runs no code of
 * the pull request.
 */
export async function runPublish({ inputs, context, octokit }: { inputs: ActionInputs; context: ActionContext; octokit: GitHubClient }): Promise<ExitCode> {
  const { target } = context;
  if (target.kind !== 'workflow_run') {
    throw new QfError('BAD_INPUT', `input "mode": "publish" runs on workflow_run events, this is ${context.eventName}; expected "gate" here.`);
  }
  const dir = join(context.runnerTemp, 'qualityfoundry-published-evidence');
  await rm(dir, { recursive: true, force: true });
  // A missing artifact or an unsafe zip is a rejected bundle like any other: it gets a failure check run.
  let artifact: Awaited<ReturnType<typeof downloadEvidence>> | undefined;
  let downloadProblem = '';
  try {
    artifact = await core.group('Download the evidence artifact', () =>
      downloadEvidence({
        name: evidenceArtifactName(inputs.artifactName, target.runAttempt),
        runId: target.runId,
        repo: context.repo,
        token: inputs.githubToken,
        dir,
      }),
    );
  } catch (error) {
    if (!isQfError(error, 'EVIDENCE_INVALID')) throw error;
    downloadProblem = error.message;
  }

  const notices: string[] = [`Reported by workflow run ${target.runId} (\`${target.event}\`) and checked here before publishing.`];
  const pull = await findPullRequestByHead(octokit, context.repo, { sha: target.headSha, owner: target.headOwner, branch: target.headBranch });
  if (!pull) notices.push(`No open pull request has head ${target.headSha.slice(0, 12)}; the result is published on the commit only.`);
  // The policy the evidence claims must be the base commit's: a fork cannot pick its own rules.
  const basePolicy = pull ? await readFileAtRef(octokit, context.repo, inputs.policy, pull.baseSha) : null;
  // …and what it concludes must follow from that policy (plan, metrics, verdict, approvals).
  const rejudge = basePolicy !== null ? rejudgeWith(basePolicy, inputs, context, octokit) : undefined;
  const check: BundleCheck = !artifact
    ? { ok: false, problems: [downloadProblem] }
    : await validateEvidenceBundle(dir, {
        headSha: target.headSha,
        ...(inputs.verifyKey ? { publicKey: inputs.verifyKey } : {}),
        ...(basePolicy !== null ? { policySha256: sha256Hex(basePolicy) } : {}),
        ...(rejudge ? { rejudge } : {}),
      });

  const runUrl = `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${target.runId}`;
  const gate = inputs.dryRun
    ? null
    : new CheckRunPublisher(octokit, { repo: context.repo, name: CheckRunName.gate, headSha: target.headSha, detailsUrl: runUrl });

  if (!check.ok) {
    const { problems } = check;
    const summary = fitSections(
      [
        {
          priority: 0,
          markdown: [
            '## ⛔ Evidence rejected — QualityFoundry',
            '',
            `The evidence artifact \`${evidenceArtifactName(inputs.artifactName, target.runAttempt)}\` of workflow run ${target.runId} (attempt ${target.runAttempt}) failed validation, so none of it is reported:`,
            '',
            ...problems.map((problem) => `- ${problem}`),
          ].join('\n'),
        },
      ],
      PlatformLimit.checkRunOutputBytes,
      'The artifact itself is attached to the workflow run.',
    ).text;
    let checkRunId: number | null = null;
    if (gate) {
      checkRunId = await gate
        .complete({ conclusion: 'failure', output: { title: 'Evidence rejected: the artifact failed validation', summary } })
        .catch((error: unknown) => {
          if (!(error instanceof GitHubApiError)) throw error;
          core.warning(error.message);
          return null;
        });
    }
    return finishStep({
      evidence: null,
      exitCode: ExitCode.badInput,
      jobSummary: summary,
      outputs: { verdict: 'blocked', planHash: undefined, evidencePath: undefined, checkRunId },
      failure: `Evidence rejected: ${problems.join('; ')}`,
    });
  }

  const { evidence } = check;
  const downloaded = artifact!; // a bundle only passes the check when it was downloaded
  const published = await core.group('Publish the result', () =>
    publishGateResult({
      octokit,
      repo: context.repo,
      headSha: target.headSha,
      detailsUrl: runUrl,
      evidence,
      gate,
      artifact: {
        name: downloaded.name,
        ...(downloaded.id !== undefined ? { id: downloaded.id, url: `${runUrl}/artifacts/${downloaded.id}` } : {}),
        ...(downloaded.sha256 ? { sha256: downloaded.sha256 } : {}),
      },
      notices,
      pathPrefix: inputs.workingDirectory === '.' ? '' : inputs.workingDirectory,
      dashboardUrl: inputs.apiUrl && dashboardRunUrl(inputs.apiUrl, context.repo, target.runId, target.runAttempt),
    }),
  );
  const notPublished = gate !== null && published.checkRunId === null;
  return finishStep({
    evidence,
    // This job's outcome is the publishing; the verdict is on the check run (and on the reporting run).
    exitCode: notPublished ? ExitCode.gateFailed : ExitCode.pass,
    jobSummary: published.output.jobSummary,
    outputs: {
      verdict: evidence.gate.verdict,
      planHash: evidence.plan.planHash,
      evidencePath: join(dir, EvidenceFile.evidence),
      checkRunId: published.checkRunId,
    },
    ...(notPublished ? { failure: 'The check run could not be published; see the warnings above and the job summary.' } : {}),
  });
}
