import type { ApprovalRow, PrHoldRow, PrReviewRow, ArtifactRecord, ConflictRecord, RunRecord, TaskRecord } from './types.js';

/** Column lists and row mappers shared by both dialects (they return the same shapes here). */
type Row = Record<string, unknown>;

const text = (value: unknown): string => String(value);
const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const json = <T>(value: unknown): T => JSON.parse(String(value)) as T;

export const RUN_COLUMNS = 'id, project_id, started_at, finished_at, mode, verdict, head_sha, branch, data';
export const runParams = (r: RunRecord): unknown[] => [
  r.id,
  r.projectId,
  r.startedAt,
  r.finishedAt,
  r.mode,
  r.verdict,
  r.headSha,
  r.branch ?? null,
  JSON.stringify(r.data),
];
export const toRun = (row: Row): RunRecord => ({
  id: text(row.id),
  projectId: text(row.project_id),
  startedAt: text(row.started_at),
  finishedAt: textOrNull(row.finished_at),
  mode: text(row.mode),
  verdict: textOrNull(row.verdict),
  headSha: textOrNull(row.head_sha),
  ...(row.branch != null ? { branch: text(row.branch) } : {}),
  data: json(row.data),
});

export const ARTIFACT_COLUMNS = 'id, project_id, run_id, type, producer, iteration, version, depends_on, digest, ref, created_at';
export const artifactParams = (a: ArtifactRecord): unknown[] => [
  a.id,
  a.projectId,
  a.runId,
  a.type,
  a.producer,
  a.iteration,
  a.version,
  JSON.stringify(a.dependsOn),
  a.digest,
  a.ref,
  a.createdAt,
];
export const toArtifact = (row: Row): ArtifactRecord => ({
  id: text(row.id),
  projectId: text(row.project_id),
  runId: textOrNull(row.run_id),
  type: text(row.type),
  producer: text(row.producer),
  iteration: Number(row.iteration),
  version: Number(row.version),
  dependsOn: json(row.depends_on),
  digest: text(row.digest),
  ref: textOrNull(row.ref),
  createdAt: text(row.created_at),
});

export const CONFLICT_COLUMNS =
  'id, project_id, run_id, kind, artifact_ids, message, details, low_risk, status, created_at, escalated_at, resolved_at, resolutions';
export const conflictParams = (c: ConflictRecord): unknown[] => [
  c.id,
  c.projectId,
  c.runId,
  c.kind,
  JSON.stringify(c.artifactIds),
  c.message,
  JSON.stringify(c.details),
  c.lowRisk ? 1 : 0,
  c.status,
  c.createdAt,
  c.escalatedAt,
  c.resolvedAt,
  JSON.stringify(c.resolutions),
];
export const toConflict = (row: Row): ConflictRecord => ({
  id: text(row.id),
  projectId: text(row.project_id),
  runId: textOrNull(row.run_id),
  kind: text(row.kind) as ConflictRecord['kind'],
  artifactIds: json(row.artifact_ids),
  message: text(row.message),
  details: json(row.details),
  lowRisk: Number(row.low_risk) === 1,
  status: text(row.status) as ConflictRecord['status'],
  createdAt: text(row.created_at),
  escalatedAt: textOrNull(row.escalated_at),
  resolvedAt: textOrNull(row.resolved_at),
  resolutions: json(row.resolutions),
});

export const TASK_COLUMNS = 'id, project_id, run_id, kind, status, data, created_at, updated_at';
export const taskParams = (t: TaskRecord): unknown[] => [t.id, t.projectId, t.runId, t.kind, t.status, JSON.stringify(t.data), t.createdAt, t.updatedAt];
export const toTask = (row: Row): TaskRecord => ({
  id: text(row.id),
  projectId: text(row.project_id),
  runId: textOrNull(row.run_id),
  kind: text(row.kind),
  status: text(row.status),
  data: json(row.data),
  createdAt: text(row.created_at),
  updatedAt: text(row.updated_at),
});

export const APPROVAL_COLUMNS = 'project_id, run_id, plan_hash, by_login, permission, at, source';
export const approvalParams = (a: ApprovalRow): unknown[] => [a.projectId, a.runId, a.planHash, a.by, a.permission, a.at, a.source];
export const toApproval = (row: Row): ApprovalRow => ({
  projectId: text(row.project_id),
  runId: textOrNull(row.run_id),
  planHash: text(row.plan_hash),
  by: text(row.by_login),
  permission: text(row.permission),
  at: text(row.at),
  source: text(row.source),
});

export const PR_REVIEW_COLUMNS = 'project_id, pull_number, head_sha, plan_hash, by_login, verdict, permission, reason, comment_id, comment_url, at';
export const prReviewParams = (r: PrReviewRow): unknown[] => [
  r.projectId,
  r.pullNumber,
  r.headSha,
  r.planHash,
  r.by,
  r.verdict,
  r.permission,
  r.reason,
  r.commentId,
  r.commentUrl,
  r.at,
];
export const toPrReview = (row: Row): PrReviewRow => ({
  projectId: text(row.project_id),
  pullNumber: Number(row.pull_number),
  headSha: text(row.head_sha),
  planHash: text(row.plan_hash),
  by: text(row.by_login),
  verdict: text(row.verdict) as PrReviewRow['verdict'],
  permission: text(row.permission),
  reason: text(row.reason),
  commentId: textOrNull(row.comment_id),
  commentUrl: textOrNull(row.comment_url),
  at: text(row.at),
});

export const PR_HOLD_COLUMNS = 'project_id, head_sha, pull_number, held, by_login, reason, at';
export const prHoldParams = (h: PrHoldRow): unknown[] => [h.projectId, h.headSha, h.pullNumber, h.held ? 1 : 0, h.by, h.reason, h.at];
export const toPrHold = (row: Row): PrHoldRow => ({
  projectId: text(row.project_id),
  headSha: text(row.head_sha),
  pullNumber: Number(row.pull_number),
  held: Number(row.held) === 1,
  by: text(row.by_login),
  reason: text(row.reason),
  at: text(row.at),
});

export const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

/** `INSERT … ON CONFLICT (key) DO UPDATE` of every other column: the same text on both dialects. */
export function upsertSql(table: string, columns: string, key: string[]): string {
  const names = columns.split(',').map((c) => c.trim());
  const updates = names.filter((n) => !key.includes(n)).map((n) => `${n} = excluded.${n}`);
  return `INSERT INTO ${table} (${columns}) VALUES (${placeholders(names.length)}) ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
}
