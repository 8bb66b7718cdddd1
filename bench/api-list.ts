/**
 * The HTTP API's list endpoints with 100,000 runs in the store, SQLite and PostgreSQL: latency per
 * page through the real bot server (Fastify, Bearer check, zod validation and serialisation, keyset
 * query) on loopback, one request at a time, for every list endpoint and filter the API offers.
 * Each endpoint is walked from its first page by rel="next" (N pages), then from a deep cursor (the
 * walk's last one, reused); p50/p99 are over both walks. After the figures, each endpoint's page
 * query is explained on its first page and at that deep cursor: SQLite's EXPLAIN QUERY PLAN and PostgreSQL's EXPLAIN
 * (ANALYZE, BUFFERS) — the breakdown the figures should be read with on a loaded machine.
 * Records: 100,000 runs (1 in 10 failed), one artifact per run (two types), 10,000 conflicts (a
 * tenth open), 10,000 approvals, 1,000 checkpoints, and 100,000 events on the project's chain plus
 * 10,000 run chains of 5 events. They are inserted through the store's own methods; that time is
 * printed, not measured.
 * --baseline replaces migration 5's indexes by the ones before it, to show what it changed.
 * Run: npx tsx bench/api-list.ts [runs, default 100000] [pages per walk, default 200] [sqlite|postgres|both] [--baseline]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiToken } from '../bot/api/index.js';
import { openStore, type PageKey, type PageQuery, type StoreConnection } from '../src/store/index.js';
import { openPostgresDriver } from '../src/store/postgres-driver.js';
import { ARTIFACT_COLUMNS, artifactParams } from '../src/store/rows.js';
import { pageSql } from '../src/store/sql-pages.js';
import type { SqlDriver } from '../src/store/sql-driver.js';
import { openSqliteDriver } from '../src/store/sqlite-driver.js';
import { startHarness } from '../test/support/action-harness.js';
import { makeTestApp, startTestBot } from '../test/support/bot-harness.js';
import { startPostgres } from '../test/support/postgres.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const BASELINE = process.argv.includes('--baseline');
const RUNS = Number(positional[0] ?? 100_000);
const PAGES = Number(positional[1] ?? 200);
const BACKENDS = (positional[2] ?? 'both') === 'both' ? ['sqlite', 'postgres'] : [positional[2]!];
const PROJECT = 'acme/shop';
const CHAIN = `project:${PROJECT}`;
const TOKEN = 'qf_bench_token_8d1c';
const LOAD_AT_START = loadavg();
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const runId = (i: number): string => `gh:${PROJECT}:${i}.1`;
// Ten runs share each start second, so pages cut through ties.
const runAt = (i: number): string => iso(T0 + Math.floor(i / 10) * 1000);
const headSha = (i: number): string => (Math.floor(i / 4) * 2654435761).toString(16).padStart(40, '0').slice(-40);

const dir = mkdtempSync(join(tmpdir(), 'qf-bench-api-'));
const tokens = join(dir, 'tokens.jsonl');
writeFileSync(tokens, `${JSON.stringify({ name: 'bench', sha256: hashApiToken(TOKEN), scopes: ['read'] })}\n`);
const { app, privateKey } = makeTestApp();
const harness = await startHarness({ app });
const postgres = BACKENDS.includes('postgres') ? await startPostgres() : null;

const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

async function fill(connection: StoreConnection): Promise<number> {
  const store = await openStore(connection);
  const started = performance.now();
  await store.transaction(async (tx) => {
    await tx.upsertProject({ id: PROJECT, createdAt: iso(T0) });
    for (let i = 0; i < RUNS; i++) {
      const at = runAt(i);
      await tx.upsertRun({
        id: runId(i),
        projectId: PROJECT,
        startedAt: at,
        finishedAt: at,
        mode: 'strict',
        verdict: i % 10 === 3 ? 'fail' : 'pass',
        headSha: headSha(i),
        data: { iteration: i, reasons: [], steps: [{ id: 'unit', status: 'passed', durationMs: 1200 }] },
      });
      if (i % 10 === 5) {
        await tx.saveConflict({
          id: `c${i}`,
          projectId: PROJECT,
          runId: runId(i),
          kind: 'duplicate_producer',
          artifactIds: [],
          message: 'two results for one step',
          details: {},
          lowRisk: false,
          status: i % 100 === 5 ? 'open' : 'resolved',
          createdAt: at,
          escalatedAt: null,
          resolvedAt: null,
          resolutions: [],
        });
        await tx.recordApproval({ projectId: PROJECT, runId: runId(i), planHash: `plan${i}`, by: 'octocat', permission: 'maintain', at, source: 'comment' });
      }
      if (i % 100 === 7) {
        await tx.saveCheckpoint({
          id: `cp${i}`,
          projectId: PROJECT,
          label: `after run ${i}`,
          createdAt: at,
          size: 1,
          sha256: '0'.repeat(64),
          artifactCount: 0,
          snapshot: Buffer.from([0]),
        });
      }
    }
    // One in 20 project-chain events is a reviewer's approval, so the action and actor filters are selective.
    await tx.appendAudit(
      CHAIN,
      PROJECT,
      Array.from({ length: RUNS }, (_, i) => ({
        actor: i % 20 === 9 ? 'octocat' : 'qualityfoundry-bot',
        action: i % 20 === 9 ? 'bot.approval.recorded' : 'bot.evidence.ingested',
        subject: runId(i),
        at: iso(T0 + i * 1000),
      })),
    );
    for (let i = 0; i < RUNS / 10; i++) {
      await tx.appendAudit(
        `run:${runId(i * 10)}`,
        PROJECT,
        Array.from({ length: 5 }, (_, j) => ({ actor: 'qualityfoundry', action: `run.step.${j}`, subject: 'unit', at: iso(T0 + i * 10_000 + j) })),
      );
    }
  }, `project:${PROJECT}`);
  await store.close();
  // Artifacts in rows of 500 straight into the table, versions numbered here: the store's insertArtifact
  // asks MAX(version) per insert, which PostgreSQL plans as a scan inside one long unanalysed transaction.
  const driver = await openDriver(connection);
  await driver.transaction(async (ex) => {
    for (let from = 0; from < RUNS; from += 500) {
      const rows = Array.from({ length: Math.min(500, RUNS - from) }, (_, k) => {
        const i = from + k;
        return artifactParams({
          id: `a${i}`,
          projectId: PROJECT,
          runId: runId(i),
          type: i % 2 ? 'step:lint' : 'step:unit',
          producer: `workflow-run:${i}.1`,
          iteration: Math.floor(i / 4) + 1,
          version: Math.floor(i / 2) + 1,
          dependsOn: [],
          digest: `sha256:${headSha(i)}`,
          ref: null,
          createdAt: runAt(i),
        });
      });
      await ex.run(`INSERT INTO artifacts (${ARTIFACT_COLUMNS}) VALUES ${rows.map((r) => `(${r.map(() => '?').join(', ')})`).join(', ')}`, rows.flat());
    }
  });
  await driver.close();
  return performance.now() - started;
}

const openDriver = (connection: StoreConnection): Promise<SqlDriver> =>
  'databaseUrl' in connection ? openPostgresDriver(connection.databaseUrl) : openSqliteDriver(connection.dbPath);

const UNDO_MIGRATION_4 = [
  'DROP INDEX runs_page',
  'DROP INDEX runs_verdict_page',
  'DROP INDEX runs_head_page',
  'DROP INDEX runs_branch_page',
  'CREATE INDEX runs_branch ON runs(project_id, branch, started_at)',
  'DROP INDEX artifacts_page',
  'DROP INDEX artifacts_run_page',
  'DROP INDEX artifacts_type_page',
  'DROP INDEX conflicts_page',
  'DROP INDEX conflicts_status_page',
  'DROP INDEX approvals_page',
  'DROP INDEX checkpoints_page',
  'DROP INDEX audit_events_action',
  'DROP INDEX audit_events_actor',
  'DROP INDEX audit_heads_project',
  'CREATE INDEX runs_project ON runs(project_id, started_at)',
  'CREATE INDEX conflicts_project ON conflicts(project_id, status)',
  'CREATE INDEX checkpoints_project ON checkpoints(project_id, created_at)',
];

interface Endpoint {
  name: string;
  path: string;
  query: PageQuery;
  /** A cursor near the list's far end (the oldest records; audit chains' last events). */
  deep?: PageKey;
}

