import type { SqlDialect } from './sql-driver.js';

/**
 * Versioned schema. Append new migrations, never edit old ones: a database records the highest
 * version applied and refuses to open with a qf that knows fewer. `{{blob}}` is the one type the
 * dialects spell differently.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; statements: string[] }> = [
  {
    version: 1,
    statements: [
      `CREATE TABLE projects (id TEXT PRIMARY KEY, created_at TEXT NOT NULL)`,
      `CREATE TABLE runs (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), started_at TEXT NOT NULL,
        finished_at TEXT, mode TEXT NOT NULL, verdict TEXT, head_sha TEXT, data TEXT NOT NULL)`,
      `CREATE INDEX runs_project ON runs(project_id, started_at)`,
      `CREATE TABLE artifacts (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), run_id TEXT, type TEXT NOT NULL,
        producer TEXT NOT NULL, iteration INTEGER NOT NULL, version INTEGER NOT NULL, depends_on TEXT NOT NULL,
        digest TEXT NOT NULL, ref TEXT, created_at TEXT NOT NULL, UNIQUE (project_id, type, version))`,
      `CREATE TABLE conflicts (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), run_id TEXT, kind TEXT NOT NULL,
        artifact_ids TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL, low_risk INTEGER NOT NULL,
        status TEXT NOT NULL, created_at TEXT NOT NULL, escalated_at TEXT, resolved_at TEXT, resolutions TEXT NOT NULL)`,
      `CREATE INDEX conflicts_project ON conflicts(project_id, status)`,
      `CREATE TABLE tasks (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), run_id TEXT, kind TEXT NOT NULL,
        status TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE approvals (
        project_id TEXT NOT NULL REFERENCES projects(id), run_id TEXT, plan_hash TEXT NOT NULL, by_login TEXT NOT NULL,
        permission TEXT NOT NULL, at TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (project_id, plan_hash, by_login))`,
      `CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at TEXT NOT NULL)`,
      `CREATE TABLE checkpoints (
        id TEXT PRIMARY KEY, project_id TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL,
        size INTEGER NOT NULL, sha256 TEXT NOT NULL, artifact_count INTEGER NOT NULL, snapshot {{blob}} NOT NULL)`,
      `CREATE INDEX checkpoints_project ON checkpoints(project_id, created_at)`,
      `CREATE TABLE audit_heads (chain TEXT PRIMARY KEY, project_id TEXT, seq INTEGER NOT NULL, hash TEXT NOT NULL)`,
      `CREATE TABLE audit_events (
        chain TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (chain, seq))`,
      `CREATE INDEX audit_events_at ON audit_events(at)`,
    ],
  },
  {
    // The bot's record of reviews on pull requests: approvals and rejections per head SHA and plan,
    // holds per head SHA, and claims (one re-run per head SHA and plan, one delivery processed once).
    version: 2,
    statements: [
      `CREATE TABLE pr_reviews (
        project_id TEXT NOT NULL REFERENCES projects(id), pull_number INTEGER NOT NULL, head_sha TEXT NOT NULL, plan_hash TEXT NOT NULL,
        by_login TEXT NOT NULL, verdict TEXT NOT NULL, permission TEXT NOT NULL, reason TEXT NOT NULL, comment_id TEXT, comment_url TEXT,
        at TEXT NOT NULL, PRIMARY KEY (project_id, head_sha, plan_hash, by_login))`,
      `CREATE INDEX pr_reviews_pull ON pr_reviews(project_id, pull_number, at)`,
      `CREATE TABLE pr_holds (
        project_id TEXT NOT NULL REFERENCES projects(id), head_sha TEXT NOT NULL, pull_number INTEGER NOT NULL, held INTEGER NOT NULL,
        by_login TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (project_id, head_sha))`,
      `CREATE TABLE claims (key TEXT PRIMARY KEY, at TEXT NOT NULL)`,
    ],
  },
  {
    // Every test case of every ingested run (the dashboard's tests page: flaky, slow, failing), with the
    // run's start and head SHA copied in so a project's recent window is one index range, no join.
    version: 3,
    statements: [
      `CREATE TABLE test_results (
        project_id TEXT NOT NULL, run_id TEXT NOT NULL, run_started_at TEXT NOT NULL, head_sha TEXT, step_id TEXT NOT NULL, seq INTEGER NOT NULL,
        test_id TEXT NOT NULL, file TEXT, line INTEGER, outcome TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, message TEXT,
        PRIMARY KEY (run_id, step_id, seq))`,
      `CREATE INDEX test_results_window ON test_results(project_id, run_started_at)`,
      `CREATE INDEX test_results_history ON test_results(project_id, test_id, run_started_at)`,
      // The overview's approval latency reads a project's approving reviews without its pull numbers.
      `CREATE INDEX pr_reviews_verdict ON pr_reviews(project_id, verdict, at)`,
      // A run page lists what the bot recorded about the run: the project chain's events with that subject.
      `CREATE INDEX audit_events_subject ON audit_events(chain, subject, seq)`,
    ],
  },
  {
    // The branch a run was pushed to (null for pull request runs): a base branch's recent runs, for
    // the shards' timing history and the job summary's trend, are one index range.
    version: 4,
    statements: [`ALTER TABLE runs ADD COLUMN branch TEXT`, `CREATE INDEX runs_branch ON runs(project_id, branch, started_at)`],
  },
  {
    // The API's list pages (src/store/sql-pages.ts): one index per filter the API offers, leading with
    // its equality columns and then the page's whole keyset, so a page at any depth is one index range
    // read up to its LIMIT. Without the keyset's last column SQLite sorted the ties in a temp b-tree;
    // without the filter column (verdict, status, type, run) it read the project's rows to find a page.
    // The indexes they extend are dropped: each new one serves every query the old one did (the
    // dashboard's newest runs, a branch's latest durations).
    version: 5,
    statements: [
      `CREATE INDEX runs_page ON runs(project_id, started_at, id)`,
      `DROP INDEX runs_project`,
      `CREATE INDEX runs_verdict_page ON runs(project_id, verdict, started_at, id)`,
      `CREATE INDEX runs_head_page ON runs(project_id, head_sha, started_at, id)`,
      `CREATE INDEX runs_branch_page ON runs(project_id, branch, started_at, id)`,
      `DROP INDEX runs_branch`,
      `CREATE INDEX artifacts_page ON artifacts(project_id, created_at, id)`,
      `CREATE INDEX artifacts_run_page ON artifacts(project_id, run_id, created_at, id)`,
      `CREATE INDEX artifacts_type_page ON artifacts(project_id, type, created_at, id)`,
      `CREATE INDEX conflicts_page ON conflicts(project_id, created_at, id)`,
      `CREATE INDEX conflicts_status_page ON conflicts(project_id, status, created_at, id)`,
      `DROP INDEX conflicts_project`,
      `CREATE INDEX approvals_page ON approvals(project_id, at, plan_hash, by_login)`,
      `CREATE INDEX checkpoints_page ON checkpoints(project_id, created_at, id)`,
      `DROP INDEX checkpoints_project`,
      // Audit pages are in chain order; a filter on action or actor ranges over its own index in that order.
      `CREATE INDEX audit_events_action ON audit_events(action, chain, seq)`,
      `CREATE INDEX audit_events_actor ON audit_events(actor, chain, seq)`,
      // A project's chains in order, from the page's cursor on.
      `CREATE INDEX audit_heads_project ON audit_heads(project_id, chain)`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export function dialectSql(sql: string, dialect: SqlDialect): string {
  return sql.replaceAll('{{blob}}', dialect === 'postgres' ? 'BYTEA' : 'BLOB');
}
