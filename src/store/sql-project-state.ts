import { QfError } from '../errors.js';
import {
  APPROVAL_COLUMNS,
  ARTIFACT_COLUMNS,
  CONFLICT_COLUMNS,
  RUN_COLUMNS,
  TASK_COLUMNS,
  approvalParams,
  artifactParams,
  conflictParams,
  placeholders,
  runParams,
  taskParams,
} from './rows.js';
import type { SqlExecutor } from './sql-driver.js';
import type { ProjectState, StorageBackend } from './types.js';

/** A project's whole state, in a stable order so equal states compare (and hash) equal. */
export async function exportProjectState(store: StorageBackend, projectId: string): Promise<ProjectState | undefined> {
  const project = await store.getProject(projectId);
  if (!project) return undefined;
  // One after the other: inside a transaction they share one connection.
  const runs = await store.listRuns(projectId);
  const artifacts = await store.listArtifacts(projectId);
  const conflicts = await store.listConflicts(projectId);
  const tasks = await store.listTasks(projectId);
  const approvals = await store.listApprovals({ projectId });
  return { project, runs, artifacts, conflicts, tasks, approvals };
}

const ROWS_PER_INSERT = 50;

/** Replaces the project's rows by the state's; the caller holds the transaction. */
export async function importProjectState(ex: SqlExecutor, state: ProjectState): Promise<void> {
  const projectId = state.project.id;
  const foreign = [...state.runs, ...state.artifacts, ...state.conflicts, ...state.tasks, ...state.approvals].find((r) => r.projectId !== projectId);
  if (foreign) throw new QfError('STORE_ERROR', `project state for '${projectId}' holds a row of project '${foreign.projectId}'; expected only its own`);
  await ex.run(`INSERT INTO projects (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, [projectId, state.project.createdAt]);
  for (const table of ['approvals', 'tasks', 'conflicts', 'artifacts', 'runs']) await ex.run(`DELETE FROM ${table} WHERE project_id = ?`, [projectId]);
  await insertMany(ex, 'runs', RUN_COLUMNS, state.runs.map(runParams));
  await insertMany(ex, 'artifacts', ARTIFACT_COLUMNS, state.artifacts.map(artifactParams));
  await insertMany(ex, 'conflicts', CONFLICT_COLUMNS, state.conflicts.map(conflictParams));
  await insertMany(ex, 'tasks', TASK_COLUMNS, state.tasks.map(taskParams));
  await insertMany(ex, 'approvals', APPROVAL_COLUMNS, state.approvals.map(approvalParams));
}

async function insertMany(ex: SqlExecutor, table: string, columns: string, rows: unknown[][]): Promise<void> {
  const width = columns.split(',').length;
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const batch = rows.slice(start, start + ROWS_PER_INSERT);
    const values = batch.map(() => `(${placeholders(width)})`).join(', ');
    await ex.run(`INSERT INTO ${table} (${columns}) VALUES ${values}`, batch.flat());
  }
}
