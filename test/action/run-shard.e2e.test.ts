import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../src/github/extract-zip.js';
import type { Evidence } from '../../src/evidence/schema.js';
import { type Harness, resetHarness, RUN_ID, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, type FixtureRepo } from '../support/python-project.js';

/** A change that adds tests of skewed durations across three files, so three shards each get some. */
export const SHARDED_CHANGE = {
  'tests/test_slow.py': 'import time\n\nimport pytest\n\n\n@pytest.mark.parametrize("n", range(3))\ndef test_slow(n):\n    time.sleep(0.1 * (n + 1))\n',
  'tests/test_fast.py': 'import pytest\n\n\n@pytest.mark.parametrize("n", range(6))\ndef test_fast(n):\n    assert n >= 0\n',
};

let harness: Harness;
let repo: FixtureRepo;
beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
  repo = await createFixtureRepo(SHARDED_CHANGE);
});
afterAll(() => harness.close());

const artifactEvidence = (zip: Buffer): Evidence => JSON.parse(readZip(zip).find((entry) => entry.name === 'evidence.json')!.data.toString('utf8'));

describe('run() as one shard of a matrix (shard-index / shard-total)', () => {
  it('runs its part of the collected tests, uploads NAME-shard-I-of-N and publishes no check run', async () => {
    resetHarness(harness);
    const ids: string[] = [];
    for (const index of [1, 2, 3]) {
      const result = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': String(index), 'shard-total': '3' } });
      expect(result.exitCode).toBe(0);
      expect(result.jobSummary).toContain(`This job is shard ${index} of 3: the job that merges the shards (\`mode: merge\`) publishes the check run`);
      expect(result.jobSummary).toContain('Balanced by test file size: no timing history was given.');
      const artifact = harness.artifacts.artifacts.at(-1)!;
      expect(artifact).toMatchObject({ name: `qualityfoundry-evidence-shard-${index}-of-3`, runId: RUN_ID, finalized: true });
      const evidence = artifactEvidence(artifact.blob!);
      expect(evidence.shard).toMatchObject({ index, total: 3 });
      const list = readZip(artifact.blob!).find((entry) => entry.name === 'reports/unit/selection.txt')!;
      ids.push(...list.data.toString('utf8').split('\n').filter(Boolean));
    }
    // 2 base tests + 3 slow + 6 fast, each in exactly one shard.
    expect(ids).toHaveLength(11);
    expect(new Set(ids).size).toBe(11);
    expect(harness.github.requests.filter((request) => request.path.includes('/check-runs') && request.method !== 'GET')).toEqual([]);
  });

  it('refuses shard inputs that do not fit, naming them', async () => {
    resetHarness(harness);
    const result = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': '4', 'shard-total': '3' } });
    expect(result.exitCode).toBe(2);
    const lonely = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': '1' } });
    expect(lonely.exitCode).toBe(2);
  });
});
