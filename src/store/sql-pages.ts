import { APPROVAL_COLUMNS, ARTIFACT_COLUMNS, CONFLICT_COLUMNS, RUN_COLUMNS, toApproval, toArtifact, toConflict, toRun } from './rows.js';
import { AUDIT_EVENT_COLUMNS, toStoredAuditEvent } from './sql-audit-log.js';
import type { SqlExecutor } from './sql-driver.js';
import type { Page, PageKey, PageQuery, PageRequest } from './types.js';

type Row = Record<string, unknown>;

interface PageTable {
  from: string;
  columns: string;
  /** The keyset, unique per row; the page order is these columns, all ascending or all descending. */
  key: string[];
  descending: boolean;
  map(row: Row): unknown;
}

const TABLES: Record<PageQuery['of'], PageTable> = {
  projects: {
    from: 'projects',
    columns: 'id, created_at',
    key: ['id'],
    descending: false,
    map: (r) => ({ id: String(r.id), createdAt: String(r.created_at) }),
  },
  runs: { from: 'runs', columns: RUN_COLUMNS, key: ['started_at', 'id'], descending: true, map: toRun },
  artifacts: { from: 'artifacts', columns: ARTIFACT_COLUMNS, key: ['created_at', 'id'], descending: true, map: toArtifact },
  conflicts: { from: 'conflicts', columns: CONFLICT_COLUMNS, key: ['created_at', 'id'], descending: true, map: toConflict },
  approvals: { from: 'approvals', columns: APPROVAL_COLUMNS, key: ['at', 'plan_hash', 'by_login'], descending: true, map: toApproval },
  checkpoints: {
    from: 'checkpoints',
    columns: 'id, project_id, label, created_at, size, sha256, artifact_count',
    key: ['created_at', 'id'],
    descending: true,
    map: (r) => ({
      id: String(r.id),
      projectId: String(r.project_id),
      label: String(r.label),
      createdAt: String(r.created_at),
      size: Number(r.size),
      sha256: String(r.sha256),
      artifactCount: Number(r.artifact_count),
    }),
  },
  // Chain order, oldest first: a page of one chain reads like the chain and can be re-verified.
  audit: { from: 'audit_events', columns: AUDIT_EVENT_COLUMNS, key: ['chain', 'seq'], descending: false, map: toStoredAuditEvent },
};

/** `column = ?` filters of each query, by the query's field names. */
function filtersOf(query: PageQuery): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  switch (query.of) {
    case 'projects':
      break;
    case 'runs':
      add('project_id = ?', query.projectId);
      add('verdict = ?', query.verdict);
      add('head_sha = ?', query.headSha);
      add('branch = ?', query.branch);
      break;
    case 'artifacts':
      add('project_id = ?', query.projectId);
      add('run_id = ?', query.runId);
      add('type = ?', query.type);
      break;
    case 'conflicts':
      add('project_id = ?', query.projectId);
      add('status = ?', query.status);
      break;
    case 'approvals':
      add('project_id = ?', query.projectId);
      add('at >= ?', query.since);
      add('at < ?', query.until);
      break;
    case 'checkpoints':
      add('project_id = ?', query.projectId);
      break;
    case 'audit':
      add('chain IN (SELECT chain FROM audit_heads WHERE project_id = ?)', query.projectId);
      add('chain = ?', query.chain);
      add('action = ?', query.action);
      add('actor = ?', query.actor);
      add('at >= ?', query.since);
      add('at < ?', query.until);
      break;
  }
  return { where, params };
}

/**
 * One page by keyset: `WHERE k1 <= ? AND (k1, k2) < (?, ?) ORDER BY k1 DESC, k2 DESC LIMIT n + 1`
 * (row values compare the same way in SQLite and PostgreSQL). Where an index leads with the filter
 * columns and k1 (runs, checkpoints, audit events) a page is one index range however deep it is,
 * unlike OFFSET; artifacts, conflicts and approvals have no such index yet and sort the project's
 * rows per page. The extra row only says whether a next page exists.
 */
export async function listPage(ex: SqlExecutor, query: PageQuery, page: PageRequest): Promise<Page<unknown>> {
  const table = TABLES[query.of];
  const { where, params } = filtersOf(query);
  if (page.after) {
    // The bound on the first key column alone is what lets both planners start the index range at the
    // cursor (a row-value comparison by itself is a filter over the whole range before it).
    where.push(`${table.key[0]} ${table.descending ? '<=' : '>='} ?`);
    params.push(page.after[0]);
    where.push(`(${table.key.join(', ')}) ${table.descending ? '<' : '>'} (${table.key.map(() => '?').join(', ')})`);
    params.push(...page.after);
  }
  const limit = Math.max(1, Math.floor(page.limit));
  const order = table.key.map((column) => `${column}${table.descending ? ' DESC' : ''}`).join(', ');
  const rows = await ex.all<Row>(
    `SELECT ${table.columns} FROM ${table.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit + 1}`,
    params,
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const next: PageKey | null = rows.length > limit && last ? table.key.map((column) => keyValue(last[column])) : null;
  return { items: items.map(table.map), next };
}

const keyValue = (value: unknown): string | number => (typeof value === 'number' || typeof value === 'bigint' ? Number(value) : String(value));
