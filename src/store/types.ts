import type { AuditEvent, AuditEventInput } from '../audit/audit-chain.js';

/**
 * Records the store keeps. Times are ISO-8601 UTC strings (they sort as text on both backends);
 * free-form parts are JSON objects. Ids are chosen by the caller so a replayed write is idempotent.
 */

export interface ProjectRecord {
  /** `owner/name` for a repository. */
  id: string;
  createdAt: string;
}

export interface RunRecord {
  id: string;
  projectId: string;
  startedAt: string;
  finishedAt: string | null;
  mode: string;
  verdict: string | null;
  headSha: string | null;
  /**
   * The branch of this repository the run was pushed to (push, schedule, dispatch); absent for pull
   * request runs, whose head branch may be anyone's (a fork's `main` is not this repository's `main`).
   */
  branch?: string | null;
  data: Record<string, unknown>;
}

/** A PSMP artifact: one declared result of one producer. */
export interface ArtifactRecord {
  id: string;
  projectId: string;
  runId: string | null;
  type: string;
  producer: string;
  iteration: number;
  /** Per project and type, 1, 2, 3, … allocated by the store. */
  version: number;
  /** Artifact types this one was built from; `type@version` pins a version. */
  dependsOn: string[];
  digest: string;
  ref: string | null;
  createdAt: string;
}

export type ConflictKind = 'duplicate_producer' | 'circular_dependency' | 'missing_dependency' | 'version_conflict';
export type ConflictStatus = 'open' | 'retrying' | 'escalated' | 'resolved' | 'satisfied';
export type Strategy = 'RETRY' | 'OVERRIDE' | 'MERGE' | 'ESCALATE';

export interface ConflictResolution {
  strategy: Strategy;
  by: string;
  reason: string;
  at: string;
  winner?: string;
  mergedArtifactId?: string;
  retriedAs?: string;
}

export interface ConflictRecord {
  id: string;
  projectId: string;
  runId: string | null;
  kind: ConflictKind;
  artifactIds: string[];
  message: string;
  /** Kind-specific facts: the cycle's path, the missing type, the versions. */
  details: Record<string, unknown>;
  /** Re-declarations by the same producer and newer iterations; ADAPTIVE auto-overrides these. */
  lowRisk: boolean;
  status: ConflictStatus;
  createdAt: string;
  escalatedAt: string | null;
  resolvedAt: string | null;
  /** Every strategy applied, oldest first (an ESCALATE is usually followed by another). */
  resolutions: ConflictResolution[];
}

