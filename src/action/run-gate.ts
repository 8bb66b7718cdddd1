import { readFile, rm } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { CheckRunName, EvidenceFile, type ExitCode, evidenceArtifactName } from '../constants.js';
import { errorMessage, QfError } from '../errors.js';
import { signEvidence } from '../evidence/sign-evidence.js';
import { GitHubApiError } from '../github/call-github.js';
import { CheckRunApprovalSource } from '../github/check-run-approval-source.js';
import { CheckRunPublisher } from '../github/check-run-publisher.js';
import type { GitHubClient } from '../github/create-github-client.js';
import { truncateBytes, PlatformLimit } from '../github/limits.js';
import { listPullRequestFiles } from '../github/list-pull-request-files.js';
import { loadBasePolicy } from '../github/load-base-policy.js';
import { dashboardRunUrl } from '../github/dashboard-run-url.js';
import { publishGateResult } from '../github/publish-gate-result.js';
import { orchestrate } from '../orchestrator/orchestrate.js';
import type { ProgressEvent } from '../orchestrator/types.js';
import type { ChangeSet } from '../planner/change-set.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { changedFilesFromGit } from '../planner/changed-files.js';
import { parsePolicy } from '../policy/load-policy.js';
import type { ActionContext, Target } from './context.js';
import { artifactReference, shardArtifactName, uploadEvidence, type UploadedArtifact } from './evidence-artifact.js';
import type { ActionInputs } from './inputs.js';
import { finishStep } from './finish-step.js';
import { historyBranch, readShardHistory } from './shard-history.js';
import { baseBranchTrend, withTrend } from './base-branch-trend.js';

export interface GateRun {
  inputs: ActionInputs;
  context: ActionContext;
  octokit: GitHubClient;
}

const READ_ONLY_NOTICE =
  'The token cannot write check runs (HTTP 403: a read-only token, as on a pull request from a fork). The result is in this job summary and the evidence artifact; the two-workflow pattern (`mode: publish`) turns it into a check run.';

