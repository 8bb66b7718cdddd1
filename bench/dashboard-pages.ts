/**
 * Server-side render time of each dashboard page with 10,000 runs and 1,000,000 test results in the
 * store (one repository: 100 tests per run, 5,000 head SHAs, runs over 100 days; the project's audit
 * chain with 3 events per run and each run's own chain with 5; 1,000 plans approved; 40 open conflicts),
 * on SQLite and PostgreSQL. Pages are requested through Fastify's inject (routing, session check,
 * store reads, rendering; no socket), logged in once with a real token. The overview shows the audit
 * chain status of the bot's background verifier (one round before timing; the bench fails if a view ran one).
 * Run: npx tsx bench/dashboard-pages.ts [requests per page, default 50] [sqlite|postgres|both] [runs, default 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { hashApiToken, parseApiTokens } from '../bot/api/api-tokens.js';
import { DASHBOARD_PATH, runPath, testPath } from '../bot/dashboard/dashboard-links.js';
import { dashboardPlugin } from '../bot/dashboard/dashboard-plugin.js';
import { OVERVIEW_WINDOW } from '../bot/dashboard/load-overview.js';
import { loadTestStats, TESTS_WINDOW } from '../bot/dashboard/load-test-stats.js';
import { startChainVerifier } from '../bot/dashboard/start-chain-verifier.js';
import { projectChain, runChain, verifyStoredChains } from '../src/governance/index.js';
import { openStore, type StorageBackend, type StoreConnection, type TestResultRow } from '../src/store/index.js';
import { startPostgres } from '../test/support/postgres.js';

const REQUESTS = Number(process.argv[2] ?? 50);
const BACKENDS = (process.argv[3] ?? 'both') === 'both' ? ['sqlite', 'postgres'] : [process.argv[3]!];
const RUNS = Number(process.argv[4] ?? 10_000);
const TESTS_PER_RUN = 100;
const PROJECT = 'bench/dashboard';
const TOKEN = 'bench-dashboard-token';
const START = Date.parse('2026-08-01T00:00:00Z');
const LOAD_AT_START = loadavg();

const sha = (i: number): string => i.toString(16).padStart(40, '0');
const at = (ms: number): string => new Date(ms).toISOString();
const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

async function seed(store: StorageBackend): Promise<number> {
  const began = performance.now();
  await store.upsertProject({ id: PROJECT, createdAt: at(START) });
  const CHUNK = 250;
  for (let from = 0; from < RUNS; from += CHUNK) {
    await store.transaction(async (tx) => {
      const results: TestResultRow[] = [];
      const projectEvents = [];
      for (let i = from; i < Math.min(RUNS, from + CHUNK); i++) {
        const startedAt = at(START + (i * (100 * 86_400_000)) / RUNS);
        const id = `gh:${PROJECT}:${1000 + i}.1`;
        const headSha = sha(Math.floor(i / 2));
        const waiting = i % 10 === 0;
        const failed = i % 7 === 0;
        await tx.upsertRun({
          id,
          projectId: PROJECT,
          startedAt,
          finishedAt: at(Date.parse(startedAt) + 60_000),
          mode: 'strict',
          verdict: waiting ? 'needs_approval' : failed ? 'fail' : 'pass',
          headSha,
          data: {
            source: { runId: 1000 + i, attempt: 1, headSha, url: `https://github.com/${PROJECT}/actions/runs/${1000 + i}` },
            planHash: 'a'.repeat(63) + (i % 10).toString(16),
            durationMs: 30_000 + (i % 97) * 300,
            reasons: failed ? ['Rule tests-pass failed: pytest.failed is 1, expected == 0'] : [],
            rules: [
              { id: 'tests-pass', metric: 'pytest.failed', op: '==', expected: 0, observed: failed ? 1 : 0, status: failed ? 'fail' : 'pass', reason: '' },
            ],
            steps: [{ id: 'unit', tool: 'run_pytest', status: failed ? 'failed' : 'passed', durationMs: 29_000, attempts: 1 }],
            metrics: { 'pytest.failed': failed ? 1 : 0, 'evals.pass_rate': 0.9 + (i % 5) / 100 },
          },
        });
        if (waiting)
          await tx.recordPrReview({
            projectId: PROJECT,
            pullNumber: 1 + Math.floor(i / 20),
            headSha,
            planHash: 'a'.repeat(63) + (i % 10).toString(16),
            by: 'alice',
            verdict: 'approve',
            permission: 'maintain',
            reason: '',
            commentId: null,
            commentUrl: null,
            at: at(Date.parse(startedAt) + 60_000 + (i % 13) * 60_000),
          });
        for (let t = 0; t < TESTS_PER_RUN; t++) {
          // Test 0 is flaky, test 1 fails on every seventh run, the rest pass.
          const outcome = (t === 0 && i % 3 === 0) || (t === 1 && failed) ? 'failed' : 'passed';
          results.push({
            projectId: PROJECT,
            runId: id,
            runStartedAt: startedAt,
            headSha,
            stepId: 'unit',
            seq: t,
            testId: `tests/test_mod${t % 10}.py::test_case_${t}`,
            file: `tests/test_mod${t % 10}.py`,
            line: 10 + t,
            outcome,
            durationMs: 5 + ((t * 37 + i) % 200),
            message: outcome === 'failed' ? `assert ${t} == ${i}` : null,
          });
        }
        await tx.appendAudit(
          runChain(id),
          PROJECT,
          ['run.started', 'plan.made', 'step.finished', 'gate.judged', 'run.finished'].map((action) => ({
            actor: 'qualityfoundry',
            action,
            subject: id,
            at: startedAt,
          })),
        );
        projectEvents.push(
          ...['bot.evidence.ingested', 'psmp.declared', 'checkpoint.created'].map((action) => ({
            actor: 'qualityfoundry-bot',
            action,
            subject: id,
            at: startedAt,
          })),
        );
        if (i % 250 === 1)
          await tx.saveConflict({
            id: `conflict-${i}`,
            projectId: PROJECT,
            runId: id,
            kind: 'duplicate_producer',
            artifactIds: [],
            message: `"step:unit" disagrees in run ${i}`,
            details: {},
            lowRisk: false,
            status: 'open',
            createdAt: startedAt,
            escalatedAt: null,
            resolvedAt: null,
            resolutions: [],
          });
      }
      await tx.insertTestResults(results);
      await tx.appendAudit(projectChain(PROJECT), PROJECT, projectEvents);
    }, `project:${PROJECT}`);
  }
  return performance.now() - began;
}

interface Result {
  backend: string;
  page: string;
  requests: number;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
}

/** Printed as each figure is measured too: a long run cut short keeps what it measured. */
const row = (r: Result): string => `| ${r.backend} | ${r.page} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.bytes} |`;

