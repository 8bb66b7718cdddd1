import { placeholders, RUN_COLUMNS, toRun } from './rows.js';
import type { SqlExecutor } from './sql-driver.js';
import type { FirstApproval, RunRecord, TestResultFilter, TestResultRow, TestSummary, VerdictCount } from './types.js';

/**
 * The reads behind the bot's dashboard, in the SQL both dialects share. Each is one index range
 * (migration 3): a project's recent window of test results, one test's history, a project's runs by
 * start time, its approving reviews.
 */

const TEST_RESULT_COLUMNS = 'project_id, run_id, run_started_at, head_sha, step_id, seq, test_id, file, line, outcome, duration_ms, message';
const COLUMN_COUNT = 12;
/** Rows per INSERT: 12 parameters each stays far below both dialects' parameter limits. */
const BATCH = 200;

export async function insertTestResults(ex: SqlExecutor, rows: TestResultRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH);
    const values = batch.map(() => `(${placeholders(COLUMN_COUNT)})`).join(', ');
    const params = batch.flatMap((r) => [
      r.projectId,
      r.runId,
      r.runStartedAt,
      r.headSha,
      r.stepId,
      r.seq,
      r.testId,
      r.file,
      r.line,
      r.outcome,
      r.durationMs,
      r.message,
    ]);
    await ex.run(`INSERT INTO test_results (${TEST_RESULT_COLUMNS}) VALUES ${values} ON CONFLICT (run_id, step_id, seq) DO NOTHING`, params);
  }
}

export async function listTestResults(ex: SqlExecutor, filter: TestResultFilter): Promise<TestResultRow[]> {
  const where = ['project_id = ?'];
  const params: unknown[] = [filter.projectId];
  if (filter.runId !== undefined) where.push('run_id = ?'), params.push(filter.runId);
  if (filter.testId !== undefined) where.push('test_id = ?'), params.push(filter.testId);
  if (filter.since !== undefined) where.push('run_started_at >= ?'), params.push(filter.since);
  if (filter.outcomes !== undefined && filter.outcomes.length > 0)
    where.push(`outcome IN (${placeholders(filter.outcomes.length)})`), params.push(...filter.outcomes);
  // One run's rows in key order: no ORDER BY on run_started_at that could lure SQLite onto the window index.
  const order =
    filter.runId !== undefined
      ? 'step_id, seq'
      : filter.limit === undefined
        ? 'run_started_at, run_id, step_id, seq'
        : 'run_started_at DESC, run_id DESC, step_id, seq';
  const limit = filter.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.trunc(filter.limit))}`;
  const rows = await ex.all(`SELECT ${TEST_RESULT_COLUMNS} FROM test_results WHERE ${where.join(' AND ')} ORDER BY ${order}${limit}`, params);
  return rows.map(toTestResult);
}

/**
 * Aggregated in the database (a window of 100 runs of a large suite is 10⁵–10⁶ rows; moving them into
 * JavaScript costs far more than the aggregate): flips via LAG over each test's judged outcomes in run
 * order, disagreeing head SHAs via a GROUP BY that sees both a pass and a fail.
 * Each part is grouped to one row per test before the joins (s, f, d). Joining f and d to the window's
 * rows and grouping afterwards made SQLite, without ANALYZE statistics, scan f once per window row
 * (EXPLAIN QUERY PLAN: `SCAN f LEFT-JOIN`, 10,000 × 100 rows); now the joins are one row per test.
 */
export async function summarizeTestResults(ex: SqlExecutor, projectId: string, since: string): Promise<TestSummary[]> {
  const rows = await ex.all(
    `WITH w AS (
       SELECT test_id, run_id, run_started_at, head_sha, outcome, duration_ms, file, line,
              CASE WHEN outcome = 'passed' THEN 'pass' WHEN outcome IN ('failed', 'error') THEN 'fail' END AS judged
       FROM test_results WHERE project_id = ? AND run_started_at >= ?),
     j AS (
       SELECT test_id, judged, LAG(judged) OVER (PARTITION BY test_id ORDER BY run_started_at, run_id) AS prev FROM w WHERE judged IS NOT NULL),
     f AS (SELECT test_id, SUM(CASE WHEN prev IS NOT NULL AND prev <> judged THEN 1 ELSE 0 END) AS flips FROM j GROUP BY test_id),
     d AS (
       SELECT test_id, COUNT(*) AS shas FROM (
         SELECT test_id, head_sha FROM w WHERE judged IS NOT NULL AND head_sha IS NOT NULL GROUP BY test_id, head_sha HAVING COUNT(DISTINCT judged) > 1
       ) x GROUP BY test_id),
     s AS (
       SELECT test_id, COUNT(*) AS runs, SUM(CASE WHEN judged = 'fail' THEN 1 ELSE 0 END) AS failures,
              AVG(duration_ms) AS mean_ms, MAX(duration_ms) AS max_ms, MAX(file) AS file, MAX(line) AS line
       FROM w GROUP BY test_id)
     SELECT s.test_id, s.runs, s.failures, s.mean_ms, s.max_ms, s.file, s.line, f.flips, d.shas
     FROM s LEFT JOIN f ON f.test_id = s.test_id LEFT JOIN d ON d.test_id = s.test_id`,
    [projectId, since],
  );
  return rows.map((r) => ({
    testId: String(r.test_id),
    file: r.file === null ? null : String(r.file),
    line: r.line === null ? null : Number(r.line),
    runs: Number(r.runs),
    failures: Number(r.failures),
    disagreeingShas: Number(r.shas ?? 0),
    flips: Number(r.flips ?? 0),
    meanMs: Number(r.mean_ms),
    maxMs: Number(r.max_ms),
  }));
}

export async function listTestHistories(ex: SqlExecutor, projectId: string, testIds: string[], since: string, perTest: number): Promise<TestResultRow[]> {
  if (testIds.length === 0) return [];
  const rows = await ex.all(
    `SELECT ${TEST_RESULT_COLUMNS} FROM (
       SELECT ${TEST_RESULT_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY test_id ORDER BY run_started_at DESC, run_id DESC) AS rn
       FROM test_results WHERE project_id = ? AND run_started_at >= ? AND test_id IN (${placeholders(testIds.length)})) h
     WHERE rn <= ? ORDER BY test_id, run_started_at DESC, run_id DESC`,
    [projectId, since, ...testIds, Math.max(0, Math.trunc(perTest))],
  );
  return rows.map(toTestResult);
}

export async function listRecentRuns(ex: SqlExecutor, projectId: string, limit: number): Promise<RunRecord[]> {
  const rows = await ex.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE project_id = ? ORDER BY started_at DESC, id DESC LIMIT ${Math.max(0, Math.trunc(limit))}`, [
    projectId,
  ]);
  return rows.map(toRun);
}

