import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { OWNER, PR_NUMBER, REPO, RUN_ID, type Harness, resetHarness, runOnPullRequest, startHarness } from '../support/action-harness.js';
import { APP_ID, APP_SLUG, commentPayload, deliver, makeTestApp, planCompletedPayload, startTestBot } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, type FixtureRepo, PASSING_CHANGE } from '../support/python-project.js';

const PATH = `/repos/${OWNER}/${REPO}`;
let harness: Harness;
let repo: FixtureRepo;
let bot: RunningBot;
const dbDir = mkdtempSync(join(tmpdir(), 'qf-bot-loop-'));

beforeAll(async () => {
  denyNetwork();
  const { app, privateKey } = makeTestApp();
  harness = await startHarness({ app });
  repo = await createFixtureRepo({ ...PASSING_CHANGE, 'infra/deploy.sh': '#!/bin/sh\necho deploy\n' });
  bot = await startTestBot(harness.github, privateKey, { dbPath: join(dbDir, 'bot.db') });
});
afterAll(async () => {
  await bot?.close();
  await harness?.close();
  rmSync(dbDir, { recursive: true, force: true });
  if (repo) rmSync(repo.dir, { recursive: true, force: true });
});
beforeEach(() => resetHarness(harness));

/** The Action publishes the plan and exits 3; GitHub tells the bot the plan check run completed. */
async function publishPlan(): Promise<string> {
  const first = await runOnPullRequest(harness, repo, { inputs: { 'approval-app': APP_SLUG } });
  expect(first.exitCode).toBe(3);
  const plan = harness.github.checkRuns.find((run) => run.name === 'qualityfoundry/plan')!;
  expect(plan.check_suite).toBeDefined();
  const delivered = await deliver(bot, 'check_run', planCompletedPayload({ number: PR_NUMBER, checkRun: plan }));
  expect(delivered.status).toBe(200);
  return first.outputs['plan-hash']!;
}

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
    harness.github.comments.push({ id: comment.comment.id, issue_number: PR_NUMBER, body: comment.comment.body, user: { login: 'hubot', type: 'User' }, performed_via_github_app: null, html_url: comment.comment.html_url });
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
  });
});
