import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { OWNER, PR_NUMBER, REPO, RUN_ID, type Harness, resetHarness, runOnPullRequest, seedPullRequest, startHarness } from '../support/action-harness.js';
import { APP_ID, APP_SLUG, commentPayload, deliver, makeTestApp, planCompletedPayload, startTestBot } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { BASE_POLICY, createFixtureRepo, type FixtureRepo, PASSING_CHANGE } from '../support/python-project.js';

const PATH = `/repos/${OWNER}/${REPO}`;
let harness: Harness;
let repo: FixtureRepo;
let bot: RunningBot;
let privateKey: string;
const dbDir = mkdtempSync(join(tmpdir(), 'qf-bot-loop-'));
let dbCount = 0;

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  repo = await createFixtureRepo({ ...PASSING_CHANGE, 'infra/deploy.sh': '#!/bin/sh\necho deploy\n' });
});
afterAll(async () => {
  await harness?.close();
  rmSync(dbDir, { recursive: true, force: true });
  if (repo) rmSync(repo.dir, { recursive: true, force: true });
});
// Each scenario starts from an empty bot store: the same head and plan recur across them.
beforeEach(async () => {
  resetHarness(harness);
  bot = await startTestBot(harness.github, privateKey, { dbPath: join(dbDir, `bot-${++dbCount}.db`) });
});
afterEach(async () => {
  await bot.close();
});

/** The Action publishes the plan and exits 3; GitHub tells the bot the plan check run completed. */
async function publishPlan(options: { count?: number } = {}): Promise<string> {
  seedPullRequest(harness.github, repo);
  if (options.count) harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, BASE_POLICY.replace('count: 1', `count: ${options.count}`));
  const first = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
  expect(first.exitCode).toBe(3);
  const plan = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/plan')!;
  expect(plan.check_suite).toBeDefined();
  const delivered = await deliver(bot, 'check_run', planCompletedPayload({ number: PR_NUMBER, checkRun: plan }));
  expect(delivered.status).toBe(200);
  return first.outputs['plan-hash']!;
}

/** A reviewer's new comment, as GitHub stores it and then delivers it. */
async function comment(login: string, body: string): Promise<{ status: number; id: number }> {
  const payload = commentPayload({ number: PR_NUMBER, body, login });
  harness.github.comments.push({
    id: payload.comment.id,
    issue_number: PR_NUMBER,
    body,
    user: { login, type: 'User' },
    performed_via_github_app: null,
    html_url: payload.comment.html_url,
  });
  const delivered = await deliver(bot, 'issue_comment', payload);
  return { status: delivered.status, id: payload.comment.id };
}

const evidenceArtifacts = (): string[] =>
  harness.artifacts.artifacts.filter((artifact) => artifact.runId === RUN_ID && artifact.finalized).map((artifact) => artifact.name);
const statusBody = (): string => harness.github.comments.find((c) => c.body.startsWith('<!-- qualityfoundry:status -->'))?.body ?? '';

