import type { Evidence, StepResult } from '../../src/evidence/schema.js';
import type { PsmpEngine } from '../../src/governance/index.js';
import type { ConflictRecord, StorageBackend } from '../../src/store/index.js';
import { digestOf } from '../../src/util/canonical-json.js';
import { declareShardResults, shardOf } from './declare-shard-results.js';

/** The PSMP type of a step's result. */
export const stepType = (stepId: string): string => `step:${stepId}`;

/**
 * The producer of a run's results is its workflow run (its job): a re-run attempt is the same
 * producer declaring again — for PSMP a re-declaration, low-risk, the newer attempt superseding —
 * while another workflow run of the same head is a second producer, which PSMP never takes as
 * low-risk. RETRY relies on it too: the attempt a retry starts answers the conflict.
 */
export const runProducer = (ref: { runId: number }): string => `workflow-run:${ref.runId}`;

export interface DeclareRunContext {
  tx: StorageBackend;
  engine: PsmpEngine;
  projectId: string;
  /** The store's id of this run attempt. */
  runRecordId: string;
  ref: { runId: number; headSha: string; htmlUrl: string };
  iteration: number;
  evidence: Evidence;
}

/**
 * Declares one ingested run's results to PSMP, which finds the conflicts across runs of the head:
 * - each step that ran whole: `step:<id>` (its outcome), depending on the `step:<id>` of each step
 *   its plan step `depends_on`, so a dependency no run of the head produced is a missing dependency;
 * - each step a shard ran (see declareShardResults): its slot and the tests whose outcome another
 *   shard of the head reported differently.
 * Returns the conflicts raised, as they stand after every declaration (one a later step settled is
 * not returned as open), the earlier conflicts this run closed (a dependency now produced, a RETRY
 * answered), and how many tests shards disagree on.
 */
export async function declareRunArtifacts(
  context: DeclareRunContext,
): Promise<{ conflicts: ConflictRecord[]; closed: ConflictRecord[]; testDisagreements: number }> {
  const { engine, evidence, ref } = context;
  const raised: ConflictRecord[] = [];
  const closed: ConflictRecord[] = [];
  const declare = async (declaration: Omit<Parameters<PsmpEngine['declare']>[0], 'projectId' | 'iteration'>) => {
    const result = await engine.declare({ projectId: context.projectId, iteration: context.iteration, ...declaration });
    raised.push(...result.conflicts);
    closed.push(...result.closed);
  };
  // A merged bundle's steps are `shard-N/<plan step>`: their dependencies are not mapped (see README).
  const dependencies = new Map(evidence.merge ? [] : evidence.plan.steps.map((step) => [step.id, step.dependsOn ?? []]));
  for (const step of inDependencyOrder(
    evidence.steps.filter((candidate) => !shardOf(candidate)),
    dependencies,
  )) {
    await declare({
      runId: context.runRecordId,
      type: stepType(step.id),
      producer: runProducer(ref),
      digest: digestOf(stepOutcome(step)),
      dependsOn: (dependencies.get(step.id) ?? []).map(stepType),
      ref: `${ref.htmlUrl}#${step.id}`,
    });
  }
  const { disagreeing } = await declareShardResults(context, declare);
  const settled: ConflictRecord[] = [];
  for (const conflict of raised) {
    const now = await context.tx.getConflict(conflict.id);
    if (now && now.status !== 'satisfied') settled.push(now);
  }
  return { conflicts: settled, closed, testDisagreements: disagreeing };
}

/**
 * What two runs of a step must agree on to be "the same result": the outcome and the test counts,
 * never durations or attempts (a slower re-run that agrees is no conflict).
 */
function stepOutcome(step: StepResult): Record<string, unknown> {
  return { status: step.status, tests: step.tests?.counts ?? null };
}

/** Steps after those they depend on (plan order otherwise), so a run that has both raises no passing conflict. */
function inDependencyOrder(steps: readonly StepResult[], dependencies: ReadonlyMap<string, readonly string[]>): StepResult[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const ordered: StepResult[] = [];
  const seen = new Set<string>();
  const visit = (step: StepResult): void => {
    if (seen.has(step.id)) return;
    seen.add(step.id); // before the dependencies: a cycle stops here (PSMP reports it)
    for (const id of dependencies.get(step.id) ?? []) {
      const dependency = byId.get(id);
      if (dependency) visit(dependency);
    }
    ordered.push(step);
  };
  for (const step of steps) visit(step);
  return ordered;
}
