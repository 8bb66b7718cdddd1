import path from 'node:path';
import { AuditTrail, type AuditEvent } from '../audit/audit-chain.js';
import { EvidenceFile } from '../constants.js';
import type { Evidence } from '../evidence/schema.js';
import { storeLedger, type ArtifactLedger } from '../orchestrator/artifact-ledger.js';
import { orchestrate, type OrchestrateRunOptions } from '../orchestrator/orchestrate.js';
import type { RunOutcome } from '../orchestrator/types.js';
import type { Policy } from '../policy/schema.js';
import { git } from '../util/git.js';

/** Checkpoints kept per project; older ones are deleted as new runs finish. */
export const CHECKPOINTS_KEPT = 20;

/** What `qf run --db|--database-url` adds to a run: a durable record in the store. */
export interface RunRecorder {
  audit: AuditTrail;
  ledger: ArtifactLedger;
  projectId: string;
  /** This run's PSMP iteration: its position among the project's recorded runs. */
  iteration: number;
  finish(evidence: Evidence | undefined): Promise<void>;
}

/** `owner/name` from the origin remote when there is one, else `local/<folder name>`. */
export async function projectIdOf(repoDir: string): Promise<string> {
  const remote = await git(repoDir, ['remote', 'get-url', 'origin']).catch(() => '');
  const match = /[:/]([^/:]+\/[^/]+?)(\.git)?$/.exec(remote.trim());
  // Reports select by OWNER/NAME; a repository without a remote is filed under local/.
  return match?.[1] ?? `local/${path.basename(repoDir)}`;
}

/**
 * Opens the store and wires a run to it: the run's audit trail mirrored into the project's
 * durable log, its artifacts declared through the PsmpEngine, the run row kept up to date.
 * The store modules are loaded only here, so runs without a database never load a driver.
 */
export async function openRunRecorder(options: {
  connection: { dbPath: string } | { databaseUrl: string };
  repoDir: string;
  runId: string;
  policy: Policy;
  headSha: string | null;
  previousAudit: readonly AuditEvent[];
  clock: () => Date;
  /** The run's evidence folder: recorded with the run so readers of the store (qf mcp) find its evidence.json. */
  outDir?: string;
}): Promise<RunRecorder> {
  const { openStore } = await import('../store/open-store.js');
  const { ComplianceAuditor, PsmpEngine, runChain, createCheckpoint } = await import('../governance/index.js');
  const store = await openStore(options.connection);
  const projectId = await projectIdOf(options.repoDir);
  const startedAt = options.clock().toISOString();
  const audit = new AuditTrail(options.clock, options.previousAudit);
  const auditor = new ComplianceAuditor(store, { chain: runChain(options.runId), projectId, clock: options.clock });
  const mirror = auditor.mirror(audit, runChain(options.runId));
  const engine = new PsmpEngine(store, { mode: options.policy.mode, audit: (event) => audit.record(event), clock: options.clock });
  await store.upsertProject({ id: projectId, createdAt: startedAt });
  const run = { id: options.runId, projectId, startedAt, finishedAt: null, mode: options.policy.mode, verdict: null, headSha: options.headSha, data: {} };
  const previous = await store.getRun(options.runId);
  await store.upsertRun(previous ?? run);
  const runs = await store.listRuns(projectId);
  const iteration = runs.findIndex((candidate) => candidate.id === options.runId) + 1;

  return {
    audit,
    projectId,
    iteration,
    ledger: storeLedger(engine, projectId, options.runId),
    async finish(evidence) {
      try {
        await mirror.flush();
        await store.upsertRun({
          ...(previous ?? run),
          finishedAt: options.clock().toISOString(),
          verdict: evidence?.gate.verdict ?? null,
          data: {
            ...(evidence ? { evidenceComplete: evidence.complete, planHash: evidence.plan.planHash } : {}),
            // A run that stopped early still wrote evidence.json, marked incomplete.
            ...(options.outDir ? { evidencePath: path.join(options.outDir, EvidenceFile.evidence) } : {}),
          },
        });
        // A snapshot of the project's state after every run, so a bad run can be rolled back.
        await createCheckpoint(store, projectId, { label: `after run ${options.runId}`, keepLast: CHECKPOINTS_KEPT, clock: options.clock });
      } finally {
        await store.close();
      }
    },
  };
}

/**
 * orchestrate() with the run recorded in the store, as `qf run --db` records it: the run's trail
 * mirrored, its artifacts declared through PSMP, the run row (with its evidence.json) and a
 * checkpoint once it ends. Used by `qf mcp`'s run_pytest and the bot's /mcp.
 */
export async function orchestrateRecorded(
  connection: { dbPath: string } | { databaseUrl: string },
  options: OrchestrateRunOptions & { runId: string; headSha?: string | null },
): Promise<RunOutcome> {
  const clock = options.clock ?? (() => new Date());
  const recorder = await openRunRecorder({
    connection,
    repoDir: options.repoDir,
    runId: options.runId,
    policy: options.policy.policy,
    headSha: options.headSha ?? null,
    previousAudit: [],
    clock,
    outDir: options.outDir,
  });
  let outcome: RunOutcome | undefined;
  try {
    outcome = await orchestrate({ ...options, audit: recorder.audit, ledger: recorder.ledger, projectId: recorder.projectId, iteration: recorder.iteration });
    return outcome;
  } finally {
    await recorder.finish(outcome?.evidence);
  }
}