export interface TaskRecord {
  id: string;
  projectId: string;
  runId: string | null;
  kind: string;
  status: string;
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface ApprovalRow {
  projectId: string;
  runId: string | null;
  planHash: string;
  by: string;
  /** The approver's repository permission when they approved. */
  permission: string;
  at: string;
  source: string;
}

/** A reviewer's decision on one plan at one head commit, recorded by the bot. */
export interface PrReviewRow {
  projectId: string;
  pullNumber: number;
  headSha: string;
  planHash: string;
  by: string;
  verdict: 'approve' | 'reject';
  /** The reviewer's repository permission when they decided. */
  permission: string;
  reason: string;
  /** The comment (or check-run click) that carried the decision. */
  commentId: string | null;
  commentUrl: string | null;
  at: string;
}

/** Whether a head commit is held (`/qf hold`) or was released (`/qf unhold`), and by whom. */
export interface PrHoldRow {
  projectId: string;
  headSha: string;
  pullNumber: number;
  held: boolean;
  by: string;
  reason: string;
  at: string;
}

export interface CheckpointMeta {
  id: string;
  projectId: string;
  label: string;
  createdAt: string;
  /** Bytes of the gzip snapshot. */
  size: number;
  /** sha256 of the gzip snapshot. */
  sha256: string;
  artifactCount: number;
}

export interface CheckpointRecord extends CheckpointMeta {
  snapshot: Buffer;
}

/** Everything a checkpoint holds for one project; the audit log is never part of it (append-only). */
export interface ProjectState {
  project: ProjectRecord;
  runs: RunRecord[];
  artifacts: ArtifactRecord[];
  conflicts: ConflictRecord[];
  tasks: TaskRecord[];
  approvals: ApprovalRow[];
}

export interface AuditFilter {
  chain?: string;
  projectId?: string;
  actor?: string;
  action?: string;
  /** Matches actions starting with this prefix, e.g. `psmp.`. */
  actionPrefix?: string;
  subject?: string;
  /** Inclusive lower bound on `at`. */
  since?: string;
  /** Exclusive upper bound on `at`. */
  until?: string;
  afterSeq?: number;
  limit?: number;
}

export interface StoredAuditEvent extends AuditEvent {
  chain: string;
}

export interface AuditChainHead {
  chain: string;
  projectId: string | null;
  seq: number;
  hash: string;
}

export interface NewArtifact extends Omit<ArtifactRecord, 'version'> {}

/** What one page lists, with its filters (all optional but the project). The HTTP API reads through it. */
export type PageQuery =
  | { of: 'projects' }
  | { of: 'runs'; projectId: string; verdict?: string | undefined; headSha?: string | undefined; branch?: string | undefined }
  | { of: 'artifacts'; projectId: string; runId?: string | undefined; type?: string | undefined }
  | { of: 'conflicts'; projectId: string; status?: ConflictStatus | undefined }
  | { of: 'approvals'; projectId: string; since?: string | undefined; until?: string | undefined }
  | { of: 'checkpoints'; projectId: string }
  | {
      of: 'audit';
      projectId?: string | undefined;
      chain?: string | undefined;
      action?: string | undefined;
      actor?: string | undefined;
      since?: string | undefined;
      until?: string | undefined;
    };

export interface PageItems {
  projects: ProjectRecord;
  runs: RunRecord;
  artifacts: ArtifactRecord;
  conflicts: ConflictRecord;
  approvals: ApprovalRow;
  checkpoints: CheckpointMeta;
  audit: StoredAuditEvent;
}

/** The keyset of a page's last item (its sort columns), opaque to callers: pass it back as `after`. */
export type PageKey = Array<string | number>;

export interface PageRequest {
  limit: number;
  after?: PageKey;
}

export interface Page<T> {
  items: T[];
  /** The `after` of the next page; null on the last one. */
  next: PageKey | null;
}

/** One test case of one ingested run, as its JUnit report had it (the dashboard's tests page). */
export interface TestResultRow {
  projectId: string;
  runId: string;
  /** The run's startedAt, copied so a project's recent window needs no join. */
  runStartedAt: string;
  headSha: string | null;
  stepId: string;
  /** Position in the step's report: (runId, stepId, seq) is the key. */
  seq: number;
  testId: string;
  file: string | null;
  line: number | null;
  outcome: string;
  durationMs: number;
  /** Failure, error or skip message, capped; null for a pass. */
  message: string | null;
}

export interface TestResultFilter {
  projectId: string;
  runId?: string;
  testId?: string;
  /** Inclusive lower bound on runStartedAt. */
  since?: string;
  outcomes?: string[];
  /** Newest runs first when set; otherwise oldest first. */
  limit?: number;
}

/** One test over a window of runs: counts, flakiness and durations, computed by the database. */
export interface TestSummary {
  testId: string;
  file: string | null;
  line: number | null;
  runs: number;
  /** Failed or errored. */
  failures: number;
  /** Head SHAs on which the test both passed and failed (re-runs that disagree). */
  disagreeingShas: number;
  /** Changes between pass and fail from one run to the next (skips ignored). */
  flips: number;
  meanMs: number;
  maxMs: number;
}

/** How many runs of a project had each verdict, per UTC day (`YYYY-MM-DD`). */
export interface VerdictCount {
  day: string;
  verdict: string;
  count: number;
}

/** The first approving review of a plan at a head commit. */
export interface FirstApproval {
  headSha: string;
  planHash: string;
  at: string;
}

/**
 * The durable record behind QualityFoundry. SQLite and PostgreSQL implement it; one contract test
 * suite (test/store/storage-backend.contract.ts) holds both to the same behaviour.
 */
export interface StorageBackend {
  /** `sqlite:/path` or `postgres://host:port/db` (no password), for messages. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction: all its writes land or none do. `lockKey` serialises writers of
   * the same key across processes (PostgreSQL advisory lock; SQLite locks the whole file anyway).
   */
  transaction<T>(fn: (tx: StorageBackend) => Promise<T>, lockKey?: string): Promise<T>;
  close(): Promise<void>;

  upsertProject(project: ProjectRecord): Promise<void>;
  getProject(id: string): Promise<ProjectRecord | undefined>;
  upsertRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(projectId: string): Promise<RunRecord[]>;

  /** Inserts with the next version of (project, type); returns the stored record. */
  insertArtifact(artifact: NewArtifact): Promise<ArtifactRecord>;
  listArtifacts(projectId: string): Promise<ArtifactRecord[]>;
  getArtifact(id: string): Promise<ArtifactRecord | undefined>;

  /** Inserts or replaces by id. */
  saveConflict(conflict: ConflictRecord): Promise<void>;
  getConflict(id: string): Promise<ConflictRecord | undefined>;
  listConflicts(projectId: string, statuses?: ConflictStatus[]): Promise<ConflictRecord[]>;

