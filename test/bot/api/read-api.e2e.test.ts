import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../../bot/api/index.js';
import type { RunningBot } from '../../../bot/server/start-bot.js';
import { runChain } from '../../../src/governance/index.js';
import type { StorageBackend, StoreConnection } from '../../../src/store/index.js';
import { type Harness, OWNER, REPO, resetHarness, startHarness } from '../../support/action-harness.js';
import { APP_ID, commentPayload, deliver, makeTestApp, startTestBot } from '../../support/bot-harness.js';
import { BASE_POLICY } from '../../support/python-project.js';
import { denyNetwork } from '../../support/deny-network.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';

const PROJECT = `${OWNER}/${REPO}`;
const READER = 'qf_api_reader_5b1f0e';
const RUNNER = 'qf_api_runner_9c2d7a';
const dir = mkdtempSync(join(tmpdir(), 'qf-read-api-'));
const tokensFile = join(dir, 'tokens.jsonl');
let harness: Harness;
let privateKey: string;
let postgres: TestPostgres;

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  postgres = await startPostgres();
  writeFileSync(
    tokensFile,
    [
      JSON.stringify({ name: 'reader', sha256: hashApiToken(READER), scopes: ['read'] }),
      JSON.stringify({ name: 'runner-only', sha256: hashApiToken(RUNNER), scopes: ['run'] }),
    ].join('\n'),
  );
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const day = (n: number): string => new Date(Date.UTC(2026, 0, 1 + n, 12)).toISOString();

/** Five runs a day apart, artifacts, a conflict, approvals, a checkpoint and audit events, all with known times. */
async function seed(store: StorageBackend): Promise<void> {
  await store.upsertProject({ id: PROJECT, createdAt: day(0) });
  await store.upsertProject({ id: 'acme/other', createdAt: day(0) });
  for (let i = 1; i <= 5; i++) {
    const id = `gh:${PROJECT}:${100 + i}.1`;
    await store.upsertRun({
      id,
      projectId: PROJECT,
      startedAt: day(i),
      finishedAt: day(i),
      mode: 'strict',
      verdict: i % 2 ? 'pass' : 'fail',
      headSha: `${i}`.repeat(40),
      data: { iteration: i },
    });
    await store.insertArtifact({
      id: `a${i}`,
      projectId: PROJECT,
      runId: id,
      type: 'step:unit',
      producer: `workflow-run:${100 + i}.1`,
      iteration: i,
      dependsOn: [],
      digest: 'd'.repeat(64),
      ref: null,
      createdAt: day(i),
    });
    await store.appendAudit(runChain(id), PROJECT, [{ actor: 'qf', action: 'run.started', subject: id, at: day(i) }]);
  }
  await store.saveConflict({
    id: 'k1',
    projectId: PROJECT,
    runId: `gh:${PROJECT}:102.1`,
    kind: 'duplicate_producer',
    artifactIds: ['a1', 'a2'],
    message: 'two results',
    details: {},
    lowRisk: false,
    status: 'open',
    createdAt: day(2),
    escalatedAt: null,
    resolvedAt: null,
    resolutions: [],
  });
  for (const [by, n] of [
    ['alice', 1],
    ['bob', 3],
  ] as const)
    await store.recordApproval({ projectId: PROJECT, runId: null, planHash: 'p'.repeat(64), by, permission: 'maintain', at: day(n), source: 'bot' });
  await store.appendAudit(`project:${PROJECT}`, PROJECT, [
    { actor: 'alice', action: 'bot.approval.accepted', subject: `${PROJECT}#9`, at: day(1) },
    { actor: 'bob', action: 'bot.approval.accepted', subject: `${PROJECT}#9`, at: day(3) },
    { actor: 'bob', action: 'bot.hold.set', subject: `${PROJECT}#9`, at: day(4) },
  ]);
}

let n = 0;
const backends: Array<[string, () => Promise<StoreConnection>]> = [
  ['SQLite', async () => ({ dbPath: join(dir, `api-${++n}.db`) })],
  ['PostgreSQL', async () => ({ databaseUrl: await postgres.createDatabase() })],
];

