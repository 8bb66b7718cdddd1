import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { openStore, type StoreConnection } from '../../src/store/index.js';
import { type Harness, resetHarness, startHarness } from '../support/action-harness.js';
import { APP_ID, commentPayload, deliver, makeTestApp, startTestBot } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import type { FakeHookDelivery } from '../support/fake-github-app-routes.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const NUMBER = 4;
let harness: Harness;
let privateKey: string;
let postgres: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'qf-bot-reconcile-'));

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let nextId = 90_000;
const ago = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();
function attempt(guid: string, statusCode: number, minutesAgo: number, over: Partial<FakeHookDelivery> = {}): FakeHookDelivery {
  return {
    id: nextId++,
    guid,
    delivered_at: ago(minutesAgo),
    redelivery: false,
    duration: 0.2,
    status: statusCode === 200 ? 'OK' : statusCode === 0 ? 'timed out' : 'Internal Server Error',
    status_code: statusCode,
    event: 'issue_comment',
    action: 'created',
    installation_id: 777,
    repository_id: 1296269,
    ...over,
  };
}

let n = 0;
const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `bot-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('reconciling missed webhook deliveries (%s)', (_name, connect) => {
  let bot: RunningBot | undefined;
  beforeEach(() => resetHarness(harness));
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });

  it('on start: lists the failed deliveries, asks GitHub to redeliver the unrecorded ones, bounded; the next round skips what arrived', async () => {
    const { github } = harness;
    const connection = await connect();
    // Recorded before the bot was down: its failed attempt is not asked for again.
    const store = await openStore(connection);
    await store.markDeliveryProcessed('guid-recorded', 'issue_comment.created', ago(30));
    await store.close();

    const missedComment = commentPayload({ number: NUMBER, body: '/qf help', login: 'octocat' });
    const missed = attempt('guid-missed', 0, 20); // the bot was down: GitHub timed out
    const missedEarlier = attempt('guid-missed', 502, 25);
    github.hookDeliveries.push(
      missedEarlier,
      missed,
      attempt('guid-retried-ok', 500, 15),
      attempt('guid-retried-ok', 200, 14, { redelivery: true }),
      attempt('guid-recorded', 503, 30),
      ...[1, 2, 3].map((i) => attempt('guid-hopeless', 500, 40 + i)),
      attempt('guid-too-old', 500, 3 * 24 * 60),
      // Enough successful traffic to need a second page.
      ...Array.from({ length: 120 }, (_, i) => attempt(`guid-ok-${i}`, 200, 10)),
    );
    // The fake "redelivers" like GitHub: the same payload and GUID, signed, to the bot's webhooks path.
    const redeliveries: Array<Promise<unknown>> = [];
    github.onRedeliver = async (delivery) => {
      expect(delivery.guid).toBe('guid-missed');
      redeliveries.push(deliver(bot!, 'issue_comment', missedComment, { id: delivery.guid }));
    };
    github.comments.push({
      id: missedComment.comment.id,
      issue_number: NUMBER,
      body: '/qf help',
      user: { login: 'octocat', type: 'User' },
      performed_via_github_app: null,
      html_url: missedComment.comment.html_url,
    });

    bot = await startTestBot(github, privateKey, connection, { QF_RECONCILE_MINUTES: '5' });
    const first = await bot.reconciled!;
    expect(first.errors).toEqual([]);
    expect(first.redelivered).toEqual([{ guid: 'guid-missed', id: missed.id, event: 'issue_comment.created' }]);
    expect(first.skipped).toEqual(
      expect.arrayContaining([
        { guid: 'guid-recorded', reason: 'recorded' },
        { guid: 'guid-hopeless', reason: 'attempts' },
      ]),
    );
    expect(first.skipped).toHaveLength(2);
    const appCalls = github.requests.filter((r) => r.path.startsWith('/app/hook'));
    expect(appCalls.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`)).toEqual([
      'GET /app/hook/deliveries {"per_page":"100"}',
      `GET /app/hook/deliveries {"per_page":"100","cursor":"${appCalls[1]?.query.cursor}"}`,
      `POST /app/hook/deliveries/${missed.id}/attempts {}`,
    ]);
    expect(github.redeliveryRequests).toEqual([missed.id]);

    // The redelivered comment was processed: answered once, recorded under its GUID.
    expect(redeliveries).toHaveLength(1);
    expect(await Promise.all(redeliveries)).toMatchObject([{ status: 200 }]);
    const answers = github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.body).toContain('/qf approve');
    expect(await bot.store.hasDelivery('guid-missed')).toBe(true);
    const audited = await bot.store.listAudit({ chain: 'bot:webhooks', action: 'bot.delivery.redelivery_requested' });
    expect(audited.map((e) => [e.subject, e.data.deliveryId, e.data.statusCode, e.data.attempts])).toEqual([['guid-missed', missed.id, 0, 2]]);

    // The next round finds it recorded and asks for nothing.
    const second = await bot.reconcile();
    expect(second.redelivered).toEqual([]);
    expect(second.skipped).toEqual(expect.arrayContaining([{ guid: 'guid-missed', reason: 'recorded' }]));
    expect(github.redeliveryRequests).toEqual([missed.id]);
  });

  it('bounded per round; a refused listing is logged and reported, not thrown', async () => {
    const { github } = harness;
    github.hookDeliveries.push(...Array.from({ length: 30 }, (_, i) => attempt(`guid-down-${i}`, 0, 5 + i)));
    github.onRedeliver = async () => undefined;
    bot = await startTestBot(github, privateKey, await connect(), { QF_RECONCILE_MINUTES: '5' });
    const first = await bot.reconciled!;
    expect(first.redelivered).toHaveLength(25);
    expect(first.skipped.filter((s) => s.reason === 'limit')).toHaveLength(5);
    const second = await bot.reconcile();
    // The 25 asked for are claimed (a redelivery that fails again is for GitHub's log); the 5 left get their turn.
    expect(second.redelivered.map((r) => r.guid).sort()).toEqual(first.skipped.map((s) => s.guid).sort());
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/app/hook/'))).toHaveLength(30);

    github.faults.push({ method: 'GET', path: /^\/app\/hook\/deliveries$/, status: 500, times: 1 });
    const failed = await bot.reconcile();
    expect(failed.errors).toEqual([expect.stringContaining('listing deliveries:')]);
  });

  it('off with QF_RECONCILE_MINUTES=0', async () => {
    bot = await startTestBot(harness.github, privateKey, await connect(), { QF_RECONCILE_MINUTES: '0' });
    expect(bot.reconciled).toBeNull();
    expect(harness.github.requests.filter((r) => r.path.startsWith('/app/hook'))).toEqual([]);
  });
});