  upsertTask(task: TaskRecord): Promise<void>;
  listTasks(projectId: string): Promise<TaskRecord[]>;

  /** One approval per (project, planHash, by); a repeat returns false and changes nothing. */
  recordApproval(approval: ApprovalRow): Promise<boolean>;
  listApprovals(filter: { projectId: string; since?: string; until?: string }): Promise<ApprovalRow[]>;

  /** True the first time a webhook delivery id is seen, false for every redelivery. */
  markDeliveryProcessed(deliveryId: string, event: string, at: string): Promise<boolean>;
  /** Whether a delivery id was recorded (processed, or being processed). */
  hasDelivery(deliveryId: string): Promise<boolean>;
  /** Forgets a delivery whose processing failed, so GitHub's redelivery is processed again. */
  releaseDelivery(deliveryId: string): Promise<void>;

  /** One decision per (project, head SHA, plan, reviewer); a repeat returns false and changes nothing. */
  recordPrReview(review: PrReviewRow): Promise<boolean>;
  /** A pull request's decisions on every head commit, oldest first. */
  listPrReviews(projectId: string, pullNumber: number): Promise<PrReviewRow[]>;
  /** Inserts or replaces the hold of (project, head SHA). */
  savePrHold(hold: PrHoldRow): Promise<void>;
  getPrHold(projectId: string, headSha: string): Promise<PrHoldRow | undefined>;
  /** True for the first caller of `key` ever (a re-run per head SHA and plan), false for every other. */
  claim(key: string, at: string): Promise<boolean>;
  /** Gives a claim back when the work it guarded failed, so a later attempt may take it. */
  releaseClaim(key: string): Promise<void>;

  saveCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  listCheckpoints(projectId: string): Promise<CheckpointMeta[]>;
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined>;
  deleteCheckpoint(id: string): Promise<void>;

  exportProjectState(projectId: string): Promise<ProjectState | undefined>;
  /** Replaces the project's runs, artifacts, conflicts, tasks and approvals by `state`'s. */
  importProjectState(state: ProjectState): Promise<void>;

  /** Chains and seals `inputs` after the chain's head, atomically; `at` must be set on each. */
  appendAudit(chain: string, projectId: string | null, inputs: AuditEventInput[]): Promise<AuditEvent[]>;
  /** Stores events sealed elsewhere (an AuditTrail) after checking they continue the stored chain. */
  appendSealedAudit(chain: string, projectId: string | null, events: AuditEvent[]): Promise<void>;
  listAudit(filter: AuditFilter): Promise<StoredAuditEvent[]>;
  listAuditHeads(projectId?: string): Promise<AuditChainHead[]>;

  /**
   * One page of `query`'s records by keyset (newest first; projects by id; audit events in chain
   * order): each page costs one index range however deep it is.
   */
  listPage<Q extends PageQuery>(query: Q, page: PageRequest): Promise<Page<PageItems[Q['of']]>>;

  /** Stores the test cases of ingested runs; a repeat of a (run, step, seq) changes nothing. */
  insertTestResults(rows: TestResultRow[]): Promise<void>;
  /** Takes back a run step's test cases from `fromSeq` on (a report that broke off while it was stored). */
  deleteTestResults(runId: string, stepId: string, fromSeq: number): Promise<void>;
  listTestResults(filter: TestResultFilter): Promise<TestResultRow[]>;
  /** Every test of the project's runs started at or after `since`, summarised. */
  summarizeTestResults(projectId: string, since: string): Promise<TestSummary[]>;
  /** The newest `perTest` results of each of `testIds` among runs started at or after `since`, newest first per test. */
  listTestHistories(projectId: string, testIds: string[], since: string, perTest: number): Promise<TestResultRow[]>;
  /** Every project, by id. */
  listProjects(): Promise<ProjectRecord[]>;
  /** A project's newest runs, newest first. */
  listRecentRuns(projectId: string, limit: number): Promise<RunRecord[]>;
  countVerdictsByDay(projectId: string): Promise<VerdictCount[]>;
  listFirstApprovals(projectId: string): Promise<FirstApproval[]>;
  /** Each test's duration in the newest run pushed to `branch` that recorded test results (a shard split's history). */
  latestTestDurations(projectId: string, branch: string): Promise<TestDurations | undefined>;
}

/** One run's test durations, in seconds per test id (a test run by several steps counts their sum). */
export interface TestDurations {
  runId: string;
  headSha: string | null;
  startedAt: string;
  seconds: Map<string, number>;
}