/** `mode: gate`: plan, run and judge the change in this job, then publish the verdict. */
export async function runGate({ inputs, context, octokit }: GateRun): Promise<ExitCode> {
  const { target } = context;
  if (target.kind === 'workflow_run') {
    throw new QfError(
      'BAD_INPUT',
      'input "mode": "gate" does not run on workflow_run events; expected "publish" there (the trusted half of the two-workflow pattern).',
    );
  }
  const repoDir = resolve(context.workspace, inputs.workingDirectory);
  const pathPrefix = relative(context.workspace, repoDir).split('\\').join('/');
  const outDir = join(context.runnerTemp, 'qualityfoundry-evidence');
  await rm(outDir, { recursive: true, force: true });
  const notices: string[] = [];

  // A shard publishes no check run: the merge job (mode: merge) publishes the one verdict of the matrix.
  let gate: CheckRunPublisher | null =
    inputs.dryRun || inputs.shard
      ? null
      : new CheckRunPublisher(octokit, { repo: context.repo, name: CheckRunName.gate, headSha: target.headSha, detailsUrl: context.runUrl });
  if (gate) {
    try {
      await gate.start({ title: 'Quality gate running', summary: 'Loading the policy and planning the checks…' });
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      core.warning(error.message);
      // 403 will not get better; anything else (5xx after retries) gets one more try at the end.
      if (error.status === 403) {
        gate = null;
        notices.push(READ_ONLY_NOTICE);
      }
    }
  }

  try {
    const { policy, change } = await core.group('Load the policy and the change', async () => {
      const loaded = await loadPolicyAndChange({ inputs, context, octokit, target, repoDir, pathPrefix });
      if (loaded.notice) notices.push(loaded.notice);
      core.info(
        `Policy ${loaded.policy.path} at ${loaded.policy.sourceRef ?? 'the work tree'} (sha256 ${loaded.policy.sha256.slice(0, 12)}); ${loaded.change.changedFiles.length} changed files`,
      );
      return loaded;
    });

    const approvals = new CheckRunApprovalSource({ octokit, repo: context.repo, approvalApp: inputs.approvalApp });
    const shard = inputs.shard ? { ...inputs.shard, history: await readShardHistory(inputs, context, notices) } : undefined;
    const progress = progressReporter(gate);
    const outcome = await orchestrate({
      repoDir,
      outDir,
      policy,
      change,
      approvals,
      env: process.env,
      runId: `${context.runId}`,
      onProgress: progress.onProgress,
      ...(shard ? { shard } : {}),
    });
    progress.close();
    await progress.flushed();
    const { evidence } = outcome;
    if (evidence.gate.verdict !== 'needs_approval') notices.push(...approvals.lastNotes);

    if (inputs.signingKey) {
      const id = await signEvidence(outDir, inputs.signingKey);
      core.info(`Evidence signed with key ${id.slice(0, 16)}… (${EvidenceFile.signature})`);
      notices.push(`The evidence is signed (\`${EvidenceFile.signature}\`, key id \`${id.slice(0, 16)}…\`); check it with \`qf verify --key PUBLIC_KEY.pem\`.`);
    }
    if (inputs.keyless) notices.push(await signKeyless(outDir, inputs.keyless));

    let artifact: UploadedArtifact | undefined;
    if (!inputs.dryRun) {
      artifact = await core.group('Upload the evidence artifact', async () => {
        try {
          const name = evidenceArtifactName(shardArtifactName(inputs.artifactName, inputs.shard), context.runAttempt);
          return await uploadEvidence({ dir: outDir, name, runUrl: context.runUrl });
        } catch (error) {
          core.warning(`Evidence artifact not uploaded: ${errorMessage(error)}`);
          notices.push(`The evidence artifact could not be uploaded (${errorMessage(error)}); evidence.json stays on the runner at ${outDir}.`);
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
        dashboardUrl: inputs.apiUrl && dashboardRunUrl(inputs.apiUrl, context.repo, context.runId, context.runAttempt),
      }),
    );
    // After the evidence is sealed and published: the trend is the bot's record, never part of this run's evidence.
    const trend =
      inputs.apiUrl && inputs.apiToken
        ? await core.group("The base branch's trend from the bot", () =>
            baseBranchTrend({ url: inputs.apiUrl!, token: inputs.apiToken! }, context.repo, historyBranch(context)),
          )
        : undefined;
    return await finishStep({
      evidence,
      exitCode: outcome.exitCode,
      jobSummary: trend ? withTrend(published.output.jobSummary, trend) : published.output.jobSummary,
      outputs: { verdict: evidence.gate.verdict, planHash: evidence.plan.planHash, evidencePath: outcome.evidencePath, checkRunId: published.checkRunId },
    });
  } catch (error) {
    // The check run must not stay in_progress forever: close it with what went wrong.
    if (gate) {
      const summary = truncateBytes(`QualityFoundry could not finish:\n\n\`\`\`text\n${errorMessage(error)}\n\`\`\``, PlatformLimit.checkRunOutputBytes);
      await gate
        .complete({ conclusion: 'failure', output: { title: 'QualityFoundry could not run', summary } })
        .catch((publishError: unknown) => core.warning(errorMessage(publishError)));
    }
    throw error;
  }
}

/** The policy (the base commit's for a pull request) and the change, as every mode that judges reads them. */
export async function loadPolicyAndChange(options: {
  inputs: ActionInputs;
  context: ActionContext;
  octokit: GitHubClient;
  target: Exclude<Target, { kind: 'workflow_run' }>;
  repoDir: string;
  pathPrefix: string;
}): Promise<{ policy: LoadedPolicy; change: ChangeSet; notice: string | null }> {
  const { inputs, context, octokit, target, repoDir, pathPrefix } = options;
  if (target.kind === 'pull_request') {
    const repoFiles = await listPullRequestFiles(octokit, context.repo, target.number);
    const { policy, notice } = await loadBasePolicy({
      octokit,
      repo: context.repo,
      path: inputs.policy,
      baseSha: target.baseSha,
      headSha: target.headSha,
      changedFiles: repoFiles,
    });
    const change: ChangeSet = {
      base: target.baseSha,
      head: target.headSha,
      changedFiles: relativeTo(repoFiles, pathPrefix),
      labels: target.labels,
      author: target.author,
    };
    return { policy, change, notice };
  }
  // Pushes, merge groups and dispatches run code already in the repository: its policy is trusted.
  const file = join(context.workspace, inputs.policy);
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new QfError(
      'BAD_INPUT',
      `input "policy": cannot read ${inputs.policy} in the checkout (${error.code ?? error.message}); expected a policy file (check out the repository first).`,
      { cause: error },
    );
  });
  const policy = parsePolicy(bytes, { path: inputs.policy, sourceRef: target.headSha });
  const changedFiles = await changedFilesFromGit(repoDir, target.baseSha, target.headSha);
  return { policy, change: { base: target.baseSha, head: target.headSha, changedFiles, labels: [] }, notice: null };
}

