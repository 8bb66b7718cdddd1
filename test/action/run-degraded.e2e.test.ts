import { access } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, resetHarness, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, FAILING_CHANGE, PASSING_CHANGE } from '../support/python-project.js';

let harness: Harness;
beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
});
afterAll(() => harness.close());
beforeEach(() => resetHarness(harness));

const checkWrites = () => harness.github.requests.filter((request) => request.method !== 'GET' && request.path.includes('/check-runs'));

describe('run() when publishing check runs is not possible', () => {
  it('with a read-only token (a fork pull request): job summary + artifact, no check run, step decided by the verdict', async () => {
    harness.github.readOnly = true;
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPullRequest(harness, repo, { fork: true });

    expect(result.exitCode).toBe(0);
    // One attempt: a 403 is not retried, and nothing more is tried against the checks API.
    expect(checkWrites().map((request) => `${request.method} ${request.path}`)).toEqual(['POST /repos/Codertocat/Hello-World/check-runs']);
    expect(harness.github.checkRuns).toEqual([]);
    expect(harness.artifacts.artifacts).toHaveLength(1);
    expect(result.jobSummary).toContain('The token cannot write check runs (HTTP 403');
    expect(result.jobSummary).toContain('Passed');
    expect(result.outputs).toMatchObject({ verdict: 'pass', 'check-run-id': '' });
  });

  it('retries 500s and 429s from the checks API and then publishes normally', async () => {
    harness.github.faults.push(
      { method: 'POST', path: /\/check-runs$/, status: 500, times: 2 },
      {
        method: 'PATCH',
        path: /\/check-runs\/\d+$/,
        status: 429,
        times: 1,
        headers: { 'retry-after': '1' },
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      },
      { method: 'PATCH', path: /\/check-runs\/\d+$/, status: 429, times: 1, body: { message: 'Too many requests' } },
    );
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPullRequest(harness, repo);

    expect(result.exitCode).toBe(0);
    // 2 failed creates + 1 good; the progress update hits both 429s and is retried twice; then the completion.
    expect(checkWrites().map((request) => request.method)).toEqual(['POST', 'POST', 'POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
    expect(harness.github.checkRuns).toHaveLength(1);
    expect(harness.github.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(result.outputs['check-run-id']).toBe(String(harness.github.checkRuns[0]!.id));
  });

  it('when the checks API keeps failing: the verdict still fails the step, evidence and job summary exist', async () => {
    harness.github.faults.push(
      { method: 'POST', path: /\/check-runs$/, status: 500, times: Infinity },
      { method: 'PATCH', path: /\/check-runs/, status: 502, times: Infinity },
    );
    const repo = await createFixtureRepo(FAILING_CHANGE);
    const result = await runOnPullRequest(harness, repo);

    expect(result.exitCode).toBe(1);
    expect(result.outputs.verdict).toBe('fail');
    await access(result.outputs['evidence-path']!);
    expect(harness.artifacts.artifacts).toHaveLength(1);
    expect(result.jobSummary).toContain('The check run could not be published (Could not create check run: HTTP 500');
    expect(result.jobSummary).toContain('Failed');
    // Start: 1 + 3 retries; completion (creating, since start failed): 1 + 3 retries.
    expect(checkWrites()).toHaveLength(8);
  });
});

describe("run() when GitHub's API fails before the gate can decide", () => {
  it('exits 4, not 1: a failing API says nothing about the change', async () => {
    harness.github.faults.push({ method: 'GET', path: /\/pulls\/\d+\/files/, status: 500, times: Infinity });
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPullRequest(harness, repo);
    expect(result.exitCode).toBe(4);
    // 1 + 3 retries of the listing, then nothing is run or judged.
    expect(harness.github.requests.filter((request) => request.path.endsWith('/files')).map((request) => request.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
    expect(result.outputs.verdict).toBeUndefined();
  });
});

describe('run() with bad inputs', () => {
  it('fails the step with exit code 2 and names each bad input and what was expected', async () => {
    const repo = await createFixtureRepo(PASSING_CHANGE);
    const result = await runOnPullRequest(harness, repo, { inputs: { mode: 'gatekeeper', 'dry-run': 'yes', 'approval-app': 'Not A Slug' } });
    expect(result.exitCode).toBe(2);
    expect(harness.github.requests).toEqual([]);
  });
});
