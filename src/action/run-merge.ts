import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { CheckRunName, ExitCode, evidenceArtifactName } from '../constants.js';
import { errorMessage, isQfError, QfError } from '../errors.js';
import { signEvidence } from '../evidence/sign-evidence.js';
import { GitHubApiError } from '../github/call-github.js';
import { CheckRunApprovalSource } from '../github/check-run-approval-source.js';
import { CheckRunPublisher } from '../github/check-run-publisher.js';
import type { GitHubClient } from '../github/create-github-client.js';
import { fitSections, PlatformLimit } from '../github/limits.js';
import { publishGateResult } from '../github/publish-gate-result.js';
import type { ShardBundle } from '../merge/read-shard-bundle.js';
import { mergeShards } from '../merge/merge-shards.js';
import type { ActionContext } from './context.js';
import { artifactReference, downloadEvidence, shardArtifactName, type UploadedArtifact, uploadEvidence } from './evidence-artifact.js';
import { finishStep } from './finish-step.js';
import type { ActionInputs } from './inputs.js';
import { loadPolicyAndChange } from './run-gate.js';

/**
 * `mode: merge`, the job that `needs` a matrix of shards: downloads every shard's evidence artifact of
 * this workflow run, checks each as publish mode checks an untrusted bundle, merges them through PSMP
 * into one verdict (see mergeShards) and publishes the one `qualityfoundry/gate` check run, the job
 * summary and the merged evidence artifact (under `artifact-name`, each shard's bundle inside it).
 */
export async function runMerge({ inputs, context, octokit }: { inputs: ActionInputs; context: ActionContext; octokit: GitHubClient }): Promise<ExitCode> {
  const { target } = context;
  if (target.kind === 'workflow_run')
    throw new QfError('BAD_INPUT', 'input "mode": "merge" runs in the workflow of the matrix, in a job that `needs` it; this is a workflow_run event.');
  const total = inputs.mergeShards!;
  const repoDir = resolve(context.workspace, inputs.workingDirectory);
  const pathPrefix = relative(context.workspace, repoDir).split('\\').join('/');
  const { policy, notice } = await core.group('Load the policy', () => loadPolicyAndChange({ inputs, context, octokit, target, repoDir, pathPrefix }));
  const notices = notice ? [notice] : [];

  const root = join(context.runnerTemp, 'qualityfoundry-shards');
  await rm(root, { recursive: true, force: true });
  const bundles: ShardBundle[] = [];
  const problems: string[] = [];
  await core.group(`Download the ${total} shards' evidence`, async () => {
    for (let index = 1; index <= total; index++) {
      const found = await downloadShard({ inputs, context, index, total, dir: join(root, String(index)) });
      if ('problem' in found) problems.push(found.problem);
      else if (found.bundle) bundles.push(found.bundle);
      else
        core.warning(`Shard ${index} of ${total}: no artifact ${shardArtifactName(inputs.artifactName, { index, total })} in workflow run ${context.runId}.`);
    }
  });

  const outDir = join(context.runnerTemp, 'qualityfoundry-evidence');
  await rm(outDir, { recursive: true, force: true });
  const approvals = new CheckRunApprovalSource({ octokit, repo: context.repo, approvalApp: inputs.approvalApp });
  const outcome =
    problems.length > 0
      ? { ok: false as const, problems }
      : await mergeShards({
          bundles,
          total,
          policy,
          headSha: target.headSha,
          approvals: () => approvals,
          ...(inputs.verifyKey ? { publicKey: inputs.verifyKey } : {}),
          outDir,
        });
  const gate = inputs.dryRun
    ? null
    : new CheckRunPublisher(octokit, { repo: context.repo, name: CheckRunName.gate, headSha: target.headSha, detailsUrl: context.runUrl });

  if (!outcome.ok) {
    const summary = fitSections(
      [
        {
          priority: 0,
          markdown: [
            '## ⛔ Evidence rejected — QualityFoundry',
            '',
            `The shards' evidence of workflow run ${context.runId} failed validation, so none of it is merged or reported:`,
            '',
            ...outcome.problems.map((problem) => `- ${problem}`),
          ].join('\n'),
        },
      ],
      PlatformLimit.checkRunOutputBytes,
      "The shards' artifacts are attached to the workflow run.",
    ).text;
    const checkRunId = gate
      ? await gate
          .complete({ conclusion: 'failure', output: { title: "Evidence rejected: a shard's artifact failed validation", summary } })
          .catch((error: unknown) => {
            if (!(error instanceof GitHubApiError)) throw error;
            core.warning(error.message);
            return null;
          })
      : null;
    return finishStep({
      evidence: null,
      exitCode: ExitCode.badInput,
      jobSummary: summary,
      outputs: { verdict: 'blocked', planHash: undefined, evidencePath: undefined, checkRunId },
      failure: `Evidence rejected: ${outcome.problems.join('; ')}`,
    });
  }

  const { evidence } = outcome;
  if (inputs.signingKey) await signEvidence(outDir, inputs.signingKey);
  let artifact: UploadedArtifact | undefined;
  if (!inputs.dryRun) {
    artifact = await core.group('Upload the merged evidence artifact', async () => {
      try {
        return await uploadEvidence({ dir: outDir, name: evidenceArtifactName(inputs.artifactName, context.runAttempt), runUrl: context.runUrl });
      } catch (error) {
        core.warning(`Merged evidence not uploaded: ${errorMessage(error)}`);
        notices.push(`The merged evidence could not be uploaded (${errorMessage(error)}).`);
        return undefined;
      }
    });
  }
  const published = await core.group('Publish the result', () =>
    publishGateResult({
      octokit,
      repo: context.repo,
      headSha: target.headSha,
      detailsUrl: context.runUrl,
      evidence,
      gate,
      artifact: artifactReference(artifact),
      notices,
      pathPrefix,
    }),
  );
  return finishStep({
    evidence,
    exitCode: outcome.exitCode,
    jobSummary: published.output.jobSummary,
    outputs: { verdict: evidence.gate.verdict, planHash: evidence.plan.planHash, evidencePath: outcome.evidencePath, checkRunId: published.checkRunId },
  });
}

/**
 * One shard's artifact of this run, from its newest attempt: a re-run of the failed jobs re-runs only
 * some shards (they upload `…-attempt-N`), the others' artifacts stay those of an earlier attempt.
 * No artifact is a missing shard (the merge judges it as a conflict); an unsafe one is a rejection.
 */
async function downloadShard(options: {
  inputs: ActionInputs;
  context: ActionContext;
  index: number;
  total: number;
  dir: string;
}): Promise<{ bundle: ShardBundle | null } | { problem: string }> {
  const { inputs, context, index, total, dir } = options;
  const base = shardArtifactName(inputs.artifactName, { index, total });
  for (let attempt = context.runAttempt; attempt >= 1; attempt--) {
    const name = evidenceArtifactName(base, attempt);
    try {
      const artifact = await downloadEvidence({ name, runId: context.runId, repo: context.repo, token: inputs.githubToken, dir });
      return { bundle: { dir, artifact: { name, id: artifact.id ?? null, sha256: artifact.sha256 ?? null } } };
    } catch (error) {
      if (!isQfError(error, 'EVIDENCE_INVALID')) throw error;
      if (!error.message.startsWith(`Workflow run ${context.runId} has no artifact`)) return { problem: `artifact ${name}: ${error.message}` };
    }
  }
  return { bundle: null };
}
