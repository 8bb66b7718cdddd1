import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../../bot/api/api-tokens.js';
import type { RunningBot } from '../../../bot/server/start-bot.js';
import { run } from '../../../src/action/run.js';
import { ComplianceAuditor, projectChain } from '../../../src/governance/index.js';
import {
  FAST_TUNING,
  type Harness,
  OWNER,
  prepareRun,
  pullRequestPayload,
  REPO,
  seedPullRequest,
  startHarness,
  withRunnerEnv,
} from '../../support/action-harness.js';
import { APP_ID, deliver, makeTestApp, startTestBot, workflowRunPayload } from '../../support/bot-harness.js';
import { launchChromium } from '../../support/chromium.js';
import { denyNetwork } from '../../support/deny-network.js';
import { createFixtureRepo, type FixtureRepo } from '../../support/python-project.js';
import { rawSql } from '../../support/store-raw-sql.js';

const PROJECT = `${OWNER}/${REPO}`;
const TOKEN = 'qf-dashboard-test-token-6b1d0c';
const WRITE_ONLY_TOKEN = 'qf-dashboard-run-only-token-93aa';
const SCREENSHOTS = new URL('../../../test-artifacts/dashboard/', import.meta.url);

/**
 * A pull request whose tests attack the page: a test id and a failure message carrying markup, a test
 * that fails only while FLAKE exists (two runs of one head SHA disagree), and a slow one.
 */
const HOSTILE_CHANGE = {
  'tests/test_hostile.py': [
    'import os',
    'import time',
    'import pytest',
    '',
    '',
    '@pytest.mark.parametrize("name", ["<script>window.__pwned=1</script>"])',
    'def test_hostile(name):',
    '    assert name == "", "<img src=x onerror=\\"window.__pwned=2\\">"',
    '',
    '',
    'def test_flaky():',
    '    assert not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "FLAKE"))',
    '',
    '',
    'def test_slow():',
    '    time.sleep(0.3)',
    '',
  ].join('\n'),
};

let harness: Harness;
let repo: FixtureRepo;
let bot: RunningBot;
let browser: Browser;
let privateKey: string;
let tokensFile: string;
const dir = mkdtempSync(join(tmpdir(), 'qf-dashboard-'));

const PUBLIC = 'https://qf.example.test';

async function actionRun(runId: number): Promise<Buffer> {
  seedPullRequest(harness.github, repo);
  const prepared = await prepareRun(harness, {
    eventName: 'pull_request',
    payload: await pullRequestPayload(repo),
    workspace: repo.dir,
    runId,
    inputs: { 'api-url': `${PUBLIC}/` },
  });
  await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  const artifact = harness.artifacts.artifacts.find((candidate) => candidate.runId === runId && candidate.finalized);
  if (!artifact?.blob) throw new Error(`the Action uploaded no evidence in run ${runId}`);
  return artifact.blob;
}

beforeAll(async () => {
  denyNetwork();
  // Launched first: without Chromium the file fails at once, before minutes of Action runs.
  browser = await launchChromium();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  repo = await createFixtureRepo(HOSTILE_CHANGE);
  const first = await actionRun(101);
  await writeFile(join(repo.dir, 'FLAKE'), 'x');
  const second = await actionRun(102);
  await rm(join(repo.dir, 'FLAKE'));
  const tokens = (tokensFile = join(dir, 'tokens.jsonl'));
  writeFileSync(
    tokens,
    [
      JSON.stringify({ name: 'dashboard-reader', sha256: hashApiToken(TOKEN), scopes: ['read'] }),
      JSON.stringify({ name: 'runner', sha256: hashApiToken(WRITE_ONLY_TOKEN), scopes: ['run'] }),
    ].join('\n'),
  );
  // The bot downloads the very artifacts the Action uploaded in runs 101 and 102.
  expect([first.length, second.length].every((size) => size > 0)).toBe(true);
  harness.github.workflowRuns.push({ id: 101, head_sha: repo.headSha, check_suite_id: 1101 }, { id: 102, head_sha: repo.headSha, check_suite_id: 1102 });
  bot = await startTestBot(harness.github, made.privateKey, { dbPath: join(dir, 'bot.db') }, { QF_API_TOKENS_FILE: tokens });
  // Ingested the way GitHub hands them over: two workflow_run.completed deliveries.
  expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 101, headSha: repo.headSha }))).status).toBe(200);
  expect((await deliver(bot, 'workflow_run', workflowRunPayload({ id: 102, headSha: repo.headSha }))).status).toBe(200);
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await bot?.close();
  await harness?.close();
  if (repo) await rm(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

interface Watched {
  page: Page;
  errors: string[];
}

async function newPage(): Promise<Watched> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  return { page, errors };
}

