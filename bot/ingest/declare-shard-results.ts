import type { StepResult } from '../../src/evidence/schema.js';
import type { PsmpEngine } from '../../src/governance/index.js';
import type { RunRecord } from '../../src/store/index.js';
import { digestOf } from '../../src/util/canonical-json.js';
import type { DeclareRunContext } from './declare-run-artifacts.js';

export interface ShardSlot {
  index: number;
  total: number;
}

/** Most tests one ingestion declares as disagreeing: the rest are counted (a flood of flakes is one problem, not a thousand comments). */
export const MAX_TEST_DISAGREEMENTS = 20;

/** The shard a step ran as (a merged bundle's `shard-N/<step>`, or a `qf run --shard` bundle's step); undefined when it ran whole. */
export const shardOf = (step: Pick<StepResult, 'selection'>): ShardSlot | undefined => step.selection?.shard;

/** A shard's job in a workflow run: its re-run attempts are the same producer (see runProducer). */
export const shardProducer = (runId: number, shard: ShardSlot): string => `workflow-run:${runId}/shard-${shard.index}-of-${shard.total}`;

/** Which tests a shard slot ran: two shards claiming one slot with other selections conflict. */
export const shardSlotType = (stepId: string, shard: ShardSlot): string => `shard:${planStepId(stepId)}:${shard.index}-of-${shard.total}`;

/** A test's outcome, declared only when shards of the head disagree on it. */
export const testType = (testId: string): string => `test:${testId}`;

const planStepId = (stepId: string): string => stepId.replace(/^shard-\d+\//, '');

interface Report {
  producer: string;
  outcome: string;
  runRecordId: string;
  attempt: number;
  url: string;
}

type Declare = (declaration: Omit<Parameters<PsmpEngine['declare']>[0], 'projectId' | 'iteration'>) => Promise<void>;

/**
 * The results of the steps shards ran, against the other shards of the head (earlier attempts of
 * this run's shards, other workflow runs' shards):
 * - `shard:<step>:<i>-of-<n>`, the slot, with the sha256 of the tests it selected, so two shards
 *   claiming one slot with different selections are two producers of one type;
 * - `test:<id>`, for each test this run's shards report with another outcome than a shard of the
 *   head did (the latest attempt of each shard job): that earlier report, then this one. Only the
 *   disagreeing tests are declared (at most MAX_TEST_DISAGREEMENTS), never all of them.
 * The test outcomes are read back from the store, where ingestion just recorded them.
 */
export async function declareShardResults(context: DeclareRunContext, declare: Declare): Promise<{ disagreeing: number }> {
  const { tx, projectId, runRecordId, ref, evidence } = context;
  const slots = new Map<string, ShardSlot>();
  for (const step of evidence.steps) {
    const shard = shardOf(step);
    if (!shard || !step.selection) continue;
    slots.set(step.id, shard);
    await declare({
      runId: runRecordId,
      type: shardSlotType(step.id, shard),
      producer: shardProducer(ref.runId, shard),
      digest: step.selection.selectedSha256,
      ref: `${ref.htmlUrl}#${step.id}`,
    });
  }
  if (slots.size === 0) return { disagreeing: 0 };

  const earlier = new Map<string, Map<string, Report>>();
  const others = (await tx.listRuns(projectId)).filter((run) => run.headSha === ref.headSha && run.id !== runRecordId);
  for (const run of others) {
    const shards = stepShards(run);
    if (shards.size === 0) continue;
    const source = run.data.source as { runId: number; attempt: number; url: string };
    for (const row of await tx.listTestResults({ projectId, runId: run.id })) {
      const shard = shards.get(row.stepId);
      if (!shard) continue;
      const producer = shardProducer(source.runId, shard);
      const reports = earlier.get(row.testId) ?? new Map<string, Report>();
      const known = reports.get(producer);
      if (!known || known.attempt < source.attempt)
        reports.set(producer, { producer, outcome: row.outcome, runRecordId: run.id, attempt: source.attempt, url: `${source.url}#${row.stepId}` });
      earlier.set(row.testId, reports);
    }
  }

  let disagreeing = 0;
  const seen = new Set<string>();
  for (const row of await tx.listTestResults({ projectId, runId: runRecordId })) {
    const shard = slots.get(row.stepId);
    if (!shard || seen.has(row.testId)) continue;
    seen.add(row.testId);
    const producer = shardProducer(ref.runId, shard);
    const disagree = [...(earlier.get(row.testId)?.values() ?? [])].filter((report) => report.outcome !== row.outcome);
    if (disagree.length === 0) continue;
    disagreeing += 1;
    if (disagreeing > MAX_TEST_DISAGREEMENTS) continue;
    // This shard job's own earlier attempt first (a re-run that changed its mind), else the latest other shard.
    const other = disagree.find((report) => report.producer === producer) ?? disagree.at(-1)!;
    const type = testType(row.testId);
    await declare({ runId: other.runRecordId, type, producer: other.producer, digest: digestOf({ outcome: other.outcome }), ref: other.url });
    await declare({ runId: runRecordId, type, producer, digest: digestOf({ outcome: row.outcome }), ref: `${ref.htmlUrl}#${row.stepId}` });
  }
  return { disagreeing };
}

/** The shard each step of a recorded run ran as (ingestion keeps it in the run's steps). */
function stepShards(run: RunRecord): Map<string, ShardSlot> {
  const steps = Array.isArray(run.data.steps) ? (run.data.steps as Array<{ id: string; shard?: ShardSlot }>) : [];
  return new Map(steps.flatMap((step) => (step.shard ? [[step.id, step.shard] as const] : [])));
}
