import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import type { StoreConnection } from '../../src/store/index.js';
import { OWNER, REPO, type Harness, resetHarness, startHarness } from '../support/action-harness.js';
import {
  APP_ID,
  buttonPayload,
  commentPayload,
  deliver,
  editedCommentPayload,
  makeTestApp,
  startTestBot,
  synchronizePayload,
  WEBHOOK_SECRET,
} from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { BASE_POLICY } from '../support/python-project.js';

const NUMBER = 7;
const HEAD = '1'.repeat(40);
const OLD_HEAD = '2'.repeat(40);
const BASE = '3'.repeat(40);
const PLAN = 'a'.repeat(64);
const OLD_PLAN = 'b'.repeat(64);
const RUN = 555;
const CHAIN = `project:${OWNER}/${REPO}`;

let harness: Harness;
let privateKey: string;
let postgres: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-attacks-'));
let n = 0;

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  postgres = await startPostgres();
});
afterAll(async () => {
  await harness?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A pull request whose workflow published a plan on HEAD, as GitHub would hold it. */
function seedScenario(options: { author?: string; commits?: Array<{ sha: string; author: string }>; basePolicy?: string; headPolicy?: string } = {}) {
  const { github } = harness;
  github.pulls.push({
    number: NUMBER,
    head: { sha: HEAD, ref: 'changes', owner: OWNER },
    base: { sha: BASE, ref: 'master' },
    files: [{ filename: 'infra/deploy.sh' }, ...(options.headPolicy ? [{ filename: '.github/qualityfoundry.yml' }] : [])],
    author: options.author ?? 'Codertocat',
    ...(options.commits ? { commits: options.commits } : {}),
  });
  github.contents.set(`${BASE}:.github/qualityfoundry.yml`, options.basePolicy ?? BASE_POLICY);
  if (options.headPolicy) github.contents.set(`${HEAD}:.github/qualityfoundry.yml`, options.headPolicy);
  github.seedCheckRun({
    name: 'qualityfoundry/plan',
    head_sha: HEAD,
    app: { slug: 'github-actions', id: 15368 },
    external_id: PLAN,
    conclusion: 'action_required',
    check_suite: { id: github.suiteOf(HEAD, RUN) },
  });
}

const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `bot-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('attacks on the approval path (%s store): each refused, answered and audited', (_name, connection) => {
  let bot: RunningBot;
  beforeEach(async () => {
    resetHarness(harness);
    bot = await startTestBot(harness.github, privateKey, await connection());
  });
  afterEach(async () => {
    await bot.close();
  });

  async function comment(login: string, body: string, type: 'User' | 'Bot' = 'User'): Promise<number> {
    const payload = commentPayload({ number: NUMBER, body, login, type });
    harness.github.comments.push({
      id: payload.comment.id,
      issue_number: NUMBER,
      body,
      user: { login, type },
      performed_via_github_app: null,
      html_url: payload.comment.html_url,
    });
    return (await deliver(bot, 'issue_comment', payload)).status;
  }

  /** Nothing approved, a reply quoting the command with the reason and the grammar, and an audit event. */
  async function expectRefused(login: string, line: string, reason: string): Promise<void> {
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval' && run.conclusion === 'success')).toEqual([]);
    expect(harness.github.reruns).toEqual([]);
    const answer = harness.github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID && !c.body.startsWith('<!--')).at(-1);
    expect(answer?.body).toContain(`> ${line}`);
    expect(answer?.body).toContain(reason);
    expect(answer?.body).toContain('| `/qf approve [reason]` |');
    const audited = await bot.store.listAudit({ chain: CHAIN, actor: login });
    expect(
      audited.map((event) => [event.action, String((event.data as { reason?: string }).reason ?? (event.data as { lines?: string[] }).lines)]),
    ).toContainEqual([expect.stringMatching(/^bot\.command\.(refused|edited)$/), expect.stringContaining(reason.replace(/^edited comments.*/, line))]);
    expect(await bot.store.listPrReviews(`${OWNER}/${REPO}`, NUMBER)).toEqual([]);
  }

  it('self-approval by the author', async () => {
    seedScenario({ author: 'codertocat' });
    harness.github.permissions.set('codertocat', 'admin');
    expect(await comment('codertocat', '/qf approve')).toBe(200);
    await expectRefused(
      'codertocat',
      '/qf approve',
      '@codertocat is the author of this pull request; authors may not approve their own change (approval.allow_author is false)',
    );
  });

  it('a commit author who is not the pull request author', async () => {
    seedScenario({
      commits: [
        { sha: OLD_HEAD, author: 'Codertocat' },
        { sha: HEAD, author: 'mallory' },
      ],
    });
    harness.github.permissions.set('mallory', 'maintain');
    await comment('mallory', '/qf approve');
    await expectRefused('mallory', '/qf approve', `@mallory authored commit ${HEAD.slice(0, 7)} of this pull request; commit authors may not approve`);
  });

  it('a non-collaborator', async () => {
    seedScenario();
    await comment('stranger', '/qf approve');
    await expectRefused('stranger', '/qf approve', `@stranger is not a collaborator of ${OWNER}/${REPO}`);
  });

  it('a collaborator below min_permission', async () => {
    seedScenario();
    harness.github.permissions.set('writer', 'write');
    await comment('writer', '/qf approve lgtm');
    await expectRefused('writer', '/qf approve lgtm', '@writer has permission `write` < `maintain` (approval.approvers.min_permission)');
  });

  it('a bot account', async () => {
    seedScenario();
    harness.github.permissions.set('dependabot[bot]', 'admin');
    await comment('dependabot[bot]', '/qf approve', 'Bot');
    await expectRefused('dependabot[bot]', '/qf approve', '@dependabot[bot] is a bot account; comments by bots never give commands');
  });

  it('an approval for an old head SHA (the button of a check run on a previous commit)', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    await deliver(
      bot,
      'check_run',
      buttonPayload({ number: NUMBER, login: 'hubot', identifier: 'qf-approve', checkRun: { id: 4242, head_sha: OLD_HEAD, external_id: PLAN } }),
    );
    await expectRefused(
      'hubot',
      '/qf approve (the Approve button of check run 4242)',
      `the button is on an old head SHA ${OLD_HEAD.slice(0, 7)}; the head is now ${HEAD.slice(0, 7)}`,
    );
  });

  it('an approval for an old plan hash', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    await deliver(
      bot,
      'check_run',
      buttonPayload({ number: NUMBER, login: 'hubot', identifier: 'qf-approve', checkRun: { id: 4243, head_sha: HEAD, external_id: OLD_PLAN } }),
    );
    await expectRefused(
      'hubot',
      '/qf approve (the Approve button of check run 4243)',
      `the plan changed: the button is for plan ${OLD_PLAN.slice(0, 12)}, the plan waiting now is ${PLAN.slice(0, 12)}`,
    );
  });

  it('an edited comment that adds /qf approve', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    const payload = editedCommentPayload({ number: NUMBER, from: 'looks fine', body: 'looks fine\n/qf approve', login: 'hubot' });
    harness.github.comments.push({
      id: payload.comment.id,
      issue_number: NUMBER,
      body: payload.comment.body,
      user: { login: 'hubot', type: 'User' },
      performed_via_github_app: null,
      html_url: payload.comment.html_url,
    });
    expect((await deliver(bot, 'issue_comment', payload)).status).toBe(200);
    await expectRefused('hubot', '/qf approve', 'edited comments never act; post the command in a new comment');
  });

  it('a pull request that weakens the approval rules in its own policy', async () => {
    const weakened = BASE_POLICY.replace('count: 1', 'count: 1\n  allow_author: true\n  approvers: { min_permission: read }');
    seedScenario({ author: 'codertocat', headPolicy: weakened });
    harness.github.permissions.set('codertocat', 'write');
    await comment('codertocat', '/qf approve');
    await expectRefused('codertocat', '/qf approve', '@codertocat is the author of this pull request');
    const reads = harness.github.requests.filter(
      (request) => request.path.endsWith('/contents/.github%2Fqualityfoundry.yml') || request.path.endsWith('/contents/.github/qualityfoundry.yml'),
    );
    expect(reads.map((request) => request.query.ref)).toContain(BASE);
    harness.github.permissions.set('reader', 'read');
    await comment('reader', '/qf approve');
    await expectRefused('reader', '/qf approve', '@reader has permission `read` < `maintain`');
  });

  it('a forged webhook signature: 400, nothing done, the refusal audited', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    const before = harness.github.requests.length;
    const forged = await deliver(bot, 'issue_comment', commentPayload({ number: NUMBER, body: '/qf approve', login: 'hubot' }), {
      id: 'forged-1',
      secret: 'not-the-secret',
    });
    expect(forged.status).toBe(400);
    const unsigned = await deliver(bot, 'issue_comment', commentPayload({ number: NUMBER, body: '/qf approve', login: 'hubot' }), {
      id: 'forged-2',
      signature: `sha256=${'0'.repeat(64)}`,
    });
    expect(unsigned.status).toBe(400);
    expect(harness.github.requests.length).toBe(before);
    await bot.settled();
    expect(await bot.store.markDeliveryProcessed('forged-1', 'probe', '2025-01-01T00:00:00.000Z')).toBe(true);
    const refused = await bot.store.listAudit({ chain: 'bot:webhooks', action: 'bot.delivery.refused' });
    expect(refused.map((event) => [event.subject, (event.data as { status: number }).status])).toEqual([
      ['forged-1', 400],
      ['forged-2', 400],
    ]);
  });

  it('a replayed delivery changes nothing the second time', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    const payload = commentPayload({ number: NUMBER, body: '/qf approve', login: 'hubot' });
    harness.github.comments.push({
      id: payload.comment.id,
      issue_number: NUMBER,
      body: '/qf approve',
      user: { login: 'hubot', type: 'User' },
      performed_via_github_app: null,
      html_url: payload.comment.html_url,
    });
    expect((await deliver(bot, 'issue_comment', payload, { id: 'delivery-1' })).status).toBe(200);
    const requests = harness.github.requests.length;
    expect((await deliver(bot, 'issue_comment', payload, { id: 'delivery-1' })).status).toBe(200);
    expect(harness.github.requests.length).toBe(requests);
    expect(harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval')).toHaveLength(1);
    expect(harness.github.reruns).toEqual([RUN]);
    expect((await bot.store.listPrReviews(`${OWNER}/${REPO}`, NUMBER)).map((review) => review.by)).toEqual(['hubot']);
    expect((await bot.store.listAudit({ chain: 'bot:webhooks', action: 'bot.delivery.replayed' })).map((event) => event.subject)).toEqual(['delivery-1']);
  });

  it('a new push: the approval for the old head is marked stale in the status comment', async () => {
    seedScenario();
    harness.github.permissions.set('hubot', 'maintain');
    await comment('hubot', '/qf approve');
    const status = harness.github.comments.find((c) => c.body.startsWith('<!-- qualityfoundry:status -->'))!;
    expect(status.body).toContain('**Approvals: 1 of 1**');
    const pushed = '4'.repeat(40);
    harness.github.pulls[0]!.head.sha = pushed;
    const commentsBefore = harness.github.comments.length;
    await deliver(bot, 'pull_request', synchronizePayload({ number: NUMBER, before: HEAD, after: pushed, baseSha: BASE }));
    expect(status.body).toContain(`approval by @hubot was for ${HEAD.slice(0, 7)}; the head is now ${pushed.slice(0, 7)}`);
    expect(status.body).toContain(`No plan is waiting for approval on the head \`${pushed.slice(0, 7)}\``);
    expect(harness.github.comments.length).toBe(commentsBefore);
  });
});

it('the webhook secret is the real one: a delivery signed with Probot\'s default "development" is refused', async () => {
  resetHarness(harness);
  const bot = await startTestBot(harness.github, privateKey, { dbPath: join(dir, 'dev.db') });
  try {
    expect(WEBHOOK_SECRET).not.toBe('development');
    expect((await deliver(bot, 'issue_comment', commentPayload({ number: NUMBER, body: '/qf approve', login: 'x' }), { secret: 'development' })).status).toBe(
      400,
    );
  } finally {
    await bot.close();
  }
});
