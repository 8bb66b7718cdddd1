/**
 * One measured ingestion for bench/bot-ingest.ts, alone in its process: the GitHub fake serving the
 * bundle as run 901's artifact, the real bot, one signed workflow_run.completed delivery. Prints one
 * JSON line: wall ms from sending the delivery to the handler's end, the store's verdict of the run,
 * the process's RSS before the delivery and at its peak, and the test cases the store holds (counted
 * in SQL, after the peak was read).
 * argv: ZIP_FILE CONNECTION_JSON HEAD_SHA
 */
import { readFileSync } from 'node:fs';
import type { StoreConnection } from '../src/store/index.js';
import { openPostgresDriver } from '../src/store/postgres-driver.js';
import { openSqliteDriver } from '../src/store/sqlite-driver.js';
import { startHarness } from '../test/support/action-harness.js';
import { deliver, makeTestApp, startTestBot, workflowRunPayload } from '../test/support/bot-harness.js';

const [zipFile, connectionJson, headSha] = process.argv.slice(2);
const { app, privateKey } = makeTestApp();
const harness = await startHarness({ app });
harness.github.workflowRuns.push({ id: 901, head_sha: headSha!, check_suite_id: 1901 });
harness.artifacts.seed({ name: 'qualityfoundry-evidence', runId: 901, zip: readFileSync(zipFile!) });
const bot = await startTestBot(harness.github, privateKey, JSON.parse(connectionJson!) as StoreConnection);
global.gc?.();
const rssBeforeMb = process.memoryUsage().rss / 1e6;
const t0 = performance.now();
await deliver(bot, 'workflow_run', workflowRunPayload({ id: 901, headSha: headSha! }));
await bot.settled();
const ms = performance.now() - t0;
const maxRssMb = process.resourceUsage().maxRSS / 1e3;
const runs = await bot.store.listRuns('Codertocat/Hello-World');
const status =
  runs[0]?.verdict === 'rejected' ? `rejected: ${String((runs[0].data.rejected as string[])[0]).slice(0, 80)}` : (runs[0]?.verdict ?? 'nothing recorded');
await bot.close();
const connection = JSON.parse(connectionJson!) as StoreConnection;
const driver = 'databaseUrl' in connection ? await openPostgresDriver(connection.databaseUrl) : await openSqliteDriver(connection.dbPath);
const [counted] = await driver.all<{ n: number | string }>('SELECT COUNT(*) AS n FROM test_results WHERE run_id = ?', [runs[0]?.id ?? '']);
const tests = Number(counted?.n ?? 0);
await driver.close();
await harness.close();
process.stdout.write(`${JSON.stringify({ ms, status, maxRssMb, rssBeforeMb, steps: (runs[0]?.data.steps as unknown[] | undefined)?.length ?? 0, tests })}\n`);