describe.each(backends)('the read API under /api/v1 (%s)', (_name, connect) => {
  let bot: RunningBot;
  const get = (path: string, token: string | null = READER) =>
    fetch(path.startsWith('http') ? path : `${bot.url}/api/v1${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  const getJson = async (path: string): Promise<any> => (await get(path)).json();

  beforeEach(async () => {
    resetHarness(harness);
    // A clock that ticks 1 ms per reading: the audit of a reply comes strictly after the report it sent.
    let tick = Date.parse('2026-06-01T00:00:00.000Z');
    bot = await startTestBot(harness.github, privateKey, await connect(), { QF_API_TOKENS_FILE: tokensFile }, { clock: () => new Date(tick++) });
    await seed(bot.store);
  });
  afterEach(async () => {
    await bot.close();
  });

  it('401 without or with a bad token, 403 without the read scope, as JSON', async () => {
    const none = await get('/projects', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="qualityfoundry"');
    expect(await none.json()).toMatchObject({ status: 401, error: 'missing_token' });
    const bad = await get('/projects', 'qf_not_a_token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const runOnly = await get(`/projects/${PROJECT}/runs`, RUNNER);
    expect(runOnly.status).toBe(403);
    expect(await runOnly.json()).toEqual({ status: 403, error: 'insufficient_scope', message: 'the token "runner-only" lacks the scope "read"' });
    // Unknown routes answer only to a valid token, and then as JSON 404.
    expect((await get('/nothing-here', null)).status).toBe(401);
    const missing = await get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, error: 'not_found' });
    // The webhooks path and the health checks are untouched by the API's auth.
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });

  it('pages runs newest first with GitHub-style Link headers, keeping the filters', async () => {
    const seen: string[] = [];
    let url: string | null = `/projects/${PROJECT}/runs?per_page=2`;
    const links: string[] = [];
    while (url) {
      const response = await get(url);
      expect(response.status).toBe(200);
      const runs = (await response.json()) as Array<{ id: string; startedAt: string }>;
      seen.push(...runs.map((run) => run.id));
      const link = response.headers.get('link') ?? '';
      links.push(link);
      url = /<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1].map((i) => `gh:${PROJECT}:${100 + i}.1`));
    expect(links).toHaveLength(3);
    expect(links[0]).toMatch(
      new RegExp(
        `^<${bot.url}/api/v1/projects/${PROJECT}/runs\\?per_page=2&after=[\\w-]+>; rel="next", <${bot.url}/api/v1/projects/${PROJECT}/runs\\?per_page=2>; rel="first"$`,
      ),
    );
    expect(links[2]).not.toContain('rel="next"');

    const failed = await getJson(`/projects/${PROJECT}/runs?verdict=fail&per_page=1`);
    expect(failed.map((run: { id: string }) => run.id)).toEqual([`gh:${PROJECT}:104.1`]);
    const one = await get(`/projects/${PROJECT}/runs?verdict=fail&per_page=1`);
    const next = /<([^>]+)>; rel="next"/.exec(one.headers.get('link') ?? '')?.[1];
    expect(next).toContain('verdict=fail');
    expect((await getJson(next!)).map((run: { id: string }) => run.id)).toEqual([`gh:${PROJECT}:102.1`]);
    expect(await getJson(`/projects/${PROJECT}/runs?head_sha=${'3'.repeat(40)}`)).toMatchObject([{ id: `gh:${PROJECT}:103.1` }]);
  });

  it.each([
    ['/projects?per_page=0', 'per_page'],
    ['/projects?per_page=101', 'per_page'],
    ['/projects?per_page=ten', 'per_page'],
    ['/projects?after=bm90IGEgY3Vyc29y', 'after'],
    // A cursor of the projects' shape (one value) handed to the runs (two): not one this page made.
    [`/projects/${PROJECT}/runs?after=${Buffer.from('["acme"]').toString('base64url')}`, 'after'],
    [`/projects/${PROJECT}/conflicts?status=sleeping`, 'status'],
    [`/projects/${PROJECT}/approvals?since=2026-13-01`, 'since'],
    [`/projects/${PROJECT}/audit-events?until=yesterday`, 'until'],
    [`/projects/${PROJECT}/audit-events?since=2026-01-05&until=2026-01-02`, 'until'],
    [`/projects/${PROJECT}/runs?head_sha=zzz`, 'head_sha'],
    [`/projects/${PROJECT}/reports/compliance?format=pdf`, 'format'],
  ])('400 for %s names %s', async (path, parameter) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body).toMatchObject({ status: 400, error: 'bad_parameter', parameter });
    expect(body.message).toMatch(new RegExp(`^${parameter}: `));
  });

  it('404 as JSON for an unknown project or run', async () => {
    const project = await get('/projects/nobody/nothing/runs');
    expect(project.status).toBe(404);
    expect(await project.json()).toEqual({ status: 404, error: 'not_found', message: 'no project nobody/nothing in the record' });
    const run = await get(`/projects/${PROJECT}/runs/${encodeURIComponent('gh:acme/other:1.1')}`);
    expect(run.status).toBe(404);
  });

  it('projects, a run, its evidence, artifacts, conflicts, approvals, checkpoints', async () => {
    // By id, in the database's collation.
    const projects = await getJson('/projects');
    expect(projects).toHaveLength(2);
    expect(projects).toEqual(
      expect.arrayContaining([
        { id: PROJECT, createdAt: day(0) },
        { id: 'acme/other', createdAt: day(0) },
      ]),
    );
    const id = `gh:${PROJECT}:103.1`;
    expect(await getJson(`/projects/${PROJECT}/runs/${encodeURIComponent(id)}`)).toMatchObject({ id, verdict: 'pass', data: { iteration: 3 } });
    const evidence = await getJson(`/projects/${PROJECT}/runs/${encodeURIComponent(id)}/evidence`);
    expect(evidence).toMatchObject({
      run: { id },
      audit: [{ chain: runChain(id), seq: 1, action: 'run.started' }],
      chain: { chain: runChain(id), ok: true, count: 1 },
      artifacts: [{ id: 'a3', type: 'step:unit' }],
    });
    expect((await getJson(`/projects/${PROJECT}/artifacts?run_id=${encodeURIComponent(id)}`)).map((a: { id: string }) => a.id)).toEqual(['a3']);
    expect((await getJson(`/projects/${PROJECT}/artifacts`)).map((a: { id: string }) => a.id)).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    expect(await getJson(`/projects/${PROJECT}/conflicts?status=open`)).toMatchObject([{ id: 'k1', status: 'open', lowRisk: false }]);
    expect(await getJson(`/projects/${PROJECT}/conflicts?status=resolved`)).toEqual([]);
    expect((await getJson(`/projects/${PROJECT}/approvals`)).map((a: { by: string }) => a.by)).toEqual(['bob', 'alice']);
    expect((await getJson(`/projects/${PROJECT}/approvals?until=2026-01-02`)).map((a: { by: string }) => a.by)).toEqual(['alice']);
    expect(await getJson(`/projects/${PROJECT}/checkpoints`)).toEqual([]);
  });

  it('audit events: filters chain, action, actor, since/until', async () => {
    const chain = encodeURIComponent(`project:${PROJECT}`);
    const all = await getJson(`/projects/${PROJECT}/audit-events?chain=${chain}`);
    expect(all.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    const byBob = await getJson(`/projects/${PROJECT}/audit-events?chain=${chain}&actor=bob&action=bot.approval.accepted`);
    expect(byBob).toMatchObject([{ seq: 2, actor: 'bob', action: 'bot.approval.accepted' }]);
    const window = await getJson(`/projects/${PROJECT}/audit-events?action=run.started&since=2026-01-03&until=2026-01-04T23:00:00Z`);
    // Run i started on 2026-01-(1+i) at 12:00: since the 3rd, before the 4th at 23:00.
    expect(window.map((e: { chain: string }) => e.chain)).toEqual([runChain(`gh:${PROJECT}:102.1`), runChain(`gh:${PROJECT}:103.1`)]);
    // Across projects only through /audit-events; a project's view holds only its own chains.
    expect(await getJson(`/projects/acme/other/audit-events`)).toEqual([]);
    const paged = await get(`/audit-events?per_page=4`);
    expect(await paged.json()).toHaveLength(4);
    expect(paged.headers.get('link')).toContain('rel="next"');
  });

  it('the compliance report as json, md and csv', async () => {
    const base = `/projects/${PROJECT}/reports/compliance`;
    const json = await get(`${base}?format=json&since=2026-01-01&until=2026-01-03`);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const report = (await json.json()) as any;
    expect(report.compliance.approvals.map((a: { by: string }) => a.by)).toEqual(['alice']);
    const md = await get(`${base}?format=md`);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await md.text()).toContain(`# Compliance report: ${PROJECT}`);
    const csv = await get(`${base}?format=csv&pull=9`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect((await csv.text()).split('\r\n')[0]).toBe('section,at,who,subject,kind,detail,duration_seconds');
  });

  it('serves an OpenAPI description generated from the same schemas', async () => {
    const response = await fetch(`${bot.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    const runs = doc.paths['/api/v1/projects/{owner}/{repo}/runs'].get;
    expect(runs.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['query:per_page', 'query:after', 'query:verdict', 'query:head_sha', 'query:branch', 'path:owner', 'path:repo']),
    );
    expect(runs.parameters.find((p: { name: string }) => p.name === 'per_page').schema).toMatchObject({ maximum: 100, minimum: 1, default: 30 });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/projects/{owner}/{repo}/runs/{run_id}/evidence',
        '/api/v1/projects/{owner}/{repo}/artifacts',
        '/api/v1/projects/{owner}/{repo}/conflicts',
        '/api/v1/projects/{owner}/{repo}/approvals',
        '/api/v1/projects/{owner}/{repo}/checkpoints',
        '/api/v1/projects/{owner}/{repo}/audit-events',
        '/api/v1/audit-events',
        '/api/v1/projects/{owner}/{repo}/reports/compliance',
        '/api/v1/projects/{owner}/{repo}/timings',
      ]),
    );
    expect(doc.paths['/api/v1/openapi.json']).toBeUndefined();
    expect(doc.components.schemas.Run.properties.verdict).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('a report asked for by comment is the one the API serves (md inline; json and csv by their link)', async () => {
    const { github } = harness;
    const number = 9;
    const head = '9'.repeat(40);
    github.pulls.push({ number, head: { sha: head, ref: 'changes', owner: OWNER }, base: { sha: 'b'.repeat(40), ref: 'master' }, files: [] });
    github.contents.set(`${'b'.repeat(40)}:.github/qualityfoundry.yml`, BASE_POLICY);
    github.permissions.set('carol', 'write');
    const ask = async (body: string): Promise<string> => {
      const payload = commentPayload({ number, body, login: 'carol' });
      github.comments.push({
        id: payload.comment.id,
        issue_number: number,
        body,
        user: { login: 'carol', type: 'User' },
        performed_via_github_app: null,
        html_url: payload.comment.html_url,
      });
      expect((await deliver(bot, 'issue_comment', payload)).status).toBe(200);
      return github.comments.filter((c) => c.performed_via_github_app?.id === APP_ID && !c.body.startsWith('<!--')).at(-1)!.body;
    };
    const generated = (text: string): string => text.replace(/\(generated [^)]+\)/, '(generated …)');

    const md = await ask('/qf report md since:2026-01-02');
    const [, since, until] = /Period (\S+) to (\S+) \(generated/.exec(md) ?? [];
    const fromApi = await get(`/projects/${PROJECT}/reports/compliance?format=md&pull=${number}&since=${since}&until=${until}`);
    expect(fromApi.status, await fromApi.clone().text()).toBe(200);
    const apiMd = (await fromApi.text()).trimEnd();
    // Chain verification covers whole chains as they stand when the report is made: by the time the
    // API is asked, the chain holds one more event, the audit of the reply itself (bot.report.sent).
    const verified = (text: string): number => Number(/audit chains verify \((\d+) events\)/.exec(text)?.[1]);
    expect(verified(apiMd)).toBe(verified(md) + 1);
    const same = (text: string): string => generated(text).replace(/verify \(\d+ events\)/, 'verify (… events)');
    expect(same(md)).toBe(same(`@carol the compliance report of ${PROJECT}, 2026-01-02 to now:\n\n${apiMd}`));
    expect(md).toContain('| bob | maintain |');

    for (const format of ['json', 'csv']) {
      const digest = await ask(`/qf report ${format} since:2026-01-01 until:2026-01-03`);
      const path = /`(\/api\/v1\/[^`]+)`/.exec(digest)?.[1];
      expect(path).toBe(
        `/api/v1/projects/${PROJECT}/reports/compliance?format=${format}&since=2026-01-01T00%3A00%3A00.000Z&until=2026-01-04T00%3A00%3A00.000Z&pull=${number}`,
      );
      const linked = await fetch(`${bot.url}${path}`, { headers: { authorization: `Bearer ${READER}` } });
      expect(linked.status).toBe(200);
      const text = await linked.text();
      if (format === 'json') {
        const report = JSON.parse(text);
        expect(digest).toContain(`- approvals: ${report.compliance.approvals.length}, vetoes: ${report.compliance.vetoes.length}`);
        expect(report.compliance.approvals.map((a: { by: string }) => a.by)).toEqual(['alice']);
        expect(digest).toContain(`- bot decisions: ${report.botDecisions.length}; this pull request's trail: ${report.pullRequest.events.length} events`);
        expect(report.pullRequest.subject).toBe(`${PROJECT}#${number}`);
      } else {
        expect(text).toContain('approval,2026-01-02T12:00:00.000Z,alice');
      }
    }
  });
});