/** Repository paths → paths inside the working directory (the planner matches those). */
function relativeTo(files: readonly string[], prefix: string): string[] {
  if (prefix === '' || prefix === '.') return [...files];
  const start = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return files.filter((file) => file.startsWith(start)).map((file) => posix.relative(prefix, file));
}

/** One log group per step, and a check run update as each step finishes (sent in order, never awaited by the run). */
function progressReporter(gate: CheckRunPublisher | null) {
  let open = false;
  let finished = 0;
  let queue: Promise<void> = Promise.resolve();
  const lines: string[] = [];
  return {
    onProgress(event: ProgressEvent): void {
      if (event.kind === 'step-started') {
        if (open) core.endGroup();
        core.startGroup(`Step ${event.stepId} (${event.tool})${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}`);
        open = true;
      } else if (event.kind === 'step-finished') {
        if (open) core.endGroup();
        open = false;
        finished += 1;
        lines.push(`- \`${event.stepId}\`: ${event.status} (${(event.durationMs / 1000).toFixed(1)} s)`);
        core.info(`Step ${event.stepId}: ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s`);
        const summary = truncateBytes(`${finished} step${finished === 1 ? '' : 's'} finished:\n\n${lines.join('\n')}`, PlatformLimit.checkRunOutputBytes);
        if (gate)
          queue = queue.then(() => gate.update({ title: 'Quality gate running', summary }).catch((error: unknown) => core.warning(errorMessage(error))));
      }
    },
    close(): void {
      if (open) core.endGroup();
      open = false;
    },
    flushed: () => queue,
  };
}

/**
 * Keyless signing (the Sigstore client loads only here). A failure leaves the evidence unsigned and
 * says so: the verdict is about the code, and a verifier refuses an unsigned bundle anyway.
 */
async function signKeyless(outDir: string, urls: { fulcioUrl: string; rekorUrl: string }): Promise<string> {
  try {
    const identityToken = await core.getIDToken('sigstore');
    const { signEvidenceKeyless } = await import('../evidence/sigstore-evidence.js');
    const identity = await signEvidenceKeyless(outDir, { identityToken, ...urls });
    core.info(`Evidence signed keyless as ${identity} (${EvidenceFile.sigstoreBundle})`);
    return `The evidence is signed keyless (\`${EvidenceFile.sigstoreBundle}\`, identity \`${identity}\`); check it with \`qf verify --certificate-identity ${identity} --trusted-root ROOT.json\`.`;
  } catch (error) {
    core.warning(`Evidence not signed keyless: ${errorMessage(error)}`);
    return `The evidence could not be signed keyless (${errorMessage(error)}); it is not signed.`;
  }
}