describe('the whole loop: Action plan → /qf approve → approval check run + re-run → the Action runs the gate', () => {
  it('one approver', async () => {
    const planHash = await publishPlan();
    harness.github.permissions.set('hubot', 'maintain');
    const request = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/approval' && run.conclusion === 'action_required');
    expect(request).toMatchObject({ app: { id: APP_ID }, external_id: planHash, head_sha: repo.headSha });
    const status = harness.github.comments.find((comment) => comment.body.startsWith('<!-- qualityfoundry:status -->'));
    expect(status?.body).toContain('**Approvals: 0 of 1**');

    const writesBefore = harness.github.writes().length;
    const comment = commentPayload({ number: PR_NUMBER, body: '/qf approve ship it', login: 'hubot' });
    harness.github.comments.push({
      id: comment.comment.id,
      issue_number: PR_NUMBER,
      body: comment.comment.body,
      user: { login: 'hubot', type: 'User' },
      performed_via_github_app: null,
      html_url: comment.comment.html_url,
    });
    const delivered = await deliver(bot, 'issue_comment', comment);
    expect(delivered.status).toBe(200);
    const writes = harness.github.writes().slice(writesBefore);
    expect(writes.map((write) => `${write.method} ${write.path}`)).toEqual([
      `POST ${PATH}/check-runs`,
      `POST ${PATH}/actions/runs/${RUN_ID}/rerun`,
      `POST ${PATH}/issues/comments/${comment.comment.id}/reactions`,
      `PATCH ${PATH}/issues/comments/${status!.id}`,
    ]);
    expect(writes[0]!.body).toEqual({
      name: 'qualityfoundry/approval',
      head_sha: repo.headSha,
      external_id: planHash,
      status: 'completed',
      conclusion: 'success',
      output: { title: 'Approved by @hubot', summary: expect.stringContaining('Reason: ship it') },
    });
    expect(writes[2]!.body).toEqual({ content: '+1' });
    expect((writes[3]!.body as { body: string }).body).toContain('**Approvals: 1 of 1** ✅');

    const rerun = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.outputs.verdict).toBe('pass');
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/gate').at(-1)).toMatchObject({ conclusion: 'success' });
    // The re-run is attempt 2 of the same run: GitHub refuses a second artifact of the same name in a
    // run, so each attempt's evidence has its own, and both are kept.
    expect(evidenceArtifacts()).toEqual(['qualityfoundry-evidence', 'qualityfoundry-evidence-attempt-2']);
    expect(rerun.jobSummary).not.toContain('could not be uploaded');
  });

  it('two approvers (count: 2): the first approval waits, the second re-runs once, and the re-run passes', async () => {
    const planHash = await publishPlan({ count: 2 });
    harness.github.permissions.set('hubot', 'maintain');
    harness.github.permissions.set('octocat', 'admin');
    expect(statusBody()).toContain('**Approvals: 0 of 2**');

    expect((await comment('hubot', '/qf approve')).status).toBe(200);
    expect(harness.github.reruns).toEqual([]);
    const halfway = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(halfway.exitCode).toBe(3);
    expect(halfway.jobSummary).toContain('Needs 2 approval(s), has 1');

    expect((await comment('octocat', '/qf APPROVE')).status).toBe(200);
    expect(harness.github.reruns).toEqual([RUN_ID]);
    const approvals = harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval' && run.conclusion === 'success');
    expect(approvals.map((run) => [run.output.title, run.external_id])).toEqual([
      ['Approved by @hubot', planHash],
      ['Approved by @octocat', planHash],
    ]);
    expect(statusBody()).toContain('**Approvals: 2 of 2** ✅');
    // A third approval after the count is reached re-runs nothing more: once per head SHA and plan.
    harness.github.permissions.set('monalisa', 'maintain');
    expect((await comment('monalisa', '/qf approve')).status).toBe(200);
    expect(harness.github.reruns).toEqual([RUN_ID]);

    const rerun = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.outputs.verdict).toBe('pass');
  });

  it('reject: a failure approval check run with the reason, a re-run, and the Action reports blocked "Plan rejected by @x: reason"', async () => {
    const planHash = await publishPlan();
    harness.github.permissions.set('hubot', 'maintain');
    expect((await comment('hubot', '/qf reject the deploy script needs review by ops')).status).toBe(200);
    const rejection = harness.github.requests.find((request) => request.method === 'POST' && (request.body as any)?.conclusion === 'failure')!;
    expect(rejection.body).toEqual({
      name: 'qualityfoundry/approval',
      head_sha: repo.headSha,
      external_id: planHash,
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'Rejected by @hubot', summary: expect.stringContaining('Reason: the deploy script needs review by ops') },
    });
    expect(harness.github.reruns).toEqual([RUN_ID]);
    expect(statusBody()).toContain('⛔ **Rejected** by @hubot: the deploy script needs review by ops');

    // An approval after the rejection does not count: the rejection stands until a new push.
    harness.github.permissions.set('octocat', 'admin');
    await comment('octocat', '/qf approve');
    expect(harness.github.comments.at(-1)!.body).toContain('was rejected by @hubot: the deploy script needs review by ops; a new push makes a new plan');

    const rerun = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(rerun.exitCode).toBe(1);
    expect(rerun.outputs.verdict).toBe('blocked');
    expect(rerun.jobSummary).toContain('Plan rejected by @hubot: the deploy script needs review by ops');
  });

  it('hold/unhold: an approved plan on a held head waits (exit 3, no new plan check run); /qf unhold releases the hold check run, re-runs, and the gate runs', async () => {
    const planHash = await publishPlan();
    harness.github.permissions.set('hubot', 'maintain');
    harness.github.permissions.set('octocat', 'admin');

    expect((await comment('octocat', '/qf hold waiting for the release freeze')).status).toBe(200);
    const hold = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/hold')!;
    expect(hold).toMatchObject({ app: { id: APP_ID }, head_sha: repo.headSha, status: 'in_progress' });
    expect(statusBody()).toContain('@octocat');

    expect((await comment('hubot', '/qf approve')).status).toBe(200);
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval' && run.conclusion === 'success')).toHaveLength(1);
    expect(harness.github.reruns).toEqual([RUN_ID]);

    // The re-run the approval asked for finds the hold: it waits, and asks for no approval again.
    const plansBefore = harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/plan').length;
    const held = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(held.exitCode).toBe(3);
    expect(held.outputs.verdict).toBe('needs_approval');
    expect(held.jobSummary).toContain('waiting for the release freeze');
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/plan')).toHaveLength(plansBefore);
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/gate').at(-1)).toMatchObject({ status: 'completed' });

    // Only what the hold's own check run says counts: unhold completes it and runs the gate again.
    expect((await comment('octocat', '/qf unhold')).status).toBe(200);
    expect(harness.github.checkRuns.find((run) => run.id === hold.id)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(harness.github.reruns).toEqual([RUN_ID, RUN_ID]);

    const released = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG }, seed: false });
    expect(released.exitCode).toBe(0);
    expect(released.outputs.verdict).toBe('pass');
    expect(released.outputs['plan-hash']).toBe(planHash);
    expect(evidenceArtifacts()).toEqual(['qualityfoundry-evidence', 'qualityfoundry-evidence-attempt-2', 'qualityfoundry-evidence-attempt-3']);
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/gate').at(-1)).toMatchObject({ conclusion: 'success' });
  });
});
