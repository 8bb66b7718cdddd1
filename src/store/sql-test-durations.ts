import type { SqlExecutor } from './sql-driver.js';
import type { TestDurations } from './types.js';

/**
 * The newest run pushed to `branch` that recorded test results, and each of its tests' duration:
 * the runs_branch_page index finds the run (newest first, the EXISTS probe is a primary-key lookup), and
 * its results are one primary-key range.
 */
export async function latestTestDurations(ex: SqlExecutor, projectId: string, branch: string): Promise<TestDurations | undefined> {
  const [run] = await ex.all<{ id: string; head_sha: string | null; started_at: string }>(
    `SELECT id, head_sha, started_at FROM runs
      WHERE project_id = ? AND branch = ? AND EXISTS (SELECT 1 FROM test_results t WHERE t.run_id = runs.id)
      ORDER BY started_at DESC, id DESC LIMIT 1`,
    [projectId, branch],
  );
  if (!run) return undefined;
  const rows = await ex.all<{ test_id: string; ms: number | string }>(
    `SELECT test_id, SUM(duration_ms) AS ms FROM test_results WHERE run_id = ? GROUP BY test_id`,
    [run.id],
  );
  // Milliseconds in the store (PostgreSQL's SUM of DOUBLE PRECISION may come back as text), seconds out.
  const seconds = new Map(rows.map((row) => [String(row.test_id), Number(row.ms) / 1000]));
  return { runId: String(run.id), headSha: run.head_sha === null ? null : String(run.head_sha), startedAt: String(run.started_at), seconds };
}