async function measure(backend: string, connection: StoreConnection): Promise<Result[]> {
  const store = await openStore(connection);
  try {
    const seeded = await seed(store);
    console.error(`${backend}: seeded ${RUNS} runs, ${RUNS * TESTS_PER_RUN} test results in ${(seeded / 1000).toFixed(1)} s`);
    const app = Fastify({ logger: false });
    const apiTokens = parseApiTokens(JSON.stringify([{ name: 'bench', sha256: hashApiToken(TOKEN), scopes: ['read'] }]), 'bench');
    // The bot's background verifier, one round before the pages are timed: the overview shows its result.
    const chains = startChainVerifier({ store, clock: () => new Date(), log: console, intervalMs: 0 });
    await chains.runNow();
    const verified = chains.latest(projectChain(PROJECT));
    if (!verified?.ok) throw new Error(`the seeded project chain did not verify: ${JSON.stringify(verified)}`);
    await app.register(dashboardPlugin, { prefix: DASHBOARD_PATH, store, apiTokens, publicUrl: null, chains });
    await app.ready();
    const login = await app.inject({
      method: 'POST',
      url: `${DASHBOARD_PATH}/login`,
      headers: { origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: TOKEN }).toString(),
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    if (!cookie.startsWith('qf_dashboard=')) throw new Error(`login failed: ${login.statusCode} ${login.body.slice(0, 200)}`);
    const pages: Array<[string, (i: number) => string]> = [
      ['overview', () => `/dashboard/${PROJECT}`],
      ['run', (i) => runPath(PROJECT, `gh:${PROJECT}:${1000 + ((i * 7919) % RUNS)}.1`)],
      ['tests', () => `/dashboard/${PROJECT}/tests`],
      ['test history', (i) => testPath(PROJECT, `tests/test_mod${i % 10}.py::test_case_${i % TESTS_PER_RUN}`)],
    ];
    const results: Result[] = [];
    for (const [page, url] of pages) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < REQUESTS + 3; i++) {
        const began = performance.now();
        const response = await app.inject({ method: 'GET', url: url(i), headers: { cookie } });
        const took = performance.now() - began;
        if (response.statusCode !== 200) throw new Error(`${page} ${url(i)}: ${response.statusCode}`);
        bytes = response.body.length;
        if (i >= 3) times.push(took);
      }
      results.push({ backend, page, requests: times.length, p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times), bytes });
      console.error(row(results.at(-1)!));
    }
    // Where the time goes: the parts of the two heaviest pages, each timed alone.
    const parts: Array<[string, () => Promise<unknown>]> = [
      ['background (not per view): verify the project audit chain in full', () => verifyStoredChains(store, projectChain(PROJECT))],
      [
        'overview: everything else (store reads)',
        () => Promise.all([store.countVerdictsByDay(PROJECT), store.listRecentRuns(PROJECT, OVERVIEW_WINDOW), store.listFirstApprovals(PROJECT)]),
      ],
      [
        'tests: read the window of test results',
        async () => {
          const recent = await store.listRecentRuns(PROJECT, TESTS_WINDOW);
          return store.listTestResults({ projectId: PROJECT, since: recent.at(-1)!.startedAt });
        },
      ],
      ['tests: loadTestStats (read + summarize)', () => loadTestStats(store, PROJECT)],
    ];
    for (const [part, fn] of parts) {
      const times: number[] = [];
      for (let i = 0; i < Math.min(REQUESTS, 10) + 2; i++) {
        const began = performance.now();
        await fn();
        if (i >= 2) times.push(performance.now() - began);
      }
      results.push({ backend, page: part, requests: times.length, p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times), bytes: 0 });
      console.error(row(results.at(-1)!));
    }
    await app.close();
    if (chains.verifications !== 1) throw new Error(`page views ran ${chains.verifications - 1} chain verifications`);
    return results;
  } finally {
    await store.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'qf-bench-dashboard-'));
const postgres = BACKENDS.includes('postgres') ? await startPostgres() : null;
try {
  const all: Result[] = [];
  for (const backend of BACKENDS) {
    const connection: StoreConnection = backend === 'sqlite' ? { dbPath: join(dir, 'dashboard.db') } : { databaseUrl: await postgres!.createDatabase() };
    all.push(...(await measure(backend, connection)));
  }
  console.log(`dashboard pages, ${RUNS} runs, ${RUNS * TESTS_PER_RUN} test results, ${REQUESTS} requests per page after 3 warm-ups`);
  console.log(
    `load average at start ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' ')}, at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('| backend | page | p50 ms | p95 ms | max ms | HTML bytes |');
  console.log('|---|---|---|---|---|---|');
  for (const r of all) console.log(row(r));
} finally {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}
