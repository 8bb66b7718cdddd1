import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/audit-chain.js';
import type { Evidence, TestOutcome } from '../../src/evidence/schema.js';
import type { GovernanceMode } from '../../src/governance/psmp/types.js';
import { declareShardArtifacts } from '../../src/merge/declare-shard-artifacts.js';
import type { AcceptedShard } from '../../src/merge/read-shard-bundle.js';
import { inRunLedger } from '../../src/orchestrator/artifact-ledger.js';
import { blockingFindings } from '../../src/orchestrator/govern-run.js';
import { testListDigest } from '../../src/tools/pytest-shard.js';

const HEAD = 'a'.repeat(40);
const ALL = ['t::a', 't::b', 't::c', 't::d'];
const clock = () => new Date('2026-12-02T01:00:00Z');

/** A shard as the merge holds it after its bundle passed every check (the parts PSMP looks at). */
function shard(index: number, tests: Record<string, TestOutcome>, options: { head?: string; collected?: string[]; lint?: string } = {}): AcceptedShard {
  const selected = Object.keys(tests);
  const evidence = {
    change: { head: options.head ?? HEAD },
    repro: { gitSha: options.head ?? HEAD },
    plan: { planHash: 'p'.repeat(64) },
    policy: { sha256: 's'.repeat(64) },
    steps: [
      { id: 'unit', selection: { collectedSha256: testListDigest(options.collected ?? ALL) } },
      { id: 'lint', status: options.lint ?? 'passed' },
    ],
    audit: [{ hash: `${index}`.repeat(64) }],
  } as unknown as Evidence;
  return {
    bundle: { dir: `/shards/${index}` },
    evidence,
    shard: { index, total: 2, selectionSha256: '0'.repeat(64) },
    outcomes: new Map(Object.entries(tests)),
    selections: new Map([['unit', selected]]),
  };
}

async function report(mode: GovernanceMode, shards: AcceptedShard[], headSha: string | null = HEAD) {
  const ledger = inRunLedger(mode, 'octo/repo', 'run-1', clock);
  return declareShardArtifacts(ledger, shards, { total: 2, headSha, audit: new AuditTrail(clock), subject: 'run-1' });
}

const agreeing = () => [shard(1, { 't::a': 'passed', 't::b': 'passed' }), shard(2, { 't::c': 'passed', 't::d': 'skipped' })];
const disagreeing = () => [shard(1, { 't::a': 'passed', 't::b': 'passed' }), shard(2, { 't::b': 'failed', 't::c': 'passed', 't::d': 'passed' })];

describe('declareShardArtifacts', () => {
  it('finds nothing when the shards partition the collected tests and agree on commit and plan', async () => {
    const found = await report('strict', agreeing());
    expect(found).toMatchObject({ decision: 'proceed', blocked: false, unresolved: [] });
  });

  it('raises a test two shards report differently, and that both ran it, as duplicate producers', async () => {
    const found = await report('strict', disagreeing());
    expect(found.decision).toBe('blocked');
    // The union of the selections (t::b twice) is not what the step collected: the merge says so against each shard.
    const collected = testListDigest(ALL).slice(0, 12);
    const union = testListDigest(['t::a', 't::b', 't::b', 't::c', 't::d']).slice(0, 12);
    expect(found.reasons).toEqual([
      'duplicate_producer (open): "assignment:t::b" in iteration 1 came from shard-1 (digest shard-1) and shard-2 (digest shard-2) with different content',
      'duplicate_producer (open): "test:t::b" in iteration 1 came from shard-1 (digest passed) and shard-2 (digest failed) with different content',
      `duplicate_producer (open): "collection:unit" in iteration 1 came from shard-1 (digest ${collected}) and merge (digest ${union}) with different content`,
      `duplicate_producer (open): "collection:unit" in iteration 1 came from shard-2 (digest ${collected}) and merge (digest ${union}) with different content`,
    ]);
  });

  it('raises a step that ran whole in every shard and ended differently in two', async () => {
    const found = await report('strict', [
      shard(1, { 't::a': 'passed', 't::b': 'passed' }),
      shard(2, { 't::c': 'passed', 't::d': 'passed' }, { lint: 'failed' }),
    ]);
    expect(found.reasons).toEqual([
      'duplicate_producer (open): "step:lint" in iteration 1 came from shard-1 (digest passed) and shard-2 (digest failed) with different content',
    ]);
  });

  it('decides by the policy’s mode: strict blocks, adaptive waits for a human, playground reports', async () => {
    expect((await report('strict', disagreeing())).decision).toBe('blocked');
    const adaptive = await report('adaptive', disagreeing());
    expect(adaptive.decision).toBe('waiting_for_human');
    expect(adaptive.unresolved.every((conflict) => conflict.status === 'escalated')).toBe(true);
    expect(blockingFindings(adaptive)[0]).toMatch(/^Escalated conflict waits for a human: duplicate_producer \(escalated\)/);
    const playground = await report('playground', disagreeing());
    expect(playground).toMatchObject({ decision: 'proceed', blocked: false, wouldBlock: true });
  });

  it('raises a missing shard as a missing dependency of the merge, and a shard of another commit or collection', async () => {
    const missing = await report('strict', [agreeing()[0]!]);
    expect(missing.reasons).toEqual(['missing_dependency (open): "merge.result" version 1 by merge depends on "shard:2", which nobody has declared']);
    const other = 'b'.repeat(40);
    const stray = await report('strict', [agreeing()[0]!, shard(2, { 't::c': 'passed', 't::d': 'passed' }, { head: other, collected: ['t::c', 't::d'] })]);
    expect(stray.reasons).toEqual(
      expect.arrayContaining([
        `duplicate_producer (open): "run.head" in iteration 1 came from shard-1 (digest ${HEAD.slice(0, 12)}) and shard-2 (digest ${other.slice(0, 12)}) with different content`,
        `duplicate_producer (open): "run.head" in iteration 1 came from shard-2 (digest ${other.slice(0, 12)}) and merge (digest ${HEAD.slice(0, 12)}) with different content`,
        expect.stringMatching(/^duplicate_producer \(open\): "collection:unit" in iteration 1 came from shard-1/),
      ]),
    );
  });
});
