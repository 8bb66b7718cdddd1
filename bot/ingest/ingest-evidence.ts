import type { AuditEventInput } from '../../src/audit/audit-chain.js';
import { DEFAULT_ARTIFACT_NAME, evidenceArtifactName } from '../../src/constants.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { validateEvidenceBundle } from '../../src/github/validate-evidence-bundle.js';
import { createCheckpoint, PsmpEngine, projectChain, runChain } from '../../src/governance/index.js';
import type { ConflictRecord, RunRecord, StorageBackend } from '../../src/store/index.js';
import { AuditAction, BOT_ACTOR } from '../bot-constants.js';
import type { ReviewScope } from '../review/review-types.js';
import { declareRunArtifacts } from './declare-run-artifacts.js';
import { downloadEvidenceArtifact } from './download-evidence-artifact.js';
import { recordTestResults } from './record-test-results.js';

/** Checkpoints the bot keeps per repository (as `qf run --db` does). */
const CHECKPOINTS_KEPT = 20;

export interface WorkflowRunRef {
  runId: number;
  attempt: number;
  headSha: string;
  /** The run's page, for links in comments. */
  htmlUrl: string;
  /** The branch of this repository the run was pushed to; null for pull request runs (see {@link workflowRunRef}). */
  branch: string | null;
}

/** The fields of a workflow run (webhook payload or REST) that ingestion reads. */
interface WorkflowRunFields {
  id: number;
  run_attempt?: number | undefined;
  head_sha: string;
  html_url: string;
  head_branch: string | null;
  event: string;
  head_repository?: { full_name: string } | null | undefined;
}

/**
 * A workflow run as ingestion records it. Its branch counts only when the run is of this repository
 * and not of a pull request: a pull request's head branch is the contributor's (every fork has a
 * `main`), and a base branch's history (the shards' timings, the trend) must not take a fork's runs.
 */
export function workflowRunRef(run: WorkflowRunFields, projectId: string): WorkflowRunRef {
  const ofPullRequest = run.event === 'pull_request' || run.event === 'pull_request_target';
  const ofThisRepository = run.head_repository?.full_name.toLowerCase() === projectId.toLowerCase();
  return {
    runId: run.id,
    attempt: run.run_attempt ?? 1,
    headSha: run.head_sha,
    htmlUrl: run.html_url,
    branch: !ofPullRequest && ofThisRepository ? run.head_branch : null,
  };
}

export type IngestResult =
  | { status: 'duplicate' }
  | { status: 'no-evidence' }
  | { status: 'rejected'; runRecordId: string; problems: string[] }
  | { status: 'ingested'; runRecordId: string; evidence: Evidence; conflicts: ConflictRecord[]; closed: ConflictRecord[] };

/** The store's id of a workflow run attempt: idempotency is on (repository, run id, attempt). */
export const runRecordId = (projectId: string, ref: Pick<WorkflowRunRef, 'runId' | 'attempt'>): string => `gh:${projectId}:${ref.runId}.${ref.attempt}`;

/**
 * Takes one workflow run's evidence into the store: downloaded, validated like publish mode does
 * (schema, sizes, digests, chain, seal, bound to the head SHA), then recorded in ONE transaction —
 * project, run, each step as a PSMP artifact, the evidence's audit events on the run's chain, the
 * ingestion on the project's chain, a checkpoint — so a failure leaves nothing behind. A bundle that
 * fails validation is recorded as a rejected run with the reasons, and nothing of it is believed.
 */
