import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, prepareRun, pullRequestPayload, readOutputs, seedPullRequest, startHarness } from '../support/action-harness.js';
import { createFixtureRepo, PASSING_CHANGE } from '../support/python-project.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let harness: Harness;
beforeAll(async () => {
  // The bundle under test is the one built from this checkout.
  await run(process.execPath, ['scripts/build-dist.mjs'], { cwd: ROOT });
  harness = await startHarness();
});
afterAll(() => harness.close());

describe('dist/index.js', () => {
  it('runs as its own process with the runner environment and publishes a passing pull request', async () => {
    const repo = await createFixtureRepo(PASSING_CHANGE);
    seedPullRequest(harness.github, repo);
    const prepared = await prepareRun(harness, { eventName: 'pull_request', payload: await pullRequestPayload(repo), workspace: repo.dir });
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LANG: 'C.UTF-8', ...prepared.env };
    const child = await run(process.execPath, [`${ROOT}dist/index.js`], { env, cwd: repo.dir }).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(child.code, child.stdout + child.stderr).toBe(0);
    expect(harness.github.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /repos/Codertocat/Hello-World/check-runs',
      'GET /repos/Codertocat/Hello-World/pulls/2/files',
      'GET /repos/Codertocat/Hello-World/contents/.github%2Fqualityfoundry.yml',
      'PATCH /repos/Codertocat/Hello-World/check-runs/1000',
      'PATCH /repos/Codertocat/Hello-World/check-runs/1000',
    ]);
    expect(harness.github.checkRuns[0]).toMatchObject({ head_sha: repo.headSha, conclusion: 'success' });
    expect(harness.artifacts.artifacts).toHaveLength(1);
    expect(await readOutputs(prepared.outputFile)).toMatchObject({ verdict: 'pass', 'check-run-id': '1000' });
    expect(await readFile(harness.summaryFile, 'utf8')).toContain('Passed');
    expect(child.stdout).toContain('::group::Step unit (run_pytest)');
  });
});
