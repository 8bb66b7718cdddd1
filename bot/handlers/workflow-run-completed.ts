import { afterIngestion } from '../ingest/after-ingestion.js';
import { ingestEvidence } from '../ingest/ingest-evidence.js';
import { readBotConfig } from '../review/read-bot-config.js';
import type { HandlerOptions } from './handler-options.js';

/** A workflow run finished: its evidence artifact (if it has one) goes into the store. */
export async function onWorkflowRunCompleted({ context, scope }: HandlerOptions<'workflow_run.completed'>): Promise<void> {
  const run = context.payload.workflow_run;
  const ref = { runId: run.id, attempt: run.run_attempt ?? 1, headSha: run.head_sha, htmlUrl: run.html_url };
  const result = await ingestEvidence(scope, ref);
  if (result.status === 'ingested') await afterIngestion(scope, ref, result, (await readBotConfig(context)).policy);
  else await afterIngestion(scope, ref, result, '');
}
