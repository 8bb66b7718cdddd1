/**
 * The HTTP API's list endpoints with 100,000 runs in the store, SQLite and PostgreSQL: latency per
 * page through the real bot server (Fastify, Bearer check, zod validation and serialisation, keyset
 * query) on loopback, one request at a time.
 *   walk:    follow rel="next" from the first page, N pages (per_page 30 and 100);
 *   deep:    pages that start deep in the list (cursors taken from the walk's far end, then reused);
 *   filter:  `verdict=fail` (1 run in 10), walked the same way;
 *   audit:   /audit-events of a chain holding 100,000 events.
 * Runs are inserted in one transaction through the store's own upsertRun; the times that takes are
 * printed but are not what is measured.
 * Run: npx tsx bench/api-list.ts [runs, default 100000] [pages per walk, default 200] [sqlite|postgres|both]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiToken } from '../bot/api/index.js';
import { openStore, type StoreConnection } from '../src/store/index.js';
import { startHarness } from '../test/support/action-harness.js';
import { makeTestApp, startTestBot } from '../test/support/bot-harness.js';
import { startPostgres } from '../test/support/postgres.js';

const RUNS = Number(process.argv[2] ?? 100_000);
const PAGES = Number(process.argv[3] ?? 200);
const BACKENDS = (process.argv[4] ?? 'both') === 'both' ? ['sqlite', 'postgres'] : [process.argv[4]!];
const PROJECT = 'acme/shop';
const TOKEN = 'qf_bench_token_8d1c';
const LOAD_AT_START = loadavg();

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
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  await store.transaction(async (tx) => {
    await tx.upsertProject({ id: PROJECT, createdAt: new Date(t0).toISOString() });
    for (let i = 0; i < RUNS; i++) {
      // Ten runs share each start second, so pages cut through ties.
      const at = new Date(t0 + Math.floor(i / 10) * 1000).toISOString();
      await tx.upsertRun({
        id: `gh:${PROJECT}:${i}.1`,
        projectId: PROJECT,
        startedAt: at,
        finishedAt: at,
        mode: 'strict',
        verdict: i % 10 === 3 ? 'fail' : 'pass',
        headSha: (i * 2654435761).toString(16).padStart(40, '0').slice(-40),
        data: { iteration: i, reasons: [], steps: [{ id: 'unit', status: 'passed', durationMs: 1200 }] },
      });
    }
    await tx.appendAudit(
      `project:${PROJECT}`,
      PROJECT,
      Array.from({ length: RUNS }, (_, i) => ({
        actor: 'qualityfoundry-bot',
        action: 'bot.evidence.ingested',
        subject: `run ${i}`,
        at: new Date(t0 + i).toISOString(),
      })),
    );
  });
  await store.close();
  return performance.now() - started;
}

interface Row {
  backend: string;
  what: string;
  perPage: number;
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

async function measure(backend: string, connection: StoreConnection): Promise<{ rows: Row[]; fillMs: number }> {
  const fillMs = await fill(connection);
  const bot = await startTestBot(harness.github, privateKey, connection, { QF_API_TOKENS_FILE: tokens });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const timed = async (url: string): Promise<{ ms: number; next: string | null }> => {
    const t0 = performance.now();
    const response = await fetch(url, { headers });
    const body = await response.arrayBuffer();
    const ms = performance.now() - t0;
    if (response.status !== 200 || body.byteLength < 2) throw new Error(`${url}: ${response.status}`);
    return { ms, next: /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null };
  };
  const walk = async (first: string): Promise<{ ms: number[]; urls: string[] }> => {
    const ms: number[] = [];
    const urls: string[] = [];
    let url: string | null = first;
    for (let page = 0; url && page < PAGES; page++) {
      urls.push(url);
      const result = await timed(url);
      ms.push(result.ms);
      url = result.next;
    }
    return { ms, urls };
  };
  const rows: Row[] = [];
  const row = (what: string, perPage: number, ms: number[]): void => {
    rows.push({ backend, what, perPage, requests: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) });
  };
  const base = `${bot.url}/api/v1/projects/${PROJECT}`;
  await walk(`${base}/runs?per_page=100`); // warm-up: connections, JIT, caches
  for (const perPage of [30, 100]) {
    const { ms, urls } = await walk(`${base}/runs?per_page=${perPage}`);
    row('runs, walk from the first page', perPage, ms);
    // Deep pages: the cursor of a page near the end of the list, found by one keyset jump.
    const deepStart = await timed(
      `${base}/runs?per_page=${perPage}&after=${Buffer.from(JSON.stringify(['2026-01-01T00:00:30.000Z', 'z'])).toString('base64url')}`,
    );
    const deep = await walk(deepStart.next ?? urls[0]!);
    row('runs, walk from the list end (oldest runs)', perPage, deep.ms);
    row('runs?verdict=fail, walk', perPage, (await walk(`${base}/runs?per_page=${perPage}&verdict=fail`)).ms);
    row(
      'audit-events of one chain, walk',
      perPage,
      (await walk(`${base}/audit-events?per_page=${perPage}&chain=${encodeURIComponent(`project:${PROJECT}`)}`)).ms,
    );
  }
  await bot.close();
  return { rows, fillMs };
}

const lines: string[] = [];
for (const backend of BACKENDS) {
  const connection: StoreConnection = backend === 'postgres' ? { databaseUrl: await postgres!.createDatabase() } : { dbPath: join(dir, 'api.db') };
  const { rows, fillMs } = await measure(backend, connection);
  lines.push(`${backend}: ${RUNS.toLocaleString('en')} runs and as many audit events inserted in ${(fillMs / 1000).toFixed(1)} s (not measured below)`);
  for (const r of rows)
    lines.push(`| ${r.backend} | ${r.what} | ${r.perPage} | ${r.requests} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`);
}
const header = [
  `API list latency per page, ${RUNS.toLocaleString('en')} runs, ${new Date().toISOString()}, ${cpus().length} cores, load ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' ')} at start, ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at end`,
  '',
  '| backend | what | per_page | requests | p50 ms | p99 ms | max ms |',
  '|---|---|---|---|---|---|---|',
];
process.stdout.write(`${[...header, ...lines.filter((l) => l.startsWith('|')), '', ...lines.filter((l) => !l.startsWith('|'))].join('\n')}\n`);
await harness.close();
await postgres?.stop();
rmSync(dir, { recursive: true, force: true });