const OLD: PageKey = [runAt(5_000), 'z'];

// Every list endpoint of /api/v1 and every filter it takes (head_sha, run_id: one value's few rows).
const ENDPOINTS: Endpoint[] = [
  { name: 'runs', path: `/projects/${PROJECT}/runs?`, query: { of: 'runs', projectId: PROJECT }, deep: OLD },
  { name: 'runs?verdict=fail', path: `/projects/${PROJECT}/runs?verdict=fail&`, query: { of: 'runs', projectId: PROJECT, verdict: 'fail' }, deep: OLD },
  {
    name: 'runs?head_sha=…',
    path: `/projects/${PROJECT}/runs?head_sha=${headSha(4000)}&`,
    query: { of: 'runs', projectId: PROJECT, headSha: headSha(4000) },
  },
  { name: 'artifacts', path: `/projects/${PROJECT}/artifacts?`, query: { of: 'artifacts', projectId: PROJECT }, deep: OLD },
  {
    name: 'artifacts?type=step:unit',
    path: `/projects/${PROJECT}/artifacts?type=step:unit&`,
    query: { of: 'artifacts', projectId: PROJECT, type: 'step:unit' },
    deep: OLD,
  },
  {
    name: 'artifacts?run_id=…',
    path: `/projects/${PROJECT}/artifacts?run_id=${encodeURIComponent(runId(4000))}&`,
    query: { of: 'artifacts', projectId: PROJECT, runId: runId(4000) },
  },
  { name: 'conflicts', path: `/projects/${PROJECT}/conflicts?`, query: { of: 'conflicts', projectId: PROJECT }, deep: OLD },
  {
    name: 'conflicts?status=open',
    path: `/projects/${PROJECT}/conflicts?status=open&`,
    query: { of: 'conflicts', projectId: PROJECT, status: 'open' },
    deep: OLD,
  },
  { name: 'approvals', path: `/projects/${PROJECT}/approvals?`, query: { of: 'approvals', projectId: PROJECT }, deep: [runAt(5_000), 'z', 'z'] },
  {
    name: 'approvals?since&until',
    path: `/projects/${PROJECT}/approvals?since=${runAt(20_000)}&until=${runAt(80_000)}&`,
    query: { of: 'approvals', projectId: PROJECT, since: runAt(20_000), until: runAt(80_000) },
    deep: [runAt(25_000), 'z', 'z'],
  },
  { name: 'checkpoints', path: `/projects/${PROJECT}/checkpoints?`, query: { of: 'checkpoints', projectId: PROJECT }, deep: OLD },
  { name: 'audit-events (project)', path: `/projects/${PROJECT}/audit-events?`, query: { of: 'audit', projectId: PROJECT }, deep: [CHAIN, 90_000] },
  {
    name: 'audit-events?chain=project:…',
    path: `/projects/${PROJECT}/audit-events?chain=${encodeURIComponent(CHAIN)}&`,
    query: { of: 'audit', projectId: PROJECT, chain: CHAIN },
    deep: [CHAIN, 90_000],
  },
  {
    name: 'audit-events?action=…',
    path: `/projects/${PROJECT}/audit-events?action=bot.approval.recorded&`,
    query: { of: 'audit', projectId: PROJECT, action: 'bot.approval.recorded' },
    deep: [CHAIN, 90_000],
  },
  {
    name: 'audit-events?actor=…',
    path: `/projects/${PROJECT}/audit-events?actor=octocat&`,
    query: { of: 'audit', projectId: PROJECT, actor: 'octocat' },
    deep: [CHAIN, 90_000],
  },
  {
    name: 'audit-events?chain&since&until',
    path: `/projects/${PROJECT}/audit-events?chain=${encodeURIComponent(CHAIN)}&since=${iso(T0 + 50_000_000)}&until=${iso(T0 + 90_000_000)}&`,
    query: { of: 'audit', projectId: PROJECT, chain: CHAIN, since: iso(T0 + 50_000_000), until: iso(T0 + 90_000_000) },
    deep: [CHAIN, 85_000],
  },
  { name: '/audit-events (every chain)', path: '/audit-events?', query: { of: 'audit' }, deep: [CHAIN, 90_000] },
  { name: '/audit-events?actor=…', path: '/audit-events?actor=octocat&', query: { of: 'audit', actor: 'octocat' }, deep: [CHAIN, 90_000] },
];