export async function ingestEvidence(scope: ReviewScope, ref: WorkflowRunRef, options: { requireEvidence?: boolean } = {}): Promise<IngestResult> {
  const { store, clock } = scope.deps;
  const { projectId } = scope;
  const id = runRecordId(projectId, ref);
  const claim = `ingest:${id}`;
  // A cheap early exit for redeliveries; the claim taken inside the transaction is what decides.
  if (await store.getRun(id)) return { status: 'duplicate' };

  const downloaded = await downloadEvidenceArtifact(scope, ref.runId, evidenceArtifactName(DEFAULT_ARTIFACT_NAME, ref.attempt));
  // A workflow without the gate (lint, deploy) has no evidence: nothing to record, nothing rejected.
  if (!downloaded.ok && downloaded.missing && !options.requireEvidence) return { status: 'no-evidence' };
  try {
    const check = downloaded.ok
      ? await validateEvidenceBundle(downloaded.dir, { headSha: ref.headSha })
      : { ok: false as const, problems: [downloaded.problem] };
    const at = clock().toISOString();
    const source = {
      runId: ref.runId,
      attempt: ref.attempt,
      headSha: ref.headSha,
      url: ref.htmlUrl,
      ...(downloaded.ok ? { artifactId: downloaded.artifactId, zipSha256: downloaded.zipSha256 } : {}),
    };
    return await store.transaction(async (tx) => {
      if (!(await tx.claim(claim, at))) return { status: 'duplicate' as const };
      await tx.upsertProject({ id: projectId, createdAt: at });
      if (!check.ok) {
        await tx.upsertRun({
          id,
          projectId,
          startedAt: at,
          finishedAt: at,
          mode: 'unknown',
          verdict: 'rejected',
          headSha: ref.headSha,
          data: { source, rejected: check.problems },
        });
        await tx.appendAudit(projectChain(projectId), projectId, [
          { actor: BOT_ACTOR, action: AuditAction.evidenceRejected, subject: id, at, data: { ...source, problems: check.problems } },
        ]);
        return { status: 'rejected' as const, runRecordId: id, problems: check.problems };
      }
      const { evidence } = check;
      // Streamed from the reports into the store in batches, inside the transaction: memory stays
      // bounded however large the suite, and a failure leaves none of it behind.
      const tests = downloaded.ok ? await recordTestResults(tx, downloaded.dir, evidence, { projectId, runId: id, headSha: ref.headSha }) : undefined;
      const events: AuditEventInput[] = [];
      const iteration = await iterationOf(tx, projectId, ref.headSha);
      const run: RunRecord = {
        id,
        projectId,
        startedAt: evidence.startedAt,
        finishedAt: evidence.finishedAt,
        mode: evidence.policy.mode,
        verdict: evidence.gate.verdict,
        headSha: ref.headSha,
        branch: ref.branch,
        data: {
          source,
          iteration,
          evidenceRunId: evidence.runId,
          complete: evidence.complete,
          planHash: evidence.plan.planHash,
          policySha256: evidence.policy.sha256,
          reasons: evidence.gate.reasons,
          rules: evidence.gate.rules,
          durationMs: Date.parse(evidence.finishedAt) - Date.parse(evidence.startedAt),
          steps: evidence.steps.map((step) => ({
            id: step.id,
            tool: step.tool,
            status: step.status,
            durationMs: step.durationMs,
            attempts: step.attempts,
            ...(step.selection ? { shard: step.selection.shard } : {}),
          })),
          evidenceConflicts: evidence.governance.conflicts,
          metrics: evidence.metrics,
          approval: evidence.approval,
          ...(tests && tests.problems.length > 0 ? { testReportProblems: tests.problems } : {}),
        },
      };
      await tx.upsertRun(run);
      // The evidence's own trail, hash for hash, on the run's chain: the store can re-verify it later.
      await tx.appendSealedAudit(runChain(id), projectId, evidence.audit);
      const engine = new PsmpEngine(tx, { mode: evidence.policy.mode, clock, autoResolver: BOT_ACTOR, audit: (event) => void events.push(event) });
      const { conflicts, closed, testDisagreements } = await declareRunArtifacts({ tx, engine, projectId, runRecordId: id, ref, iteration, evidence });
      events.unshift({
        actor: BOT_ACTOR,
        action: AuditAction.evidenceIngested,
        subject: id,
        at,
        data: {
          ...source,
          verdict: evidence.gate.verdict,
          steps: evidence.steps.length,
          auditEvents: evidence.audit.length,
          iteration,
          ...(testDisagreements > 0 ? { testDisagreements } : {}),
        },
      });
      await createCheckpoint(tx, projectId, {
        label: `after workflow run ${ref.runId} attempt ${ref.attempt}`,
        keepLast: CHECKPOINTS_KEPT,
        clock,
        actor: BOT_ACTOR,
        audit: (event) => void events.push(event),
      });
      await tx.appendAudit(
        projectChain(projectId),
        projectId,
        events.map((event) => ({ ...event, at: event.at ?? at })),
      );
      return { status: 'ingested' as const, runRecordId: id, evidence, conflicts, closed };
    }, `project:${projectId}`);
  } finally {
    if (downloaded.ok) await downloaded.cleanup();
  }
}

/**
 * PSMP iterations are numbers; the bot's iteration is the head SHA. Every head SHA gets the next
 * number the first time a run of it is ingested, and keeps it (re-runs and shards share it).
 */
async function iterationOf(tx: StorageBackend, projectId: string, headSha: string): Promise<number> {
  const runs = (await tx.listRuns(projectId)).filter((run) => typeof run.data.iteration === 'number');
  const same = runs.find((run) => run.headSha === headSha);
  if (same) return same.data.iteration as number;
  return runs.reduce((max, run) => Math.max(max, run.data.iteration as number), 0) + 1;
}
