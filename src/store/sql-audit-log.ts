import { GENESIS_HASH, hashAuditEvent, verifyAuditChain, type AuditEvent, type AuditEventInput } from '../audit/audit-chain.js';
import { canonicalJson } from '../util/canonical-json.js';
import { QfError } from '../errors.js';
import { placeholders } from './rows.js';
import type { SqlDialect, SqlExecutor } from './sql-driver.js';
import type { AuditChainHead, AuditFilter, StoredAuditEvent } from './types.js';

/**
 * The append-only audit log in SQL. Each chain has a head row (last seq and hash); appends lock it
 * (FOR UPDATE on PostgreSQL, the write lock on SQLite) so concurrent writers form one gap-free
 * chain, and the head lets verify() notice events deleted from the end.
 */
const EVENT_COLUMNS = 'chain, seq, at, actor, action, subject, data, prev_hash, hash';
export const AUDIT_EVENT_COLUMNS = EVENT_COLUMNS;
const INSERT_BATCH = 200;

export async function lockHead(ex: SqlExecutor, dialect: SqlDialect, chain: string, projectId: string | null): Promise<{ seq: number; hash: string }> {
  await ex.run(`INSERT INTO audit_heads (chain, project_id, seq, hash) VALUES (?, ?, 0, ?) ON CONFLICT (chain) DO NOTHING`, [chain, projectId, GENESIS_HASH]);
  const rows = await ex.all<{ seq: number; hash: string }>(`SELECT seq, hash FROM audit_heads WHERE chain = ?${dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [
    chain,
  ]);
  const head = rows[0];
  if (!head) throw new QfError('STORE_ERROR', `audit chain '${chain}' has no head row after creating it`);
  return { seq: Number(head.seq), hash: String(head.hash) };
}

export async function appendAudit(
  ex: SqlExecutor,
  dialect: SqlDialect,
  chain: string,
  projectId: string | null,
  inputs: AuditEventInput[],
): Promise<AuditEvent[]> {
  let head = await lockHead(ex, dialect, chain, projectId);
  const events: AuditEvent[] = [];
  for (const input of inputs) {
    if (input.at === undefined) throw new QfError('STORE_ERROR', `audit event '${input.action}' for chain '${chain}' has no time; expected 'at' to be set`);
    const unsealed = {
      seq: head.seq + 1,
      at: input.at,
      actor: input.actor,
      action: input.action,
      subject: input.subject,
      data: input.data ?? {},
      prevHash: head.hash,
    };
    const event = { ...unsealed, hash: hashAuditEvent(unsealed) };
    events.push(event);
    head = { seq: event.seq, hash: event.hash };
  }
  await insertEvents(ex, chain, events);
  await ex.run(`UPDATE audit_heads SET seq = ?, hash = ? WHERE chain = ?`, [head.seq, head.hash, chain]);
  return events;
}

export async function appendSealedAudit(ex: SqlExecutor, dialect: SqlDialect, chain: string, projectId: string | null, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const head = await lockHead(ex, dialect, chain, projectId);
  const check = verifyAuditChain(events, head.seq + 1, head.hash);
  if (!check.ok) {
    throw new QfError(
      'EVIDENCE_INVALID',
      `audit chain '${chain}': events do not continue the stored chain (head seq ${head.seq}) at seq ${check.brokenSeq}: ${check.reason}`,
    );
  }
  await insertEvents(ex, chain, events);
  const last = events[events.length - 1] as AuditEvent;
  await ex.run(`UPDATE audit_heads SET seq = ?, hash = ? WHERE chain = ?`, [last.seq, last.hash, chain]);
}

async function insertEvents(ex: SqlExecutor, chain: string, events: AuditEvent[]): Promise<void> {
  for (let start = 0; start < events.length; start += INSERT_BATCH) {
    const batch = events.slice(start, start + INSERT_BATCH);
    const values = batch.map(() => `(${placeholders(9)})`).join(', ');
    const params = batch.flatMap((e) => [chain, e.seq, e.at, e.actor, e.action, e.subject, canonicalJson(e.data), e.prevHash, e.hash]);
    await ex.run(`INSERT INTO audit_events (${EVENT_COLUMNS}) VALUES ${values}`, params);
  }
}

/**
 * The `WHERE` clauses of an audit filter, shared by listAudit and the API's audit pages (one
 * meaning of each filter). `afterSeq` and `limit` are listAudit's own; pages bring their keyset and
 * say how it bounds the chain: after `chainAbove`, or within the cursor's (`chainIs`).
 */
export function auditWhere(
  filter: Omit<AuditFilter, 'afterSeq' | 'limit'>,
  page: { chainAbove?: string; chainIs?: string } = {},
): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('chain = ?', filter.chain);
  // A project's events. With the chain fixed (a filter, or a page range within the cursor's chain), one
  // lookup says whether it is the project's: a scalar subquery that does not depend on the row runs
  // once (as EXISTS, SQLite made it the outer loop of a join and sorted the chain for the ORDER BY).
  // With an action or actor, that column's index drives the read and each event found is checked
  // against the project's chains; otherwise the project's chain list drives it, in order, from the
  // page's cursor on (a project has a chain per run, most of them holding no event of a given action).
  const fixedChain = filter.chain ?? page.chainIs;
  if (filter.projectId !== undefined && fixedChain !== undefined) {
    where.push('(SELECT project_id FROM audit_heads WHERE chain = ?) = ?');
    params.push(fixedChain, filter.projectId);
  } else if (filter.projectId !== undefined && (filter.action !== undefined || filter.actor !== undefined))
    add('EXISTS (SELECT 1 FROM audit_heads h WHERE h.chain = audit_events.chain AND h.project_id = ?)', filter.projectId);
  else if (filter.projectId !== undefined && page.chainAbove !== undefined) {
    where.push('chain IN (SELECT chain FROM audit_heads WHERE project_id = ? AND chain > ?)');
    params.push(filter.projectId, page.chainAbove);
  } else add('chain IN (SELECT chain FROM audit_heads WHERE project_id = ?)', filter.projectId);
  add('actor = ?', filter.actor);
  add('action = ?', filter.action);
  if (filter.actionPrefix !== undefined) {
    where.push('substr(action, 1, ?) = ?');
    params.push(filter.actionPrefix.length, filter.actionPrefix);
  }
  add('subject = ?', filter.subject);
  add('at >= ?', filter.since);
  add('at < ?', filter.until);
  return { where, params };
}

export async function listAudit(ex: SqlExecutor, filter: AuditFilter): Promise<StoredAuditEvent[]> {
  const { where, params } = auditWhere(filter);
  if (filter.afterSeq !== undefined) {
    where.push('seq > ?');
    params.push(filter.afterSeq);
  }
  const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
  const rows = await ex.all<Record<string, unknown>>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY chain, seq${limit}`,
    params,
  );
  return rows.map(toStoredAuditEvent);
}

export const toStoredAuditEvent = (row: Record<string, unknown>): StoredAuditEvent => ({
  chain: String(row.chain),
  seq: Number(row.seq),
  at: String(row.at),
  actor: String(row.actor),
  action: String(row.action),
  subject: String(row.subject),
  data: JSON.parse(String(row.data)) as Record<string, unknown>,
  prevHash: String(row.prev_hash),
  hash: String(row.hash),
});

export async function listAuditHeads(ex: SqlExecutor, projectId?: string): Promise<AuditChainHead[]> {
  const rows = await ex.all<Record<string, unknown>>(
    `SELECT chain, project_id, seq, hash FROM audit_heads${projectId !== undefined ? ' WHERE project_id = ?' : ''} ORDER BY chain`,
    projectId !== undefined ? [projectId] : [],
  );
  return rows.map((row) => ({
    chain: String(row.chain),
    projectId: row.project_id === null ? null : String(row.project_id),
    seq: Number(row.seq),
    hash: String(row.hash),
  }));
}