interface Row {
  backend: string;
  what: string;
  perPage: number;
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

async function explain(driver: SqlDriver, query: PageQuery, after: Array<string | number> | undefined, perPage: number): Promise<string> {
  const { sql, params } = pageSql(query, { limit: perPage, ...(after ? { after } : {}) });
  if (driver.dialect === 'sqlite') {
    const rows = await driver.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    return rows.map((r) => `    ${r.detail}`).join('\n');
  }
  const rows = await driver.all<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
  return rows
    .map((r) => r['QUERY PLAN'])
    .filter((line) => !/^\s*(Planning:|Buffers: shared hit=\d+$)/.test(line))
    .map((line) => `    ${line}`)
    .join('\n');
}

async function measure(backend: string, connection: StoreConnection): Promise<{ rows: Row[]; plans: string[]; fillMs: number }> {
  const fillMs = await fill(connection);
  const driver = await openDriver(connection);
  if (BASELINE) for (const statement of UNDO_MIGRATION_4) await driver.run(statement);
  // Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would have them.
  await driver.run('ANALYZE');
  const bot = await startTestBot(harness.github, privateKey, connection, { QF_API_TOKENS_FILE: tokens });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const timed = async (url: string): Promise<{ ms: number; next: string | null }> => {
    const t0 = performance.now();
    const response = await fetch(url, { headers });
    const body = await response.arrayBuffer();
    const ms = performance.now() - t0;
    if (response.status !== 200 || body.byteLength < 2) throw new Error(`${url}: ${response.status} ${Buffer.from(body).toString()}`);
    return { ms, next: /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null };
  };
  const walk = async (first: string): Promise<{ ms: number[]; last: string }> => {
    const ms: number[] = [];
    let url: string | null = first;
    let last = first;
    for (let page = 0; url && page < PAGES; page++) {
      last = url;
      const result = await timed(url);
      ms.push(result.ms);
      url = result.next;
    }
    return { ms, last };
  };
  const rows: Row[] = [];
  const plans: string[] = [];
  const api = `${bot.url}/api/v1`;
  await walk(`${api}/projects/${PROJECT}/runs?per_page=100`); // warm-up: connections, JIT, caches
  for (const endpoint of ENDPOINTS) {
    for (const perPage of endpoint.name === 'runs' ? [30, 100] : [100]) {
      const first = await walk(`${api}${endpoint.path}per_page=${perPage}`);
      // The deep walk starts near the list's far end (else where the first walk stopped).
      const deepUrl = endpoint.deep
        ? `${api}${endpoint.path}per_page=${perPage}&after=${Buffer.from(JSON.stringify(endpoint.deep)).toString('base64url')}`
        : first.last;
      const deep = await walk(deepUrl);
      const ms = [...first.ms, ...deep.ms];
      rows.push({ backend, what: endpoint.name, perPage, requests: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) });
      if (perPage !== 100) continue;
      for (const after of [undefined, endpoint.deep]) {
        plans.push(`  ${backend} · ${endpoint.name} · per_page 100 · ${after ? `after ${JSON.stringify(after)}` : 'first page'}`);
        plans.push(await explain(driver, endpoint.query, after, perPage));
      }
    }
  }
  await bot.close();
  await driver.close();
  return { rows, plans, fillMs };
}

