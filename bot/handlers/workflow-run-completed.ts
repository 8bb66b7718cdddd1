import { afterIngestion } from '../ingest/after-ingestion.js';
import { ingestEvidence, workflowRunRef } from '../ingest/ingest-evidence.js';
import { readBotConfig } from '../review/read-bot-config.js';
import type { HandlerOptions } from './handler-options.js';

/** A workflow run finished: its evidence artifact (if it has one) goes into the store. */
export async function onWorkflowRunCompleted({ context, scope }: HandlerOptions<'workflow_run.completed'>): Promise<void> {
  const ref = workflowRunRef(context.payload.workflow_run, scope.projectId);
  const result = await ingestEvidence(scope, ref);
  if (result.status === 'ingested') await afterIngestion(scope, ref, result, (await readBotConfig(context)).policy);
  else await afterIngestion(scope, ref, result, '');
}
