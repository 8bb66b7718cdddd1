import type { AuditEvent, AuditEventInput } from '../audit/audit-chain.js';
import { QfError } from '../errors.js';
import {
  APPROVAL_COLUMNS,
  ARTIFACT_COLUMNS,
  CONFLICT_COLUMNS,
  PR_HOLD_COLUMNS,
  PR_REVIEW_COLUMNS,
  RUN_COLUMNS,
  TASK_COLUMNS,
  approvalParams,
  artifactParams,
  conflictParams,
  placeholders,
  prHoldParams,
  prReviewParams,
  runParams,
  taskParams,
  toApproval,
  toArtifact,
  toConflict,
  toPrHold,
  toPrReview,
  toRun,
  toTask,
  upsertSql,
} from './rows.js';
import * as auditLog from './sql-audit-log.js';
import { listPage } from './sql-pages.js';
import * as dashboardReads from './sql-dashboard-reads.js';
import { latestTestDurations } from './sql-test-durations.js';
import { exportProjectState, importProjectState } from './sql-project-state.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import type {
  ApprovalRow,
  ArtifactRecord,
  AuditChainHead,
  AuditFilter,
  FirstApproval,
  TestDurations,
  CheckpointMeta,
  CheckpointRecord,
  ConflictRecord,
  ConflictStatus,
  NewArtifact,
  Page,
  PageItems,
  PageQuery,
  PageRequest,
  PrHoldRow,
  PrReviewRow,
  ProjectRecord,
  ProjectState,
  RunRecord,
  StorageBackend,
  StoredAuditEvent,
  TaskRecord,
  TestResultFilter,
  TestResultRow,
  TestSummary,
  VerdictCount,
} from './types.js';

const CHECKPOINT_META = 'id, project_id, label, created_at, size, sha256, artifact_count';

/**
 * The StorageBackend over either SQL driver. The SQL is written once in the subset both dialects
 * share (`ON CONFLICT … DO UPDATE`, TEXT times and JSON); the drivers differ only in placeholders,
 * blobs and locking.
 */
export class SqlStore implements StorageBackend {
  readonly location: string;

  constructor(
    private readonly driver: SqlDriver,
    private readonly ex: SqlExecutor = driver,
    private readonly inTransaction = false,
  ) {
    this.location = driver.location;
  }

  transaction<T>(fn: (tx: StorageBackend) => Promise<T>, lockKey?: string): Promise<T> {
    // Nested calls join the outer transaction: its lock is already held.
    if (this.inTransaction) return fn(this);
    return this.driver.transaction((tx) => fn(new SqlStore(this.driver, tx, true)), lockKey);
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async upsertProject(project: ProjectRecord): Promise<void> {
    await this.ex.run(`INSERT INTO projects (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, [project.id, project.createdAt]);
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const rows = await this.ex.all<{ id: string; created_at: string }>(`SELECT id, created_at FROM projects WHERE id = ?`, [id]);
    return rows[0] && { id: rows[0].id, createdAt: rows[0].created_at };
  }

  async upsertRun(run: RunRecord): Promise<void> {
    await this.ex.run(upsertSql('runs', RUN_COLUMNS, ['id']), runParams(run));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return (await this.ex.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, [id])).map(toRun)[0];
  }

  async listRuns(projectId: string): Promise<RunRecord[]> {
    return (await this.ex.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE project_id = ? ORDER BY started_at, id`, [projectId])).map(toRun);
  }

  insertArtifact(artifact: NewArtifact): Promise<ArtifactRecord> {
    // Version allocation and insert in one transaction, locked per project and type; the unique
    // (project, type, version) constraint is the backstop.
    return this.transaction(async (tx) => {
      const ex = (tx as SqlStore).ex;
      const rows = await ex.all<{ v: number | null }>(`SELECT MAX(version) AS v FROM artifacts WHERE project_id = ? AND type = ?`, [
        artifact.projectId,
        artifact.type,
      ]);
      const record: ArtifactRecord = { ...artifact, version: Number(rows[0]?.v ?? 0) + 1 };
      await ex.run(`INSERT INTO artifacts (${ARTIFACT_COLUMNS}) VALUES (${placeholders(11)})`, artifactParams(record));
      return record;
    }, `artifacts:${artifact.projectId}:${artifact.type}`);
  }

  async listArtifacts(projectId: string): Promise<ArtifactRecord[]> {
    return (await this.ex.all(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE project_id = ? ORDER BY created_at, type, version`, [projectId])).map(
      toArtifact,
    );
  }

  async getArtifact(id: string): Promise<ArtifactRecord | undefined> {
    return (await this.ex.all(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE id = ?`, [id])).map(toArtifact)[0];
  }

