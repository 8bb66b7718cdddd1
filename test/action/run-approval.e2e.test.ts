import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, resetHarness, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { BASE_POLICY, createFixtureRepo, type FixtureRepo, PASSING_CHANGE } from '../support/python-project.js';

let harness: Harness;
let repo: FixtureRepo;
beforeAll(async () => {
  denyNetwork();
  harness = await startHarness();
  // infra/** needs an approval under the fixture policy.
  repo = await createFixtureRepo({ ...PASSING_CHANGE, 'infra/deploy.sh': '#!/bin/sh\necho deploy\n' });
});
afterAll(() => harness.close());
beforeEach(() => resetHarness(harness));

const APP = 'qualityfoundry-bot';

describe('run() and approvals from qualityfoundry/approval check runs', () => {
  let planHash = '';

  it('without an approval: publishes qualityfoundry/plan (action_required, external_id = planHash) and exits 3', async () => {
    const result = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(result.exitCode).toBe(3);
    planHash = result.outputs['plan-hash']!;
    expect(planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.outputs.verdict).toBe('needs_approval');

    const lookup = harness.github.requests.find((request) => request.path.endsWith('/check-runs') && request.method === 'GET')!;
    expect(lookup).toEqual({
      method: 'GET',
      path: `/repos/Codertocat/Hello-World/commits/${repo.headSha}/check-runs`,
      query: { check_name: 'qualityfoundry/approval', filter: 'all', per_page: '100' },
      body: undefined,
    });
    const planRequest = harness.github.requests.find((request) => request.method === 'POST' && (request.body as any).name === 'qualityfoundry/plan')!;
    expect(planRequest.body).toMatchObject({
      name: 'qualityfoundry/plan',
      head_sha: repo.headSha,
      external_id: planHash,
      status: 'completed',
      conclusion: 'action_required',
      output: { title: 'Approval needed: 1 step' },
    });
    expect((planRequest.body as any).output.summary).toContain('/qf approve');
    const [gate, plan] = harness.github.checkRuns;
    expect(gate).toMatchObject({ name: 'qualityfoundry/gate', conclusion: 'action_required' });
    expect(plan).toMatchObject({ name: 'qualityfoundry/plan', conclusion: 'action_required', external_id: planHash });
    // No step ran: the runner is not held while waiting.
    expect(harness.github.requests.filter((request) => request.method === 'PATCH' && !(request.body as any).conclusion)).toEqual([]);
  });

  it('with an approval from the configured app for this plan on the head SHA: runs and passes', async () => {
    harness.github.seedCheckRun({
      name: 'qualityfoundry/approval',
      head_sha: repo.headSha,
      app: { slug: APP },
      external_id: planHash,
      output: { title: 'Approved by @hubot', summary: 'ok', text: null, annotations_count: 0 },
    });
    const result = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.verdict).toBe('pass');
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/plan')).toEqual([]);
    expect(harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/gate')).toMatchObject({ conclusion: 'success' });
  });

  it('held by the approval app: waits (exit 3) without a plan check run, even when approved; released: runs', async () => {
    harness.github.seedCheckRun({
      name: 'qualityfoundry/approval',
      head_sha: repo.headSha,
      app: { slug: APP },
      external_id: planHash,
      output: { title: 'Approved by @hubot', summary: 'ok', text: null, annotations_count: 0 },
    });
    const hold = harness.github.seedCheckRun({
      name: 'qualityfoundry/hold',
      head_sha: repo.headSha,
      app: { slug: APP },
      status: 'in_progress',
      conclusion: null,
      completed_at: null,
      output: { title: 'Held by @hubot', summary: 'Reason: release freeze\n\n`/qf unhold` releases it.', text: null, annotations_count: 0 },
    });
    const held = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(held.exitCode).toBe(3);
    expect(held.outputs.verdict).toBe('needs_approval');
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/plan')).toEqual([]);
    const gate = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/gate')!;
    expect(gate).toMatchObject({ conclusion: 'action_required' });
    expect(gate.output.summary).toContain('Held');
    expect(gate.output.summary).toContain('Held by @hubot');
    expect(gate.output.summary).toContain('release freeze');

    // `/qf unhold`: the bot completes the hold check run; the next run goes ahead.
    Object.assign(hold, { status: 'completed', conclusion: 'success', completed_at: '2024-01-01T00:01:00Z' });
    const released = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(released.exitCode).toBe(0);
    expect(released.outputs.verdict).toBe('pass');
  });

  it('with an approval for an old plan: still waits, and says why', async () => {
    harness.github.seedCheckRun({ name: 'qualityfoundry/approval', head_sha: repo.headSha, app: { slug: APP }, external_id: 'b'.repeat(64) });
    const result = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(result.exitCode).toBe(3);
    expect(result.jobSummary).toContain(`it approves plan bbbbbbbbbbbb, the current plan is ${planHash.slice(0, 12)}`);
    expect(harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/gate')!.output.summary).toContain('is not an approval');
  });

  it('with an approval from another app: still waits, and says why', async () => {
    harness.github.seedCheckRun({ name: 'qualityfoundry/approval', head_sha: repo.headSha, app: { slug: 'someone-elses-app' }, external_id: planHash });
    const result = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(result.exitCode).toBe(3);
    expect(result.jobSummary).toContain(`created by app "someone-elses-app", only app "${APP}" may approve`);
  });

  it('when approval check runs cannot be listed: fails closed (waits, exit 3) and says why, instead of crashing', async () => {
    harness.github.seedCheckRun({ name: 'qualityfoundry/approval', head_sha: repo.headSha, app: { slug: APP }, external_id: planHash });
    harness.github.faults.push({ method: 'GET', path: /\/commits\/[0-9a-f]+\/check-runs$/, status: 500, times: Infinity });
    const result = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP } });
    expect(result.exitCode).toBe(3);
    expect(result.outputs.verdict).toBe('needs_approval');
    expect(result.jobSummary).toContain('Approval check runs could not be listed');
  });

  it('with an approval but no approval-app input: nothing counts', async () => {
    harness.github.seedCheckRun({ name: 'qualityfoundry/approval', head_sha: repo.headSha, app: { slug: APP }, external_id: planHash });
    const result = await runOnPullRequest(harness, repo);
    expect(result.exitCode).toBe(3);
    expect(result.jobSummary).toContain('`approval-app` input is not set');
  });
});