export async function countVerdictsByDay(ex: SqlExecutor, projectId: string): Promise<VerdictCount[]> {
  const rows = await ex.all<{ day: string; verdict: string | null; n: number | string }>(
    `SELECT substr(started_at, 1, 10) AS day, verdict, COUNT(*) AS n FROM runs WHERE project_id = ? GROUP BY substr(started_at, 1, 10), verdict ORDER BY day, verdict`,
    [projectId],
  );
  return rows.map((r) => ({ day: String(r.day), verdict: r.verdict === null ? 'none' : String(r.verdict), count: Number(r.n) }));
}

export async function listFirstApprovals(ex: SqlExecutor, projectId: string): Promise<FirstApproval[]> {
  const rows = await ex.all<{ head_sha: string; plan_hash: string; at: string }>(
    `SELECT head_sha, plan_hash, MIN(at) AS at FROM pr_reviews WHERE project_id = ? AND verdict = 'approve' GROUP BY head_sha, plan_hash ORDER BY at`,
    [projectId],
  );
  return rows.map((r) => ({ headSha: String(r.head_sha), planHash: String(r.plan_hash), at: String(r.at) }));
}

function toTestResult(row: Record<string, unknown>): TestResultRow {
  return {
    projectId: String(row.project_id),
    runId: String(row.run_id),
    runStartedAt: String(row.run_started_at),
    headSha: row.head_sha === null ? null : String(row.head_sha),
    stepId: String(row.step_id),
    seq: Number(row.seq),
    testId: String(row.test_id),
    file: row.file === null ? null : String(row.file),
    line: row.line === null ? null : Number(row.line),
    outcome: String(row.outcome),
    durationMs: Number(row.duration_ms),
    message: row.message === null ? null : String(row.message),
  };
}