const lines: string[] = [];
const notes: string[] = [];
const allPlans: string[] = [];
for (const backend of BACKENDS) {
  const connection: StoreConnection = backend === 'postgres' ? { databaseUrl: await postgres!.createDatabase() } : { dbPath: join(dir, 'api.db') };
  const { rows, plans, fillMs } = await measure(backend, connection);
  notes.push(`${backend}: the records inserted in ${(fillMs / 1000).toFixed(1)} s (not measured)`);
  for (const r of rows)
    lines.push(`| ${r.backend} | ${r.what} | ${r.perPage} | ${r.requests} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`);
  allPlans.push(...plans);
}
const loads = (l: number[]): string => l.map((v) => v.toFixed(1)).join(' ');
process.stdout.write(
  `${[
    `API list latency per page, ${RUNS.toLocaleString('en')} runs${BASELINE ? ' (BASELINE: migration 5 undone)' : ''}, ${new Date().toISOString()}, ${cpus().length} cores, load ${loads(LOAD_AT_START)} at start, ${loads(loadavg())} at end`,
    '',
    '| backend | endpoint | per_page | requests | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|---|',
    ...lines,
    '',
    ...notes,
    '',
    'Query plans of each page query, first page and at the deep cursor:',
    ...allPlans,
  ].join('\n')}\n`,
);
await harness.close();
await postgres?.stop();
rmSync(dir, { recursive: true, force: true });