  async saveConflict(conflict: ConflictRecord): Promise<void> {
    await this.ex.run(upsertSql('conflicts', CONFLICT_COLUMNS, ['id']), conflictParams(conflict));
  }

  async getConflict(id: string): Promise<ConflictRecord | undefined> {
    return (await this.ex.all(`SELECT ${CONFLICT_COLUMNS} FROM conflicts WHERE id = ?`, [id])).map(toConflict)[0];
  }

  async listConflicts(projectId: string, statuses?: ConflictStatus[]): Promise<ConflictRecord[]> {
    const byStatus = statuses && statuses.length > 0 ? ` AND status IN (${placeholders(statuses.length)})` : '';
    const rows = await this.ex.all(`SELECT ${CONFLICT_COLUMNS} FROM conflicts WHERE project_id = ?${byStatus} ORDER BY created_at, id`, [
      projectId,
      ...(statuses ?? []),
    ]);
    return rows.map(toConflict);
  }

  async upsertTask(task: TaskRecord): Promise<void> {
    await this.ex.run(upsertSql('tasks', TASK_COLUMNS, ['id']), taskParams(task));
  }

  async listTasks(projectId: string): Promise<TaskRecord[]> {
    return (await this.ex.all(`SELECT ${TASK_COLUMNS} FROM tasks WHERE project_id = ? ORDER BY created_at, id`, [projectId])).map(toTask);
  }

  async recordApproval(approval: ApprovalRow): Promise<boolean> {
    const changed = await this.ex.run(
      `INSERT INTO approvals (${APPROVAL_COLUMNS}) VALUES (${placeholders(7)}) ON CONFLICT (project_id, plan_hash, by_login) DO NOTHING`,
      approvalParams(approval),
    );
    return changed === 1;
  }

  async listApprovals(filter: { projectId: string; since?: string; until?: string }): Promise<ApprovalRow[]> {
    const params: unknown[] = [filter.projectId];
    let sql = `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE project_id = ?`;
    if (filter.since !== undefined) (sql += ' AND at >= ?'), params.push(filter.since);
    if (filter.until !== undefined) (sql += ' AND at < ?'), params.push(filter.until);
    return (await this.ex.all(`${sql} ORDER BY at, by_login`, params)).map(toApproval);
  }

  async markDeliveryProcessed(deliveryId: string, event: string, at: string): Promise<boolean> {
    const changed = await this.ex.run(`INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`, [deliveryId, event, at]);
    return changed === 1;
  }

  async hasDelivery(deliveryId: string): Promise<boolean> {
    return (await this.ex.all(`SELECT id FROM deliveries WHERE id = ?`, [deliveryId])).length > 0;
  }

  async releaseDelivery(deliveryId: string): Promise<void> {
    await this.ex.run(`DELETE FROM deliveries WHERE id = ?`, [deliveryId]);
  }

  async recordPrReview(review: PrReviewRow): Promise<boolean> {
    const changed = await this.ex.run(
      `INSERT INTO pr_reviews (${PR_REVIEW_COLUMNS}) VALUES (${placeholders(11)}) ON CONFLICT (project_id, head_sha, plan_hash, by_login) DO NOTHING`,
      prReviewParams(review),
    );
    return changed === 1;
  }

  async listPrReviews(projectId: string, pullNumber: number): Promise<PrReviewRow[]> {
    const rows = await this.ex.all(`SELECT ${PR_REVIEW_COLUMNS} FROM pr_reviews WHERE project_id = ? AND pull_number = ? ORDER BY at, by_login`, [
      projectId,
      pullNumber,
    ]);
    return rows.map(toPrReview);
  }

  async savePrHold(hold: PrHoldRow): Promise<void> {
    await this.ex.run(upsertSql('pr_holds', PR_HOLD_COLUMNS, ['project_id', 'head_sha']), prHoldParams(hold));
  }

  async getPrHold(projectId: string, headSha: string): Promise<PrHoldRow | undefined> {
    return (await this.ex.all(`SELECT ${PR_HOLD_COLUMNS} FROM pr_holds WHERE project_id = ? AND head_sha = ?`, [projectId, headSha])).map(toPrHold)[0];
  }

