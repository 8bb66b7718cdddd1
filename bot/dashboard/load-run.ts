import { projectChain, runChain } from '../../src/governance/index.js';
import type { ConflictRecord, RunRecord, StorageBackend, StoredAuditEvent, TestResultRow } from '../../src/store/index.js';

export interface RunView {
  run: RunRecord;
  failedTests: TestResultRow[];
  conflicts: ConflictRecord[];
  /** The run's own trail (from its evidence) and what the bot recorded about it, each in chain order. */
  runTrail: StoredAuditEvent[];
  botTrail: StoredAuditEvent[];
}

export async function loadRun(store: StorageBackend, projectId: string, runId: string): Promise<RunView | undefined> {
  const run = await store.getRun(runId);
  if (!run || run.projectId !== projectId) return undefined;
  const [failedTests, conflicts, runTrail, botTrail] = await Promise.all([
    store.listTestResults({ projectId, runId, outcomes: ['failed', 'error', 'xpassed'] }),
    store.listConflicts(projectId),
    store.listAudit({ chain: runChain(runId) }),
    store.listAudit({ chain: projectChain(projectId), subject: runId }),
  ]);
  return { run, failedTests, conflicts: conflicts.filter((c) => c.runId === runId), runTrail, botTrail };
}
