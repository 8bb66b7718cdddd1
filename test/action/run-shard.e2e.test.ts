import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/action/run.js';
import { readZip } from '../../src/github/extract-zip.js';
import type { Evidence } from '../../src/evidence/schema.js';
import {
  FAST_TUNING,
  type Harness,
  loadFixture,
  prepareRun,
  pullRequestPayload,
  readOutputs,
  resetHarness,
  RUN_ID,
  runOnPullRequest,
  startHarness,
  withRunnerEnv,
} from '../support/action-harness.js';
import { writeZip } from '../support/zip-writer.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, type FixtureRepo } from '../support/python-project.js';

/** Several real pytest runs in one test or hook, on a shared, loaded machine: a ceiling, not a timed assertion. */
const RUNS_TIMEOUT = 600_000;

/** A change that adds tests of skewed durations across three files, so three shards each get some. */
const SHARDED_CHANGE = {
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

/** The three shards' artifacts (real zips the Action uploaded to the fake), kept for the merge tests. */
const shardZips: Buffer[] = [];

/** The merge job of workflow run `runId`, after the matrix: the fake holds whatever shard artifacts that run has. */
async function mergeJob(runId: number, inputs: Record<string, string> = {}, attempt = 1) {
  harness.github.requests.length = 0;
  harness.github.checkRuns.length = 0;
  const payload = await pullRequestPayload(repo);
  const prepared = await prepareRun(harness, {
    eventName: 'pull_request',
    payload,
    workspace: repo.dir,
    runId,
    inputs: { mode: 'merge', 'shard-total': '3', ...inputs },
  });
  const exitCode = await withRunnerEnv({ ...prepared.env, GITHUB_RUN_ATTEMPT: String(attempt) }, () => run({ tuning: FAST_TUNING }));
  return { exitCode, outputs: await readOutputs(prepared.outputFile), jobSummary: await readFile(harness.summaryFile, 'utf8') };
}

function seedShards(runId: number, zips: readonly (Buffer | undefined)[]): void {
  zips.forEach((zip, at) => {
    if (zip) harness.artifacts.seed({ name: `qualityfoundry-evidence-shard-${at + 1}-of-3`, runId, zip });
  });
}

const artifactEvidence = (zip: Buffer): Evidence =>
  JSON.parse(
    readZip(zip)
      .find((entry) => entry.name === 'evidence.json')!
      .data.toString('utf8'),
  );

describe('run() as one shard of a matrix (shard-index / shard-total)', () => {
  it(
    'runs its part of the collected tests, uploads NAME-shard-I-of-N and publishes no check run',
    async () => {
      resetHarness(harness);
      const ids: string[] = [];
      for (const index of [1, 2, 3]) {
        const result = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': String(index), 'shard-total': '3' }, seed: index === 1 });
        expect(result.exitCode).toBe(0);
        expect(result.jobSummary).toContain(
          `This is shard ${index} of 3: the merge of the shards (\`mode: merge\`, \`qf merge\`) gives the verdict of the whole run.`,
        );
        expect(result.jobSummary).toContain('Balanced by test file size: no timing history was given.');
        const artifact = harness.artifacts.artifacts.at(-1)!;
        expect(artifact).toMatchObject({ name: `qualityfoundry-evidence-shard-${index}-of-3`, runId: RUN_ID, finalized: true });
        const evidence = artifactEvidence(artifact.blob!);
        expect(evidence.shard).toMatchObject({ index, total: 3 });
        shardZips.push(artifact.blob!);
        const list = readZip(artifact.blob!).find((entry) => entry.name === 'reports/unit/selection.txt')!;
        ids.push(...list.data.toString('utf8').split('\n').filter(Boolean));
      }
      // 2 base tests + 3 slow + 6 fast, each in exactly one shard.
      expect(ids).toHaveLength(11);
      expect(new Set(ids).size).toBe(11);
      expect(harness.github.requests.filter((request) => request.path.includes('/check-runs') && request.method !== 'GET')).toEqual([]);
    },
    RUNS_TIMEOUT,
  );

  it('merge mode: downloads the three shard artifacts, merges them into one gate check run and uploads the merged evidence', async () => {
    const result = await mergeJob(RUN_ID);
    expect(result.exitCode).toBe(0);
    const calls = harness.github.requests.map((request) => `${request.method} ${request.path}${request.query.name ? `?name=${request.query.name}` : ''}`);
    for (const index of [1, 2, 3])
      expect(calls).toContain(`GET /repos/Codertocat/Hello-World/actions/runs/${RUN_ID}/artifacts?name=qualityfoundry-evidence-shard-${index}-of-3`);
    expect(calls.filter((call) => call === 'POST /repos/Codertocat/Hello-World/check-runs')).toHaveLength(1);
    expect(harness.github.checkRuns).toHaveLength(1);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ name: 'qualityfoundry/gate', head_sha: repo.headSha, conclusion: 'success' });
    expect(gate.output.summary).toContain('Merged from 3 of 3 shards: 1 pass, 2 pass, 3 pass; 0 conflict(s) between them.');
    expect(result.outputs.verdict).toBe('pass');
    // The merged artifact, under the plain name, holds each shard's bundle and points at the artifact it came from.
    const merged = harness.artifacts.artifacts.find((artifact) => artifact.name === 'qualityfoundry-evidence' && artifact.runId === RUN_ID)!;
    const evidence = artifactEvidence(merged.blob!);
    expect(evidence.metrics['pytest.total']).toBe(11);
    expect(evidence.merge!.shards.map((shard) => [shard.bundle, shard.artifact?.name])).toEqual([
      ['shards/1', 'qualityfoundry-evidence-shard-1-of-3'],
      ['shards/2', 'qualityfoundry-evidence-shard-2-of-3'],
      ['shards/3', 'qualityfoundry-evidence-shard-3-of-3'],
    ]);
    expect(readZip(merged.blob!).map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['evidence.json', 'summary.md', 'shards/2/evidence.json', 'shards/2/reports/unit/junit.xml']),
    );
  });

  it('publish mode (the trusted half of the fork pattern) validates and publishes the merged artifact like any bundle', async () => {
    const merged = harness.artifacts.artifacts.find((artifact) => artifact.name === 'qualityfoundry-evidence' && artifact.runId === RUN_ID)!;
    harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 501, zip: merged.blob! });
    harness.github.requests.length = 0;
    harness.github.checkRuns.length = 0;
    const payload = await loadFixture('workflow_run.completed.json');
    Object.assign(payload.workflow_run, { id: 501, event: 'pull_request', head_sha: repo.headSha, head_branch: 'changes', pull_requests: [], run_attempt: 1 });
    payload.workflow_run.head_repository.owner.login = 'Codertocat';
    const prepared = await prepareRun(harness, { eventName: 'workflow_run', payload, workspace: repo.dir, runId: 999, inputs: { mode: 'publish' } });
    const exitCode = await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
    expect(exitCode).toBe(0);
    expect(harness.github.checkRuns).toHaveLength(1);
    expect(harness.github.checkRuns[0]).toMatchObject({ name: 'qualityfoundry/gate', head_sha: repo.headSha, conclusion: 'success' });
  });

  it('merge mode: a missing shard blocks the merged verdict (failure check run, exit 1)', async () => {
    seedShards(401, [shardZips[0], shardZips[1], undefined]);
    const result = await mergeJob(401);
    expect(result.exitCode).toBe(1);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ name: 'qualityfoundry/gate', conclusion: 'failure' });
    expect(gate.output.summary).toContain('"merge.result" version 1 by merge depends on "shard:3", which nobody has declared');
    expect(gate.output.summary).toContain('Merged from 2 of 3 shards: 1 pass, 2 pass, 3 missing; 1 conflict(s) between them.');
    expect(result.outputs.verdict).toBe('blocked');
  });

  it('merge mode: a tampered shard is rejected as publish mode rejects a bundle (failure check run, exit 2)', async () => {
    const entries = readZip(shardZips[1]!);
    const file = entries.find((entry) => entry.name === 'evidence.json')!;
    const evidence = JSON.parse(file.data.toString('utf8'));
    evidence.gate.verdict = 'pass';
    evidence.metrics['pytest.passed'] += 1;
    file.data = Buffer.from(JSON.stringify(evidence, null, 2));
    seedShards(402, [shardZips[0], writeZip(entries), shardZips[2]]);
    const result = await mergeJob(402);
    expect(result.exitCode).toBe(2);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ conclusion: 'failure', output: { title: "Evidence rejected: a shard's artifact failed validation" } });
    expect(gate.output.summary).toContain('artifact qualityfoundry-evidence-shard-2-of-3: evidence.json was changed after it was sealed');
    expect(harness.artifacts.artifacts.some((artifact) => artifact.runId === 402 && artifact.name === 'qualityfoundry-evidence')).toBe(false);
  });

  it('merge mode on a re-run of the failed jobs: takes each shard from its newest attempt, uploads NAME-attempt-N', async () => {
    harness.artifacts.seed({ name: 'qualityfoundry-evidence-shard-1-of-3', runId: 403, zip: shardZips[0]! });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence-shard-2-of-3-attempt-2', runId: 403, zip: shardZips[1]! });
    harness.artifacts.seed({ name: 'qualityfoundry-evidence-shard-3-of-3', runId: 403, zip: shardZips[2]! });
    const result = await mergeJob(403, {}, 2);
    expect(result.exitCode).toBe(0);
    const merged = harness.artifacts.artifacts.find((artifact) => artifact.runId === 403 && artifact.name === 'qualityfoundry-evidence-attempt-2')!;
    expect(artifactEvidence(merged.blob!).merge!.shards.map((shard) => shard.artifact?.name)).toEqual([
      'qualityfoundry-evidence-shard-1-of-3',
      'qualityfoundry-evidence-shard-2-of-3-attempt-2',
      'qualityfoundry-evidence-shard-3-of-3',
    ]);
  });

  it(
    'balances by the timing history named by input timings (an evidence folder restored into the checkout)',
    async () => {
      // The merged artifact of the first test, unpacked where a cache step would restore it.
      const merged = harness.artifacts.artifacts.find((artifact) => artifact.name === 'qualityfoundry-evidence' && artifact.runId === RUN_ID)!;
      const history = join(repo.dir, '.qf-history');
      for (const entry of readZip(merged.blob!)) {
        if (!entry.name.endsWith('.xml')) continue;
        await mkdir(dirname(join(history, entry.name)), { recursive: true });
        await writeFile(join(history, entry.name), entry.data);
      }
      try {
        const result = await runOnPullRequest(harness, repo, {
          inputs: { 'shard-index': '2', 'shard-total': '3', timings: '.qf-history', 'dry-run': 'true' },
          seed: false,
        });
        expect(result.exitCode).toBe(0);
        expect(result.jobSummary).toContain(`Balanced by the durations in 3 JUnit report(s) in ${history} (11 of 11 tests).`);
      } finally {
        await rm(history, { recursive: true, force: true });
      }
    },
    RUNS_TIMEOUT,
  );

  it(
    'does not follow timings that a pull request made a link to a file outside the checkout, nor quote it',
    async () => {
      const outside = await mkdtemp(join(tmpdir(), 'qf-outside-'));
      const secret = 'ghs_runnerSecretNeverShown0123456789';
      await writeFile(join(outside, 'credentials'), `TOKEN=${secret}\n`);
      const link = join(repo.dir, '.qf-timings');
      await symlink(join(outside, 'credentials'), link);
      try {
        const result = await runOnPullRequest(harness, repo, {
          inputs: { 'shard-index': '1', 'shard-total': '3', timings: '.qf-timings', 'dry-run': 'true' },
          seed: false,
        });
        expect(result.exitCode).toBe(0);
        expect(result.jobSummary).toContain(
          `The timing history \`.qf-timings\` could not be used (--timings: ${link} is a symbolic link; it is not followed.).`,
        );
        expect(result.jobSummary).toContain('Balanced by test file size: no timing history was given.');
        expect(result.jobSummary).not.toContain(secret);
      } finally {
        await rm(link);
        await rm(outside, { recursive: true, force: true });
      }
    },
    RUNS_TIMEOUT,
  );

  it('refuses shard inputs that do not fit, naming them', async () => {
    resetHarness(harness);
    const result = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': '4', 'shard-total': '3' } });
    expect(result.exitCode).toBe(2);
    const lonely = await runOnPullRequest(harness, repo, { inputs: { 'shard-index': '1' } });
    expect(lonely.exitCode).toBe(2);
  });
});
