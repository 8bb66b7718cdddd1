import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/action/run.js';
import { FAST_TUNING, type Harness, loadFixture, prepareRun, readOutputs, resetHarness, startHarness, withRunnerEnv } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, FAILING_CHANGE, PASSING_CHANGE, type FixtureRepo } from '../support/python-project.js';

let harness: Harness;

beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
});
afterAll(() => harness.close());

/** A push of the fixture repository's head commit, from the real `push` example payload. */
async function runOnPush(repo: FixtureRepo) {
  resetHarness(harness);
  const payload = await loadFixture('push.json');
  Object.assign(payload, { before: repo.baseSha, after: repo.headSha, ref: 'refs/heads/changes' });
  const prepared = await prepareRun(harness, { eventName: 'push', payload, workspace: repo.dir, sha: repo.headSha });
  const exitCode = await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  return { exitCode, outputs: await readOutputs(prepared.outputFile) };
}

describe('run() on push', () => {
  it('plans from the pushed commits (git diff before...after), reads the policy from the checkout and publishes on the pushed commit', async () => {
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPush(repo);

    expect(result.exitCode).toBe(0);
    expect(result.outputs.verdict).toBe('pass');
    const evidence = JSON.parse(await readFile(result.outputs['evidence-path']!, 'utf8'));
    // Changed files come from git, not from the pulls API, and cover exactly the pushed change.
    expect(evidence.change).toMatchObject({ base: repo.baseSha, head: repo.headSha, changedFiles: ['calc/__init__.py', 'tests/test_mul.py'] });
    expect(evidence.policy.path).toBe('.github/qualityfoundry.yml');
    expect(harness.github.requests.some((request) => request.path.includes('/pulls'))).toBe(false);
    expect(harness.github.requests.some((request) => request.path.includes('/contents/'))).toBe(false);
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ name: 'qualityfoundry/gate', head_sha: repo.headSha, status: 'completed', conclusion: 'success' });
    expect(harness.artifacts.artifacts[0]!.name).toBe('qualityfoundry-evidence');
  });

  it('fails the step on a failing push and annotates the failures on the pushed commit', async () => {
    const repo = await createFixtureRepo(FAILING_CHANGE);
    const result = await runOnPush(repo);

    expect(result.exitCode).toBe(1);
    expect(result.outputs.verdict).toBe('fail');
    const gate = harness.github.checkRuns[0]!;
    expect(gate).toMatchObject({ head_sha: repo.headSha, conclusion: 'failure' });
    expect(gate.annotations).toHaveLength(120);
    expect(gate.annotations[0]).toMatchObject({ path: 'tests/test_many.py', start_line: 6, annotation_level: 'failure' });
  });
});