async function logIn(page: Page, token = TOKEN): Promise<void> {
  await page.goto(`${bot.url}/dashboard/login`);
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

/** Rows of a table as arrays of cell texts. */
const rows = (page: Page, selector: string): Promise<string[][]> =>
  page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));

/** How many pixels each canvas has drawn (alpha > 0). */
const drawnPixels = (page: Page): Promise<Record<string, number>> =>
  page.$$eval('canvas', (canvases) =>
    Object.fromEntries(
      canvases.map((canvas) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) drawn += 1;
        return [canvas.id, drawn];
      }),
    ),
  );

const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname as `${string}.png`, fullPage: true });

describe('the dashboard in a real Chromium', () => {
  it('pages without a session redirect to the login form; a bad token, or one without the read scope, is refused', async () => {
    const { page, errors } = await newPage();
    const response = await page.goto(`${bot.url}/dashboard/${PROJECT}/tests`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/dashboard/${PROJECT}/tests`);
    expect(response?.status()).toBe(200);
    await shot(page, 'login');

    await page.type('#token', 'not-a-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.$eval('#login-error', (el) => el.textContent)).toBe('That token is not valid.');
    await page.type('#token', WRITE_ONLY_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.$eval('#login-error', (el) => el.textContent)).toBe('the token "runner" lacks the scope "read"');
    expect(await page.cookies()).toEqual([]);

    // Without a browser too: 303 to the login, never the page.
    for (const path of ['/dashboard/', `/dashboard/${PROJECT}`, `/dashboard/${PROJECT}/runs/101.1`, `/dashboard/${PROJECT}/tests/history?id=x`]) {
      const answer = await fetch(`${bot.url}${path}`, { redirect: 'manual' });
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe(`/dashboard/login?next=${encodeURIComponent(path)}`);
    }
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  });

  it('logs in with an API token: an HttpOnly, SameSite=Strict session cookie (not Secure over plain http), then the overview', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${bot.url}/dashboard/${PROJECT}`);
    await page.type('#token', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe(`/dashboard/${PROJECT}`);
    const cookies = await page.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'qf_dashboard', httpOnly: true, sameSite: 'Strict', secure: false, path: '/dashboard' });
    expect(cookies[0]!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(await page.$eval('#total-runs', (el) => el.textContent)).toBe('2');
    expect(await page.$eval('#pass-rate', (el) => el.textContent)).toBe('0.0 %');
    expect(await page.$eval('#open-escalations', (el) => el.textContent)).toBe('1');
    // The background verifier's result, not one made for this view. Its first round ran at start, before
    // the deliveries made the project's chain; the next round (every QF_CHAIN_VERIFY_MINUTES) verifies it.
    await bot.chainVerifier.first;
    await page.reload();
    expect(await page.$eval('#audit-status', (el) => el.textContent)).toBe('verification pending');
    await bot.chainVerifier.runNow();
    await page.reload();
    expect(await page.$eval('#audit-status', (el) => el.textContent)).toMatch(
      /^verified \d+ events through #\d+ at \d{4}-\d\d-\d\dT[\d:.]+Z \(took [\d.]+ m?s\): intact$/,
    );
    const day = new Date().toISOString().slice(0, 10);
    expect(await page.$$eval('#verdicts-table thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['Day', 'fail']);
    expect(await rows(page, '#verdicts-table')).toEqual([[day, '2']]);
    const runs = await rows(page, '#runs-table');
    expect(runs.map((r) => [r[0], r[3]])).toEqual([
      [`gh:${PROJECT}:102.1`, 'fail'],
      [`gh:${PROJECT}:101.1`, 'fail'],
    ]);
    expect((await rows(page, '#escalations-table'))[0]).toEqual([expect.any(String), 'open', expect.any(String), expect.stringContaining('step:unit')]);
    const pixels = await drawnPixels(page);
    expect(Object.keys(pixels).sort()).toEqual(['duration-chart', 'verdicts-chart']);
    for (const [id, drawn] of Object.entries(pixels)) expect(drawn, id).toBeGreaterThan(500);
    await shot(page, 'overview');
    expect(errors).toEqual([]);
  });

  it('the run page: verdict, rules observed vs expected, failed tests linked to the code at the head SHA, steps, conflicts, audit trail', async () => {
    const { page, errors } = await newPage();
    await logIn(page);
    const response = await page.goto(`${bot.url}/dashboard/${PROJECT}/runs/102.1`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.$eval('#verdict', (el) => el.textContent)).toBe('fail');
    expect(await page.$eval('#head-sha', (el) => el.textContent)).toBe(repo.headSha);
    expect(await rows(page, '#rules-table')).toEqual([['tests-pass', 'pytest.failed', '== 0', '2', 'fail', expect.stringContaining('2')]]);
    const failed = await rows(page, '#failed-tests');
    expect(failed.map((r) => r[0]).sort()).toEqual([
      'tests/test_hostile.py::test_flaky',
      'tests/test_hostile.py::test_hostile[<script>window.__pwned=1</script>]',
    ]);
    const links = await page.$$eval('#failed-tests a', (as) => as.map((a) => a.getAttribute('href')));
    expect(links.sort()).toEqual([
      `https://github.com/${PROJECT}/blob/${repo.headSha}/tests/test_hostile.py#L12`,
      `https://github.com/${PROJECT}/blob/${repo.headSha}/tests/test_hostile.py#L8`,
    ]);
    expect(await rows(page, '#steps-table')).toEqual([['unit', 'run_pytest', 'failed', '1', expect.stringMatching(/s$/)]]);
    expect((await rows(page, '#conflicts-table'))[0]).toEqual([expect.any(String), 'duplicate_producer', 'open', expect.stringContaining('step:unit')]);
    const runTrail = await rows(page, '#run-trail');
    expect(runTrail.length).toBeGreaterThan(3);
    expect(runTrail[0]![0]).toBe('1');
    expect((await rows(page, '#bot-trail')).map((r) => r[3])).toContain('bot.evidence.ingested');
    expect((await drawnPixels(page))['steps-chart']).toBeGreaterThan(100);
    await shot(page, 'run');
    expect(errors).toEqual([]);
  });

  it('an attack: a test id and a message carrying markup render as text and run no script', async () => {
    const { page, errors } = await newPage();
    await logIn(page);
    for (const path of [`/dashboard/${PROJECT}/runs/102.1`, `/dashboard/${PROJECT}/tests`]) {
      await page.goto(`${bot.url}${path}`);
      expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
      // The markup is text in the cell, not an element.
      expect(await page.$$eval('main script:not([type="application/json"]), main img', (els) => els.length)).toBe(0);
      expect(await page.$eval('body', (el) => el.textContent)).toContain('<script>window.__pwned=1</script>');
    }
    await page.goto(`${bot.url}/dashboard/${PROJECT}/runs/102.1`);
    expect(await page.$eval('#failed-tests', (el) => el.textContent)).toContain('<img src=x onerror="window.__pwned=2">');
    const source = await (await fetch(`${bot.url}/dashboard/${PROJECT}/runs/102.1`, { headers: { cookie: await cookieHeader(page) } })).text();
    expect(source).toContain('test_hostile[&lt;script&gt;window.__pwned=1&lt;/script&gt;]');
    expect(source).not.toContain('<script>window.__pwned');
    expect(errors).toEqual([]);
  });

  it('the tests page: flakiest (same head SHA disagrees, flips), slowest, most often failing, each with its history', async () => {
    const { page, errors } = await newPage();
    await logIn(page);
    await page.goto(`${bot.url}/dashboard/${PROJECT}/tests`);
    const flaky = await rows(page, '#flaky-table');
    expect(flaky.map((r) => r.slice(0, 4))).toEqual([['tests/test_hostile.py::test_flaky tests/test_hostile.py:12', '1', '1', '2']]);
    expect(flaky[0]![4]).toBe('✓✗');
    const failing = await rows(page, '#failing-table');
    expect(failing.map((r) => [r[0]!.split(' ')[0], r[1], r[2], r[3]])).toEqual([
      ['tests/test_hostile.py::test_hostile[<script>window.__pwned=1</script>]', '2', '2', '✗✗'],
      ['tests/test_hostile.py::test_flaky', '1', '2', '✓✗'],
    ]);
    const slowest = await rows(page, '#slowest-table');
    expect(slowest[0]![0]).toMatch(/^tests\/test_hostile\.py::test_slow /);
    expect(slowest.map((r) => r[0]!.split(' ')[0])).toEqual(expect.arrayContaining(['tests/test_calc.py::test_add', 'tests/test_calc.py::test_add_negative']));
    expect((await drawnPixels(page))['slowest-chart']).toBeGreaterThan(100);
    await shot(page, 'tests');

    await Promise.all([page.waitForNavigation(), page.click('#flaky-table a.test-id')]);
    expect(new URL(page.url()).searchParams.get('id')).toBe('tests/test_hostile.py::test_flaky');
    const history = await rows(page, '#history-table');
    expect(history.map((r) => [r[0], r[3]])).toEqual([
      [`gh:${PROJECT}:102.1`, 'failed'],
      [`gh:${PROJECT}:101.1`, 'passed'],
    ]);
    expect((await drawnPixels(page))['history-chart']).toBeGreaterThan(100);
    await shot(page, 'test-history');
    expect(errors).toEqual([]);
  });

  it('the audit chain: views show the latest background verification and run none; an old row edited shows loudly after the next append', async () => {
    const { page, errors } = await newPage();
    await logIn(page);
    await bot.chainVerifier.runNow();
    const before = bot.chainVerifier.verifications;
    const status = async (): Promise<string | null> => page.$eval('#audit-status', (el) => el.textContent);
    await page.goto(`${bot.url}/dashboard/${PROJECT}`);
    const shown = await status();
    const [, count, through] = /^verified (\d+) events through #(\d+) at /.exec(shown ?? '') ?? [];
    const head = (await bot.store.listAuditHeads()).find((h) => h.chain === projectChain(PROJECT))!;
    expect([Number(count), Number(through)]).toEqual([head.seq, head.seq]);
    for (let view = 0; view < 3; view++) {
      await page.reload();
      expect(await status()).toBe(shown);
    }
    expect(bot.chainVerifier.verifications).toBe(before);

    // Someone with access to the database rewrites the first event; then the bot appends as it does on any delivery.
    await rawSql({ dbPath: join(dir, 'bot.db') }, `UPDATE audit_events SET actor = 'mallory' WHERE chain = ? AND seq = 1`, [projectChain(PROJECT)]);
    await new ComplianceAuditor(bot.store, { chain: projectChain(PROJECT), projectId: PROJECT }).append({
      actor: 'qualityfoundry-bot',
      action: 'bot.test.appended',
      subject: PROJECT,
    });
    await bot.chainVerifier.runNow();
    expect(bot.chainVerifier.verifications).toBe(before + 1);
    await page.reload();
    expect(await status()).toMatch(new RegExp(`^BROKEN at #1: .+; verified 0 events through #${head.seq + 1} at `));
    expect(await page.$eval('#audit-alert', (el) => el.textContent)).toMatch(/^The audit chain is BROKEN at #1: /);
    expect(await page.$eval('#audit-status', (el) => el.className)).toBe('bad');
    await shot(page, 'overview-broken-chain');
    expect(errors).toEqual([]);
  });

  it('logout is a POST with the CSRF token; a cross-site POST is refused and changes nothing', async () => {
    const { page, errors } = await newPage();
    await logIn(page);
    const cookie = await cookieHeader(page);
    // A forged logout from another site: refused, the session lives.
    const forged = await fetch(`${bot.url}/dashboard/logout`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=x',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    // Same origin but without the session's CSRF token: refused too.
    const stale = await fetch(`${bot.url}/dashboard/logout`, {
      method: 'POST',
      headers: { cookie, origin: bot.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=wrong',
      redirect: 'manual',
    });
    expect(stale.status).toBe(403);
    // A GET never logs out.
    expect((await fetch(`${bot.url}/dashboard/logout`, { headers: { cookie }, redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${bot.url}/dashboard/${PROJECT}`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);

    await page.goto(`${bot.url}/dashboard/`);
    expect(await rows(page, '#projects-table')).toEqual([[PROJECT]]);
    await Promise.all([page.waitForNavigation(), page.click('form.logout button')]);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    expect(await page.cookies()).toEqual([]);
    expect((await fetch(`${bot.url}/dashboard/${PROJECT}`, { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
    expect(errors).toEqual([]);
  });
});

describe('with QF_PUBLIC_URL (https)', () => {
  let linked: RunningBot;
  beforeAll(async () => {
    linked = await startTestBot(
      harness.github,
      privateKey,
      { dbPath: join(dir, 'linked.db') },
      { QF_API_TOKENS_FILE: tokensFile, QF_PUBLIC_URL: PUBLIC, QF_CHAIN_VERIFY_MINUTES: '0.002' },
    );
  });
  afterAll(async () => {
    await linked?.close();
  });

  it('the status comment links each run of the head to its dashboard page, and the session cookie is Secure', async () => {
    await deliver(linked, 'workflow_run', workflowRunPayload({ id: 101, headSha: repo.headSha }));
    await deliver(linked, 'workflow_run', workflowRunPayload({ id: 102, headSha: repo.headSha }));
    const status = harness.github.comments.find((c) => c.performed_via_github_app?.id === APP_ID && c.body.startsWith('<!-- qualityfoundry:status -->'));
    expect(status?.body).toContain(
      `**Dashboard**: [run 101.1 (fail)](${PUBLIC}/dashboard/${PROJECT}/runs/101.1) · [run 102.1 (fail)](${PUBLIC}/dashboard/${PROJECT}/runs/102.1)`,
    );
    // The Action's check-run summary (input api-url) links to the same page.
    const gate = harness.github.checkRuns.find((r) => r.name === 'qualityfoundry/gate' && r.output?.summary?.includes('runs/102.1'));
    expect(gate?.output?.summary).toContain(`Dashboard: [this run on the bot's dashboard](${PUBLIC}/dashboard/${PROJECT}/runs/102.1)`);

    const login = await fetch(`${linked.url}/dashboard/login`, {
      method: 'POST',
      headers: { origin: linked.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN, next: `/dashboard/${PROJECT}/runs/102.1` }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(`/dashboard/${PROJECT}/runs/102.1`);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^qf_dashboard=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/dashboard; HttpOnly; Secure; SameSite=Strict$/);
    // The linked page is there for the session (the path after the public URL).
    const page = await fetch(`${linked.url}/dashboard/${PROJECT}/runs/102.1`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    // An open redirect through `next` is not possible.
    const away = await fetch(`${linked.url}/dashboard/login`, {
      method: 'POST',
      headers: { origin: linked.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN, next: '//evil.example/x' }).toString(),
      redirect: 'manual',
    });
    expect(away.headers.get('location')).toBe('/dashboard/');
    // Behind a proxy ending TLS the browser sends the public URL's origin: accepted; any other is not.
    const proxied = (origin: string) =>
      fetch(`${linked.url}/dashboard/login`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: TOKEN }).toString(),
        redirect: 'manual',
      });
    expect((await proxied(PUBLIC)).status).toBe(303);
    expect((await proxied('https://qf.example.test.evil.example')).status).toBe(403);
  });

  it('verifies the chain on its timer (QF_CHAIN_VERIFY_MINUTES) once events were appended, without being asked', async () => {
    const chain = projectChain(PROJECT);
    const head = (await linked.store.listAuditHeads()).find((h) => h.chain === chain)!;
    // Polled, not timed: the assertion is that it happens; the test's timeout bounds the wait.
    while (linked.chainVerifier.latest(chain)?.throughSeq !== head.seq) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(linked.chainVerifier.latest(chain)).toMatchObject({ ok: true, count: head.seq, throughSeq: head.seq });
  });
});

async function cookieHeader(page: Page): Promise<string> {
  return (await page.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}
