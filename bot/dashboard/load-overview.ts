import { projectChain } from '../../src/governance/index.js';
import type { ConflictRecord, RunRecord, StorageBackend, VerdictCount } from '../../src/store/index.js';
import { percentile } from './percentile.js';
import type { ChainStatus, ChainStatusSource } from './start-chain-verifier.js';

/** Runs the duration, pass-rate and eval figures are computed over (the newest). */
export const OVERVIEW_WINDOW = 200;
export const EVAL_PASS_RATE = 'evals.pass_rate';

export interface ApprovalLatency {
  runId: string;
  headSha: string;
  publishedAt: string;
  approvedAt: string;
  seconds: number;
}

export interface EvalPoint {
  runId: string;
  startedAt: string;
  passRate: number;
  /** The previous run's pass rate when this one is lower (a regression). */
  regressedFrom?: number;
}

export interface Overview {
  projectId: string;
  verdictsByDay: VerdictCount[];
  totalRuns: number;
  /** Newest first, at most OVERVIEW_WINDOW. */
  recent: RunRecord[];
  /** Of the window's runs that reached a pass or fail verdict. */
  passRate: number | null;
  durationP50Ms: number | null;
  durationP95Ms: number | null;
  openEscalations: ConflictRecord[];
  approvals: ApprovalLatency[];
  approvalP50Seconds: number | null;
  approvalP95Seconds: number | null;
  evals: EvalPoint[];
  /** The latest background verification of the project's chain; undefined while pending. */
  audit: ChainStatus | undefined;
}

/**
 * Everything the repository overview shows, read through the store's indexed reads. The audit chain's
 * status is the background verifier's latest result: re-hashing the chain per view cost most of the
 * page (30,000 events: ~0.8 s on SQLite, ~1.2 s on PostgreSQL).
 */
export async function loadOverview(store: StorageBackend, projectId: string, chains: ChainStatusSource): Promise<Overview> {
  const [verdictsByDay, recent, conflicts, firstApprovals] = await Promise.all([
    store.countVerdictsByDay(projectId),
    store.listRecentRuns(projectId, OVERVIEW_WINDOW),
    store.listConflicts(projectId, ['open', 'escalated', 'retrying']),
    store.listFirstApprovals(projectId),
  ]);
  const judged = recent.filter((run) => run.verdict === 'pass' || run.verdict === 'fail');
  const durations = recent.map((run) => run.data.durationMs).filter((ms): ms is number => typeof ms === 'number');

  // Plan published → approved: the first run of a head SHA that ended waiting for approval of a plan,
  // to the first approving review of that plan at that head SHA.
  const published = new Map<string, RunRecord>();
  for (const run of [...recent].reverse()) {
    const key = `${run.headSha}:${String(run.data.planHash)}`;
    if (run.verdict === 'needs_approval' && !published.has(key)) published.set(key, run);
  }
  const approvals: ApprovalLatency[] = [];
  for (const approval of firstApprovals) {
    const run = published.get(`${approval.headSha}:${approval.planHash}`);
    const publishedAt = run?.finishedAt ?? undefined;
    if (!run || !publishedAt) continue;
    const seconds = (Date.parse(approval.at) - Date.parse(publishedAt)) / 1000;
    if (seconds >= 0) approvals.push({ runId: run.id, headSha: approval.headSha, publishedAt, approvedAt: approval.at, seconds });
  }

  const evals: EvalPoint[] = [];
  for (const run of [...recent].reverse()) {
    const rate = (run.data.metrics as Record<string, unknown> | undefined)?.[EVAL_PASS_RATE];
    if (typeof rate !== 'number') continue;
    const previous = evals.at(-1);
    evals.push({
      runId: run.id,
      startedAt: run.startedAt,
      passRate: rate,
      ...(previous && rate < previous.passRate ? { regressedFrom: previous.passRate } : {}),
    });
  }
  const latencies = approvals.map((a) => a.seconds);
  return {
    projectId,
    verdictsByDay,
    totalRuns: verdictsByDay.reduce((sum, v) => sum + v.count, 0),
    recent,
    passRate: judged.length === 0 ? null : judged.filter((run) => run.verdict === 'pass').length / judged.length,
    durationP50Ms: percentile(durations, 50),
    durationP95Ms: percentile(durations, 95),
    openEscalations: conflicts,
    approvals,
    approvalP50Seconds: percentile(latencies, 50),
    approvalP95Seconds: percentile(latencies, 95),
    evals,
    audit: chains.latest(projectChain(projectId)),
  };
}
