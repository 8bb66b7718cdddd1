import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { verifyStoredChains } from '../../src/governance/index.js';
import { type Harness, OWNER, REPO, resetHarness, seedPullRequest } from '../support/action-harness.js';
import { deliver, startTestBot, workflowRunPayload } from '../support/bot-harness.js';
import { type ConflictFixture, pullConversation, startConflictFixture } from '../support/conflict-fixture.js';
import { BASE_POLICY, type FixtureRepo } from '../support/python-project.js';

/**
 * The resolution strategies other than override (retry, merge, escalate) and what the policy's mode
 * does with a conflict across runs, from bundles the real Action produced: two runs of one head SHA,
 * one passing and one failing (a test that fails while the workspace holds FLAKE).
 */
const PROJECT = `${OWNER}/${REPO}`;
const NAME = 'qualityfoundry-evidence';
type Mode = 'strict' | 'adaptive' | 'playground';
const policyIn = (mode: Mode): string => BASE_POLICY.replace('mode: strict', `mode: ${mode}`);
/** The base policy the bot reads: names approvers to mention (users and a team). */
const REVIEW_POLICY = `${BASE_POLICY.replace('count: 1', 'count: 1\n  approvers: { min_permission: maintain, users: [alice], teams: [qa-leads] }')}`;

let fixture: ConflictFixture;
let harness: Harness;
let repo: FixtureRepo;
const zips = new Map<Mode, { pass: Buffer; fail: Buffer }>();
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-strategies-'));

beforeAll(async () => {
  fixture = await startConflictFixture();
  ({ harness, repo } = fixture);
  let runId = 500;
  for (const mode of ['strict', 'adaptive', 'playground'] as const) {
    const pass = await fixture.actionRun(++runId, { policy: policyIn(mode) });
    await writeFile(join(repo.dir, 'FLAKE'), 'x');
    const fail = await fixture.actionRun(++runId, { policy: policyIn(mode) });
    await rm(join(repo.dir, 'FLAKE'));
    zips.set(mode, { pass, fail });
  }
}, 240_000);
afterAll(async () => {
  await fixture?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
let bot: RunningBot;
beforeEach(async () => {
  resetHarness(harness);
  seedPullRequest(harness.github, repo);
  harness.github.contents.set(`${repo.baseSha}:.github/qualityfoundry.yml`, REVIEW_POLICY);
  harness.github.permissions.set('alice', 'maintain');
  harness.github.permissions.set('carol', 'write');
  bot = await startTestBot(harness.github, fixture.privateKey, { dbPath: join(dir, `bot-${++n}.db`) });
});
afterEach(async () => {
  await bot.close();
});

const { status, answers, comment } = pullConversation(
  () => harness,
  () => bot,
);

/** Runs 601 (pass) and 602 (fail) of the head, in `mode`, ingested in that order; 602 is the gate's latest run. */
async function disagree(mode: Mode): Promise<void> {
  const { github } = harness;
  const { pass, fail } = zips.get(mode)!;
  github.workflowRuns.push({ id: 601, head_sha: repo.headSha, check_suite_id: 1601 }, { id: 602, head_sha: repo.headSha, check_suite_id: 1602 });
  harness.artifacts.seed({ name: NAME, runId: 601, zip: pass });
  harness.artifacts.seed({ name: NAME, runId: 602, zip: fail });
  github.seedCheckRun({
    name: 'qualityfoundry/gate',
    head_sha: repo.headSha,
    app: { slug: 'github-actions', id: 15368 },
    conclusion: 'failure',
    check_suite: { id: 1602 },
  });
  for (const id of [601, 602]) expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id, headSha: repo.headSha }))).status).toBe(200);
}

const resolutions = () => harness.github.checkRuns.filter((r) => r.name === 'qualityfoundry/resolution');

describe('what the mode does with a conflict across runs', () => {
  it('STRICT: open (blocking), in the status comment, one comment mentioning the approvers', async () => {
    await disagree('strict');
    expect(await bot.store.listConflicts(PROJECT)).toMatchObject([{ kind: 'duplicate_producer', status: 'open', lowRisk: false }]);
    expect(status()).toContain('`c1` ⛔ open');
    expect(answers()).toEqual([expect.stringMatching(/^@alice @Codertocat\/qa-leads: conflict `c1` needs a decision/)]);
  });

  it('ADAPTIVE: a duplicate producer is never low-risk, so it is escalated (not auto-resolved) and announced', async () => {
    await disagree('adaptive');
    const [conflict] = await bot.store.listConflicts(PROJECT);
    expect(conflict).toMatchObject({ status: 'escalated', lowRisk: false });
    expect(conflict!.escalatedAt).not.toBeNull();
    expect(status()).toContain('`c1`');
    expect(answers()).toHaveLength(1);
    const actions = (await bot.store.listAudit({ chain: `project:${PROJECT}` })).map((e) => e.action);
    expect(actions).toContain('bot.conflict.escalated');
  });

  it('PLAYGROUND: recorded, never announced', async () => {
    await disagree('playground');
    expect(await bot.store.listConflicts(PROJECT)).toHaveLength(1);
    expect(answers()).toEqual([]);
    expect(status()).toBe('');
    const actions = (await bot.store.listAudit({ chain: `project:${PROJECT}` })).map((e) => e.action);
    expect(actions).toContain('psmp.conflict');
    expect(actions).not.toContain('bot.conflict.escalated');
  });
});