describe('run() when the pull request changes the policy', () => {
  it('uses the base commit policy, validates the proposed one and shows its errors', async () => {
    const proposed = BASE_POLICY.replace('op: "=="', 'op: "=<"');
    const changed = await createFixtureRepo({ ...PASSING_CHANGE, '.github/qualityfoundry.yml': proposed });
    const result = await runOnPullRequest(harness, changed);

    expect(result.exitCode).toBe(0);
    const contentReads = harness.github.requests.filter((request) => request.path.includes('/contents/'));
    expect(contentReads.map((request) => request.query.ref)).toEqual([changed.baseSha, changed.headSha]);
    const gate = harness.github.checkRuns[0]!;
    expect(gate.output.summary).toContain('This pull request changes the policy file `.github/qualityfoundry.yml`');
    expect(gate.output.summary).toContain(`uses the policy of the base commit \`${changed.baseSha.slice(0, 12)}\``);
    expect(gate.output.summary).toMatch(/not valid[\s\S]*\.github\/qualityfoundry\.yml:\d+:\d+: gate\[0\]\.op/);
    expect(result.jobSummary).toContain('This pull request changes the policy file');
  });
  it('a proposed policy that is an alias bomb is reported with its position; the run goes on with the base policy', async () => {
    const levels = [
      'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
      ...'bcdefg'.split('').map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdef'[index]}`).join(', ')}]`),
    ];
    const proposed = `${BASE_POLICY}${levels.join('\n')}\n`;
    const changed = await createFixtureRepo({ ...PASSING_CHANGE, '.github/qualityfoundry.yml': proposed });
    const result = await runOnPullRequest(harness, changed);

    expect(result.exitCode).toBe(0);
    const line = BASE_POLICY.split('\n').length - 1 + 5; // the first *d
    const summary = harness.github.checkRuns[0]!.output.summary;
    expect(summary).toContain('The proposed version is not valid');
    expect(summary).toContain(`.github/qualityfoundry.yml:${line}:8: aliases expand to more than 10000 nodes by here`);
    expect(summary).not.toContain('ReferenceError');
  });
});
