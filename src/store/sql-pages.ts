import { APPROVAL_COLUMNS, ARTIFACT_COLUMNS, CONFLICT_COLUMNS, RUN_COLUMNS, toApproval, toArtifact, toConflict, toRun } from './rows.js';
import { QfError } from '../errors.js';
import { AUDIT_EVENT_COLUMNS, auditWhere, toStoredAuditEvent } from './sql-audit-log.js';
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

/**
 * The `WHERE` clauses of each query's filters, by the query's field names. For an audit page's
 * range, `chain` says how the keyset bounds the chain: after the cursor's (`chainAbove`: the
 * project's chain list starts there, or SQLite seeks every earlier chain of the project and reads
 * it through to find none of its rows qualify) or within it (`chainIs`: one lookup, not the list).
 */
function filtersOf(query: PageQuery, chain: { chainAbove?: string; chainIs?: string } = {}): { where: string[]; params: unknown[] } {
  if (query.of === 'audit') {
    const { of: _, ...filter } = query;
    return auditWhere(filter, chain);
  }
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
  }
  return { where, params };
}

/**
 * The one page query of every list. The first page is `WHERE <filters> ORDER BY <key> LIMIT n + 1`.
 * A later one is the rows after the cursor (k1, k2, …) as a union of plain index ranges, each read
 * up to its own LIMIT, then the first n + 1 of those few rows:
 *   (k1 = ? AND k2 > ?)  UNION ALL  (k1 > ?)          (descending keys: <)
 * rather than a row-value comparison, which SQLite cannot use as a range after an equality or IN
 * on k1 (an audit page of one chain, or of a project's chains, read the chain up to the cursor).
 * A key column an equality filter fixes (`chain`) needs no range of its own. Every filter the API
 * offers has an index leading with its equality columns and then the keyset (migrations 1, 3, 5),
 * so each range starts at the cursor however deep it is, unlike OFFSET; bench/api-list.ts prints
 * both planners' plans. The extra row only says whether a next page exists.
 */
export function pageSql(query: PageQuery, page: PageRequest): { sql: string; params: unknown[] } {
  const table = TABLES[query.of];
  const limit = Math.max(1, Math.floor(page.limit));
  const order = table.key.map((column) => `${column}${table.descending ? ' DESC' : ''}`).join(', ');
  const select = (where: string[]): string =>
    `SELECT ${table.columns} FROM ${table.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit + 1}`;
  const after = page.after;
  if (!after) {
    const { where, params } = filtersOf(query);
    return { sql: select(where), params };
  }
  if (after.length !== table.key.length) {
    throw new QfError('BAD_INPUT', `a cursor of ${query.of} has ${table.key.length} values, this one ${after.length}`);
  }
  const fixed = new Set(query.of === 'audit' && query.chain !== undefined ? ['chain'] : []);
  const branches: Array<{ sql: string; params: unknown[] }> = [];
  table.key.forEach((column, j) => {
    if (fixed.has(column)) return;
    const prefix = table.key.slice(0, j);
    const chainAt = table.key.indexOf('chain');
    const { where, params } = filtersOf(
      query,
      column === 'chain' ? { chainAbove: String(after[j]) } : chainAt >= 0 && chainAt < j ? { chainIs: String(after[chainAt]) } : {},
    );
    prefix.forEach((equal, i) => {
      where.push(`${equal} = ?`);
      params.push(after[i]);
    });
    where.push(`${column} ${table.descending ? '<' : '>'} ?`);
    params.push(after[j]);
    branches.push({ sql: select(where), params });
  });
  if (branches.length === 1) return branches[0]!;
  // Newest ranges first, so the cursor's own ties come before what follows them (any order works: the outer ORDER BY decides).
  return {
    sql: `${branches
      .reverse()
      .map((branch, i) => `SELECT * FROM (${branch.sql}) AS b${i}`)
      .join(' UNION ALL ')} ORDER BY ${order} LIMIT ${limit + 1}`,
    params: branches.flatMap((branch) => branch.params),
  };
}

export async function listPage(ex: SqlExecutor, query: PageQuery, page: PageRequest): Promise<Page<unknown>> {
  const table = TABLES[query.of];
  const { sql, params } = pageSql(query, page);
  const rows = await ex.all<Row>(sql, params);
  const limit = Math.max(1, Math.floor(page.limit));
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const next: PageKey | null = rows.length > limit && last ? table.key.map((column) => keyValue(last[column])) : null;
  return { items: items.map(table.map), next };
}

const keyValue = (value: unknown): string | number => (typeof value === 'number' || typeof value === 'bigint' ? Number(value) : String(value));
