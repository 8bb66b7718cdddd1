import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { errorMessage, isQfError } from '../errors.js';
import type { Evidence, TestOutcome } from '../evidence/schema.js';
import { verifyEvidence } from '../evidence/verify-evidence.js';
import { rejudgeEvidence } from '../github/rejudge-evidence.js';
import type { ApprovalSource } from '../orchestrator/types.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { parseJUnitReport } from '../tools/junit-report.js';
import { testListDigest } from '../tools/pytest-shard.js';
import { MAX_STEP_FILE_BYTES, readConfinedFile } from '../util/open-confined-file.js';

/** One shard's evidence folder, as downloaded (or given to `qf merge`). */
export interface ShardBundle {
  dir: string;
  /** The artifact it came from, when downloaded. */
  artifact?: { name: string; id: number | null; sha256: string | null };
}

/** What the merge takes from a bundle that passed every check: its evidence, each test's outcome and each step's selection. */
export interface AcceptedShard {
  bundle: ShardBundle;
  evidence: Evidence;
  shard: NonNullable<Evidence['shard']>;
  /** Every test case of the shard's JUnit reports: node id → outcome (the last one when a report lists an id twice). */
  outcomes: Map<string, TestOutcome>;
  /** Per step id: the test ids the shard selected (its selection list, checked against its digest). */
  selections: Map<string, string[]>;
}

export type ShardCheck = { ok: true; shard: AcceptedShard } | { ok: false; problems: string[] };

export interface ShardExpectations {
  policy: LoadedPolicy;
  /** The policy's sha256: a bundle judged with another policy is rejected (it could pick its own rules). */
  policySha256: string;
  approvals: (evidence: Evidence) => ApprovalSource;
  publicKey?: KeyObject;
}

/**
 * Checks one shard's bundle as publish mode checks an untrusted one: strict verification (schema,
 * no unknown members, every file's digest, the audit chain and seal, the signature when a key is
 * configured), the policy it was judged with, a re-judgement of its plan, metrics and verdict with
 * that policy; then that it is a shard's evidence and that its selection lists match their digests.
 * Which commit and plan it is about is left to the merge: shards that disagree on those conflict.
 */
export async function readShardBundle(bundle: ShardBundle, expected: ShardExpectations): Promise<ShardCheck> {
  try {
    const check = await verifyEvidence(bundle.dir, expected.publicKey ? { publicKey: expected.publicKey } : {});
    if (!check.ok) return { ok: false, problems: [check.problem] };
    const { evidence } = check;
    if (!evidence.shard) return { ok: false, problems: ['it is not the evidence of a shard (no `shard` member): it was not run with shard-index/--shard'] };
    if (evidence.policy.sha256 !== expected.policySha256)
      return {
        ok: false,
        problems: [`it was judged with policy ${evidence.policy.sha256.slice(0, 12)}…, the merge's policy is ${expected.policySha256.slice(0, 12)}…`],
      };
    const problems = await rejudgeEvidence(evidence, expected.policy, expected.approvals(evidence));
    if (problems.length > 0) return { ok: false, problems };

    const outcomes = new Map<string, TestOutcome>();
    const selections = new Map<string, string[]>();
    for (const step of evidence.steps) {
      for (const report of step.artifacts.filter((file) => file.endsWith('.xml'))) {
        await parseJUnitReport(path.join(bundle.dir, report), { within: bundle.dir, maxNotable: 0, onTestCase: (test) => outcomes.set(test.id, test.outcome) });
      }
      if (!step.selection) continue;
      const list = (await readConfinedFile(path.join(bundle.dir, step.selection.list), { within: bundle.dir, maxBytes: MAX_STEP_FILE_BYTES }))
        .toString('utf8')
        .split('\n')
        .filter(Boolean);
      if (list.length !== step.selection.selected || testListDigest(list) !== step.selection.selectedSha256)
        return {
          ok: false,
          problems: [`step ${step.id}: ${step.selection.list} does not hold the ${step.selection.selected} tests its selection digest names`],
        };
      selections.set(step.id, list);
    }
    return { ok: true, shard: { bundle, evidence, shard: evidence.shard, outcomes, selections } };
  } catch (error) {
    // The bundle is untrusted: whatever in it trips a check up, it is rejected, never an unexpected error.
    if (isQfError(error, 'GITHUB_API')) throw error;
    return { ok: false, problems: [`the bundle could not be checked: ${errorMessage(error)}`] };
  }
}