  async claim(key: string, at: string): Promise<boolean> {
    return (await this.ex.run(`INSERT INTO claims (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, [key, at])) === 1;
  }

  async releaseClaim(key: string): Promise<void> {
    await this.ex.run(`DELETE FROM claims WHERE key = ?`, [key]);
  }

  async saveCheckpoint(c: CheckpointRecord): Promise<void> {
    await this.ex.run(`INSERT INTO checkpoints (${CHECKPOINT_META}, snapshot) VALUES (${placeholders(8)})`, [
      c.id,
      c.projectId,
      c.label,
      c.createdAt,
      c.size,
      c.sha256,
      c.artifactCount,
      c.snapshot,
    ]);
  }

  async listCheckpoints(projectId: string): Promise<CheckpointMeta[]> {
    const rows = await this.ex.all(`SELECT ${CHECKPOINT_META} FROM checkpoints WHERE project_id = ? ORDER BY created_at DESC, id DESC`, [projectId]);
    return rows.map(toCheckpointMeta);
  }

  async getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    const rows = await this.ex.all(`SELECT ${CHECKPOINT_META}, snapshot FROM checkpoints WHERE id = ?`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    const snapshot = row.snapshot;
    if (!Buffer.isBuffer(snapshot)) throw new QfError('STORE_ERROR', `${this.location}: checkpoint ${id} has no snapshot bytes`);
    return { ...toCheckpointMeta(row), snapshot };
  }

  async deleteCheckpoint(id: string): Promise<void> {
    await this.ex.run(`DELETE FROM checkpoints WHERE id = ?`, [id]);
  }

  exportProjectState(projectId: string): Promise<ProjectState | undefined> {
    return exportProjectState(this, projectId);
  }

  importProjectState(state: ProjectState): Promise<void> {
    return this.transaction((tx) => importProjectState((tx as SqlStore).ex, state), `project:${state.project.id}`);
  }

  appendAudit(chain: string, projectId: string | null, inputs: AuditEventInput[]): Promise<AuditEvent[]> {
    return this.transaction((tx) => auditLog.appendAudit((tx as SqlStore).ex, this.driver.dialect, chain, projectId, inputs), `audit:${chain}`);
  }

  appendSealedAudit(chain: string, projectId: string | null, events: AuditEvent[]): Promise<void> {
    return this.transaction((tx) => auditLog.appendSealedAudit((tx as SqlStore).ex, this.driver.dialect, chain, projectId, events), `audit:${chain}`);
  }

  listAudit(filter: AuditFilter): Promise<StoredAuditEvent[]> {
    return auditLog.listAudit(this.ex, filter);
  }

  listAuditHeads(projectId?: string): Promise<AuditChainHead[]> {
    return auditLog.listAuditHeads(this.ex, projectId);
  }

  listPage<Q extends PageQuery>(query: Q, page: PageRequest): Promise<Page<PageItems[Q['of']]>> {
    return listPage(this.ex, query, page) as Promise<Page<PageItems[Q['of']]>>;
  }

  insertTestResults(rows: TestResultRow[]): Promise<void> {
    return dashboardReads.insertTestResults(this.ex, rows);
  }

  async deleteTestResults(runId: string, stepId: string, fromSeq: number): Promise<void> {
    await this.ex.run('DELETE FROM test_results WHERE run_id = ? AND step_id = ? AND seq >= ?', [runId, stepId, fromSeq]);
  }

  listTestResults(filter: TestResultFilter): Promise<TestResultRow[]> {
    return dashboardReads.listTestResults(this.ex, filter);
  }

  async listProjects(): Promise<ProjectRecord[]> {
    const rows = await this.ex.all<{ id: string; created_at: string }>(`SELECT id, created_at FROM projects ORDER BY id`);
    return rows.map((row) => ({ id: String(row.id), createdAt: String(row.created_at) }));
  }

  summarizeTestResults(projectId: string, since: string): Promise<TestSummary[]> {
    return dashboardReads.summarizeTestResults(this.ex, projectId, since);
  }

  listTestHistories(projectId: string, testIds: string[], since: string, perTest: number): Promise<TestResultRow[]> {
    return dashboardReads.listTestHistories(this.ex, projectId, testIds, since, perTest);
  }

  listRecentRuns(projectId: string, limit: number): Promise<RunRecord[]> {
    return dashboardReads.listRecentRuns(this.ex, projectId, limit);
  }

  countVerdictsByDay(projectId: string): Promise<VerdictCount[]> {
    return dashboardReads.countVerdictsByDay(this.ex, projectId);
  }

  listFirstApprovals(projectId: string): Promise<FirstApproval[]> {
    return dashboardReads.listFirstApprovals(this.ex, projectId);
  }

  latestTestDurations(projectId: string, branch: string): Promise<TestDurations | undefined> {
    return latestTestDurations(this.ex, projectId, branch);
  }
}

function toCheckpointMeta(row: Record<string, unknown>): CheckpointMeta {
  return {
    id: String(row.id),
    projectId: String(row.project_id),
    label: String(row.label),
    createdAt: String(row.created_at),
    size: Number(row.size),
    sha256: String(row.sha256),
    artifactCount: Number(row.artifact_count),
  };
}
