import type { ReviewScope } from '../review/review-types.js';
import type { IngestResult, WorkflowRunRef } from './ingest-evidence.js';

/** Logs what ingestion did; escalated conflicts are announced on the pull request. */
export async function afterIngestion(scope: ReviewScope, ref: WorkflowRunRef, result: IngestResult): Promise<void> {
  if (result.status === 'rejected') scope.log.warn({ runId: ref.runId, attempt: ref.attempt, problems: result.problems }, 'evidence rejected');
  else if (result.status === 'ingested') scope.log.info({ runId: ref.runId, attempt: ref.attempt, conflicts: result.conflicts.length }, 'evidence ingested');
}
