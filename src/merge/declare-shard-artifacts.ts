import type { AuditTrail } from '../audit/audit-chain.js';
import type { BlockingReport } from '../governance/psmp/types.js';
import type { ArtifactLedger } from '../orchestrator/artifact-ledger.js';
import { testListDigest } from '../tools/pytest-shard.js';
import { digestOf } from '../util/canonical-json.js';
import type { AcceptedShard } from './read-shard-bundle.js';

/** The PSMP iteration a matrix's shards share: one run of the change, so two shards' answers to one question conflict. */
const ITERATION = 1;

export const shardProducer = (index: number): string => `shard-${index}`;

/**
 * Declares every shard's results as PSMP artifacts of one iteration, one producer per shard, so that
 * PSMP's own rules find where they disagree:
 * - `run.head` (the commit) and `run.subject` (plan, policy, shard count): a shard from another
 *   commit or plan is a second producer with other content (the merge itself declares the head it expects);
 * - `step:<step>`, for a step that could not split and ran whole in every shard: its status;
 * - `collection:<step>`: the sha256 of the tests the step collected; the merge declares the union of
 *   the shards' selections too, so a split that leaves tests out (or a shard of another split) conflicts;
 * - `assignment:<test>`: which shard ran it, so a test two shards ran conflicts;
 * - `test:<test>`: its outcome, so two shards reporting one test differently conflict;
 * - `shard:<i>`: the shard's sealed evidence, which the merge's `merge.result` depends on, so a missing
 *   shard is a missing dependency.
 */
export async function declareShardArtifacts(
  ledger: ArtifactLedger,
  shards: readonly AcceptedShard[],
  context: { total: number; headSha: string | null; audit: AuditTrail; subject: string },
): Promise<BlockingReport> {
  for (const accepted of shards) {
    const { evidence, shard } = accepted;
    const producer = shardProducer(shard.index);
    const declare = (type: string, digest: string, ref: string | null = null) => ledger.declare({ type, producer, iteration: ITERATION, digest, ref });
    await declare('run.head', evidence.change.head ?? evidence.repro.gitSha ?? 'none');
    await declare('run.subject', digestOf({ planHash: evidence.plan.planHash, policySha256: evidence.policy.sha256, total: shard.total }));
    for (const step of evidence.steps)
      if (step.selection) await declare(`collection:${step.id}`, step.selection.collectedSha256);
      else await declare(`step:${step.id}`, step.status); // a step that ran whole in every shard: they must agree
    for (const tests of accepted.selections.values()) for (const id of tests) await declare(`assignment:${id}`, producer);
    for (const [id, outcome] of accepted.outcomes) await declare(`test:${id}`, outcome);
    await declare(`shard:${shard.index}`, evidence.audit.at(-1)?.hash ?? 'unsealed', accepted.bundle.artifact?.name ?? accepted.bundle.dir);
    context.audit.record({
      actor: 'merge',
      action: 'psmp.declared',
      subject: context.subject,
      data: {
        producer,
        iteration: ITERATION,
        tests: accepted.outcomes.size,
        selected: [...accepted.selections.values()].reduce((sum, list) => sum + list.length, 0),
      },
    });
  }

  const merge = (type: string, digest: string, dependsOn?: string[]) =>
    ledger.declare({ type, producer: 'merge', iteration: ITERATION, digest, ...(dependsOn ? { dependsOn } : {}) });
  if (context.headSha) await merge('run.head', context.headSha);
  const present = new Set(shards.map((accepted) => accepted.shard.index));
  if (shards.length > 0 && present.size === context.total) {
    // Every shard is here: together their selections must be exactly what each step collected.
    const steps = new Set(shards.flatMap((accepted) => [...accepted.selections.keys()]));
    for (const step of steps) await merge(`collection:${step}`, testListDigest(shards.flatMap((accepted) => accepted.selections.get(step) ?? [])));
  }
  await merge(
    'merge.result',
    digestOf([...present].sort((a, b) => a - b)),
    Array.from({ length: context.total }, (_, index) => `shard:${index + 1}`),
  );
  return ledger.report();
}
