import { gunzipSync, gzipSync } from 'node:zlib';
import { QfError, errorMessage } from '../../errors.js';
import type { CheckpointMeta, ProjectState, StorageBackend } from '../../store/types.js';
import { canonicalJson, sha256Hex } from '../../util/canonical-json.js';
import type { AuditSink } from '../psmp/types.js';

export interface CheckpointOptions {
  label?: string;
  /** Keep only the newest N checkpoints of the project (retention); unlimited when absent. */
  keepLast?: number;
  clock?: () => Date;
  audit?: AuditSink;
  actor?: string;
}

/**
 * Snapshots a project's whole state (runs, artifacts, conflicts, tasks, approvals) as gzip'd
 * canonical JSON, then applies retention, in one transaction.
 */
export async function createCheckpoint(store: StorageBackend, projectId: string, options: CheckpointOptions = {}): Promise<CheckpointMeta> {
  const createdAt = (options.clock?.() ?? new Date()).toISOString();
  if (options.keepLast !== undefined && (!Number.isInteger(options.keepLast) || options.keepLast < 1)) {
    throw new QfError('BAD_INPUT', `keepLast is ${options.keepLast}; expected a whole number of checkpoints, at least 1`);
  }
  const meta = await store.transaction(async (tx) => {
    const state = await tx.exportProjectState(projectId);
    if (!state) throw new QfError('BAD_INPUT', `project '${projectId}' does not exist in ${store.location}; nothing to checkpoint`);
    const snapshot = gzipSync(canonicalJson(state));
    const sha256 = sha256Hex(snapshot);
    const record = {
      id: `ckpt-${createdAt.replace(/[^0-9]/g, '')}-${sha256.slice(0, 8)}`,
      projectId,
      label: options.label ?? '',
      createdAt,
      size: snapshot.length,
      sha256,
      artifactCount: state.artifacts.length,
      snapshot,
    };
    await tx.saveCheckpoint(record);
    if (options.keepLast !== undefined) {
      for (const old of (await tx.listCheckpoints(projectId)).slice(options.keepLast)) await tx.deleteCheckpoint(old.id);
    }
    const { snapshot: _bytes, ...rest } = record;
    return rest;
  }, `project:${projectId}`);
  await options.audit?.({ actor: options.actor ?? 'qf', action: 'checkpoint.created', subject: projectId, at: createdAt, data: { ...meta } });
  return meta;
}

/** Newest first. */
export function listCheckpoints(store: StorageBackend, projectId: string): Promise<CheckpointMeta[]> {
  return store.listCheckpoints(projectId);
}

/** Reads a checkpoint back, checking its digest; throws STORE_ERROR when it is damaged. */
export async function readCheckpoint(store: StorageBackend, checkpointId: string): Promise<{ meta: CheckpointMeta; state: ProjectState }> {
  const record = await store.getCheckpoint(checkpointId);
  if (!record) throw new QfError('BAD_INPUT', `checkpoint '${checkpointId}' does not exist in ${store.location}`);
  const { snapshot, ...meta } = record;
  if (sha256Hex(snapshot) !== meta.sha256) {
    throw new QfError('STORE_ERROR', `checkpoint '${checkpointId}' in ${store.location} is damaged: its sha256 is not the recorded ${meta.sha256}`);
  }
  try {
    return { meta, state: JSON.parse(gunzipSync(snapshot).toString('utf8')) as ProjectState };
  } catch (error) {
    throw new QfError('STORE_ERROR', `checkpoint '${checkpointId}' in ${store.location} cannot be unpacked: ${errorMessage(error)}`, { cause: error });
  }
}

/** Puts the project back exactly as the checkpoint saw it; all or nothing. */
export async function restoreCheckpoint(
  store: StorageBackend,
  checkpointId: string,
  options: Omit<CheckpointOptions, 'keepLast' | 'label'> = {},
): Promise<CheckpointMeta> {
  const { meta, state } = await readCheckpoint(store, checkpointId);
  await store.importProjectState(state);
  const at = (options.clock?.() ?? new Date()).toISOString();
  await options.audit?.({
    actor: options.actor ?? 'qf',
    action: 'checkpoint.restored',
    subject: meta.projectId,
    at,
    data: { checkpointId, sha256: meta.sha256 },
  });
  return meta;
}