describe('/qf resolve with each strategy', () => {
  it('retry: the conflict is retrying, the resolution check run says RETRY, and the gate workflow runs again once', async () => {
    await disagree('strict');
    const [conflict] = await bot.store.listConflicts(PROJECT);
    await comment('alice', '/qf resolve c1 retry');
    expect(await bot.store.getConflict(conflict!.id)).toMatchObject({
      status: 'retrying',
      resolutions: [{ strategy: 'RETRY', by: 'alice', reason: 'retry by @alice' }],
    });
    expect(resolutions()).toMatchObject([{ head_sha: repo.headSha, external_id: `${conflict!.id}:RETRY`, conclusion: 'success' }]);
    expect(harness.github.reruns).toEqual([602]);
    const rerun = harness.github.requests.filter((r) => r.method === 'POST' && r.path.includes('/rerun'));
    expect(rerun.map((r) => r.path)).toEqual([`/repos/${PROJECT}/actions/runs/602/rerun`]);
    const audit = await bot.store.listAudit({ chain: `project:${PROJECT}` });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['psmp.retry', 'bot.conflict.resolved', 'bot.workflow.rerun']));
    expect(audit.find((e) => e.action === 'bot.conflict.resolved')!.data).toMatchObject({ strategy: 'RETRY', permission: 'maintain' });

    // GitHub runs attempt 2 of run 602, and it agrees with 601: the same producer answered the RETRY.
    harness.artifacts.seed({ name: `${NAME}-attempt-2`, runId: 602, zip: zips.get('strict')!.pass });
    expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 602, headSha: repo.headSha, attempt: 2 }))).status).toBe(200);
    const retried = await bot.store.getConflict(conflict!.id);
    expect(retried).toMatchObject({ status: 'resolved', resolutions: [{ strategy: 'RETRY', by: 'alice' }] });
    expect(retried!.resolutions[0]!.retriedAs).toMatch(/step:unit@3$/);
    expect(await bot.store.listConflicts(PROJECT)).toHaveLength(1);
    expect(status()).toContain('`c1` ✅ resolved (retry by @alice: retry by @alice)');
  });

  it("merge: needs the reviewer's decision; records it as the merged result and hands MERGE to the Action", async () => {
    await disagree('strict');
    const [conflict] = await bot.store.listConflicts(PROJECT);
    await comment('alice', '/qf resolve c1 merge');
    expect(answers().at(-1)).toContain('`/qf resolve <id> merge <decision>` needs the merged decision as its reason');
    expect(resolutions()).toEqual([]);
    await comment('alice', '/qf resolve c1 merge unit passes: the failure came from a stray FLAKE file');
    const merged = await bot.store.getConflict(conflict!.id);
    expect(merged).toMatchObject({
      status: 'resolved',
      resolutions: [{ strategy: 'MERGE', by: 'alice', reason: 'unit passes: the failure came from a stray FLAKE file' }],
    });
    const artifactId = merged!.resolutions[0]!.mergedArtifactId;
    expect(artifactId).toBeDefined();
    const artifact = await bot.store.getArtifact(artifactId!);
    expect(artifact).toMatchObject({ type: 'step:unit', ref: expect.stringContaining('#issuecomment-') });
    expect(resolutions()).toMatchObject([{ external_id: `${conflict!.id}:MERGE`, output: { summary: expect.stringContaining('Reason: unit passes') } }]);
    expect(harness.github.reruns).toEqual([]);
  });

  it('escalate: hands it to the people the policy names, with a mention; still unresolved', async () => {
    await disagree('strict');
    const [conflict] = await bot.store.listConflicts(PROJECT);
    await comment('alice', '/qf resolve c1 escalate flaky on CI only, needs the QA leads');
    expect(answers().at(-1)).toBe('@alice @Codertocat/qa-leads: @alice escalated conflict `c1`: flaky on CI only, needs the QA leads.');
    expect(await bot.store.getConflict(conflict!.id)).toMatchObject({ status: 'escalated', resolutions: [{ strategy: 'ESCALATE' }] });
    expect(resolutions()).toMatchObject([{ external_id: `${conflict!.id}:ESCALATE` }]);
    // Escalated is not resolved: a later decision still closes it.
    await comment('alice', '/qf resolve c1 override the failing run is the flake');
    expect(await bot.store.getConflict(conflict!.id)).toMatchObject({ status: 'resolved' });
    expect((await verifyStoredChains(bot.store)).ok).toBe(true);
  });

  it('refused by name and audited: a writer who is not an approver, an already resolved conflict', async () => {
    await disagree('strict');
    await comment('carol', '/qf resolve c1 override');
    expect(answers().at(-1)).toContain('@carol has permission `write`');
    await comment('alice', '/qf resolve c1 override');
    await comment('alice', '/qf resolve c1 retry');
    expect(answers().at(-1)).toContain('conflict `c1` is already resolved');
    const refused = await bot.store.listAudit({ chain: `project:${PROJECT}`, action: 'bot.command.refused' });
    expect(refused.map((e) => e.actor)).toEqual(['carol', 'alice']);
    expect(harness.github.reruns).toEqual([]);
  });
});
