import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { AuditTrail } from '../audit/audit-chain.js';
import { EvidenceFile } from '../constants.js';
import { errorMessage } from '../errors.js';
import { dependencyFingerprint, gitRepro } from '../evidence/repro.js';
import { prepareOutputFolder, writeFileAtomic } from '../evidence/output-folder.js';
import { checkResume, STATE_SAVED, stateDigest } from './check-resume.js';
import { inRunLedger, type ArtifactLedger } from './artifact-ledger.js';
import { finishRun } from './finish-run.js';
import { approveNode } from './nodes/approve.js';
import { collectNode } from './nodes/collect.js';
import { executeNode } from './nodes/execute.js';
import { judgeNode } from './nodes/judge.js';
import { loadPolicyNode } from './nodes/load-policy.js';
import { planNode } from './nodes/plan.js';
import type { RunContext, RunNodeFunction } from './run-context.js';
import { initialRunState, TRANSITIONS, type RunState } from './run-state.js';
import type { OrchestrateOptions, RunNode, RunOutcome } from './types.js';

export interface OrchestrateRunOptions extends OrchestrateOptions {
  /** Continue a run saved in run-state.json (after an approval) instead of starting anew. */
  resume?: RunState;
  /** Aborting writes evidence marked incomplete, with the reason, and stops. */
  signal?: AbortSignal;
  /** Where step results are declared as PSMP artifacts; default: checked within this run only. */
  ledger?: ArtifactLedger;
  /** The project the run belongs to (`owner/name`); default: the repository folder's name. */
  projectId?: string;
  /**
   * The PSMP iteration this run declares its artifacts in: each run of a project is a new one, so a
   * re-run is a newer version, not a conflict. Shards of one run share it. Default 1.
   */
  iteration?: number;
}

/** One function per node; the loop below runs them in the order the transition table allows. */
const NODES: Readonly<Record<Exclude<RunNode, 'done'>, RunNodeFunction>> = {
  load_policy: loadPolicyNode,
  plan: planNode,
  approve: approveNode,
  execute: executeNode,
  collect: collectNode,
  judge: judgeNode,
};

/**
 * Runs the state machine load_policy → plan → approve → execute → collect → judge → done for one
 * change, writing OUT/evidence.json and OUT/summary.md. Each node takes the run state and returns
 * the next node and the state it hands on; every transition is an audit event. A run waiting for
 * a human stops at approve with its state saved, and resumes there.
 */
export async function orchestrate(options: OrchestrateRunOptions): Promise<RunOutcome> {
  const clock = options.clock ?? (() => new Date());
  await prepareOutputFolder(options.outDir, { resume: options.resume !== undefined });
  // A saved state is checked against the policy and the change given now, never trusted (see checkResume).
  let state: RunState = options.resume
    ? checkResume(options.resume, { policy: options.policy, change: options.change })
    : initialRunState(
        options.runId ?? randomUUID(),
        clock().toISOString(),
        { path: options.policy.path, sourceRef: options.policy.sourceRef, sha256: options.policy.sha256 },
        options.change,
      );
  const audit = options.audit ?? new AuditTrail(clock, state.audit);
  if (options.resume) audit.record({ actor: 'orchestrator', action: 'run.resumed', subject: state.runId, data: { stateDigest: stateDigest(options.resume) } });
  const statePath = path.join(options.outDir, EvidenceFile.runState);
  // git's look at the repository is needed only for the evidence: it runs while the run goes on.
  const repro = Promise.all([gitRepro(options.repoDir), dependencyFingerprint(options.repoDir)]).then(([git, fingerprint]) => ({
    ...git,
    dependencyFingerprint: fingerprint,
  }));
  repro.catch(() => undefined); // awaited (and reported) when the evidence is written
  // The latest state worth keeping: after the last transition, or a step that finished since.
  let lastSaved = state;
  const context: RunContext = {
    options,
    policy: options.policy,
    audit,
    ledger: options.ledger ?? inRunLedger(options.policy.policy.mode, options.projectId ?? path.basename(options.repoDir), state.runId, clock),
    subject: state.runId,
    repro,
    checkpoint: async (saved, resumable = false) => {
      lastSaved = saved;
      // A state a run may resume from ends its audit chain with the digest of the rest of the file.
      if (resumable) audit.record({ actor: 'orchestrator', action: STATE_SAVED, subject: saved.runId, data: { digest: stateDigest(saved) } });
      await writeFileAtomic(statePath, `${JSON.stringify({ ...saved, audit: [...audit.events] })}\n`);
    },
  };

  try {
    while (state.node !== 'done') {
      const result = await NODES[state.node](state, context);
      if ('stay' in result) {
        // Waiting for a human: finishRun saves the state where it stopped, so a later run resumes at this node.
        return await finishRun(result.state, context, { judgement: result.state.judgement!, complete: true });
      }
      if (!TRANSITIONS[state.node].includes(result.next)) throw new Error(`Illegal transition ${state.node} → ${result.next}`);
      audit.record({ actor: 'orchestrator', action: 'transition', subject: state.runId, data: { from: state.node, to: result.next, ...result.data } });
      state = { ...result.state, node: result.next };
      lastSaved = state;
      options.onProgress?.({ kind: 'node', node: result.next });
    }
    return await finishRun(state, context, { judgement: state.judgement!, complete: true });
  } catch (error) {
    // Never leave a partial evidence.json that looks complete: write it marked incomplete, then fail.
    const reason = errorMessage(error);
    audit.record({ actor: 'orchestrator', action: 'run.aborted', subject: state.runId, data: { node: state.node, reason } });
    await finishRun(lastSaved, context, {
      judgement: { verdict: 'blocked', rules: [], reasons: [`Run did not complete: ${reason}`] },
      complete: false,
      incompleteReason: reason,
    }).catch(() => undefined);
    throw error;
  }
}
