import path from 'node:path';
import { EvidenceFile, ExitCode } from '../constants.js';
import { writeFileAtomic } from '../evidence/output-folder.js';
import type { Evidence } from '../evidence/schema.js';
import { assembleEvidence, writeEvidence, type EvidenceInput } from '../evidence/write-evidence.js';
import { renderSummary, summaryMarkdown } from '../report/render-summary.js';
import type { RunContext } from './run-context.js';
import { runMetrics } from './run-metrics.js';
import type { RunState } from './run-state.js';
import type { RunOutcome } from './types.js';
import type { ShardRef } from '../tools/partition-tests.js';
import { digestOf } from '../util/canonical-json.js';

/** Which shard this run is, and one digest over what each of its steps selected (the merge checks the shards against it). */
function shardRecord(shard: ShardRef, state: RunState): NonNullable<Evidence['shard']> {
  const selections = state.steps.flatMap((step) => (step.selection ? [{ step: step.id, selected: step.selection.selectedSha256 }] : []));
  return { index: shard.index, total: shard.total, selectionSha256: digestOf(selections) };
}

/** The exit code of each verdict (README, "Exit codes"). */
export const VERDICT_EXIT: Record<Evidence['gate']['verdict'], ExitCode> = {
  pass: ExitCode.pass,
  fail: ExitCode.gateFailed,
  blocked: ExitCode.gateFailed,
  needs_approval: ExitCode.waitingForHuman,
};

/** Writes OUT/summary.md, OUT/evidence.json and OUT/run-state.json from the state the run ended in. */
export async function finishRun(
  state: RunState,
  context: RunContext,
  ending: { judgement: Evidence['gate']; complete: boolean; incompleteReason?: string },
): Promise<RunOutcome> {
  const { policy } = context.policy;
  const { outDir } = context.options;
  const repro = await context.repro;
  const input: EvidenceInput = {
    complete: ending.complete,
    ...(ending.incompleteReason !== undefined ? { incompleteReason: ending.incompleteReason } : {}),
    runId: state.runId,
    startedAt: state.startedAt,
    finishedAt: (context.options.clock ?? (() => new Date()))().toISOString(),
    repro: { ...repro, versions: { node: process.version, ...state.versions } },
    policy: { ...state.policy, mode: policy.mode },
    change: {
      base: state.change.base,
      head: state.change.head,
      changedFiles: state.change.changedFiles,
      labels: state.change.labels,
      ...(state.change.checkout ? { checkout: state.change.checkout } : {}),
    },
    plan: { planHash: state.plan?.planHash ?? '0'.repeat(64), steps: state.plan?.steps ?? [] },
    approval: state.approval,
    steps: state.steps,
    metrics: runMetrics(state),
    gate: ending.judgement,
    governance: {
      mode: policy.mode,
      budget: {
        totalSeconds: policy.budget.total_seconds,
        usedSeconds: Math.round(state.budget.usedMs) / 1000,
        maxRetries: policy.budget.max_retries,
        retries: state.budget.retries,
      },
      shortCircuit: state.shortCircuit,
      conflicts: state.collected?.conflicts ?? [],
      vetoes: state.vetoes ?? [],
    },
    ...(context.options.shard ? { shard: shardRecord(context.options.shard, state) } : {}),
  };
  // summary.md is an artifact of the evidence, so it is rendered first, from the evidence before
  // its artifact index and seal (the summary shows neither).
  const summaryPath = path.join(outDir, EvidenceFile.summary);
  await writeFileAtomic(summaryPath, summaryMarkdown(renderSummary(assembleEvidence(input, [], context.audit.events))));
  const evidence = await writeEvidence(outDir, input, context.audit, state.collected?.artifacts ?? []);
  await context.checkpoint(state, state.node === 'approve' && state.approval.status === 'waiting');
  return { evidence, evidencePath: path.join(outDir, EvidenceFile.evidence), summaryPath, exitCode: VERDICT_EXIT[ending.judgement.verdict] };
}
