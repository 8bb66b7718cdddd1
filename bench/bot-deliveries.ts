/**
 * Signed webhook deliveries through the bot's real HTTP server and Probot's middleware, on loopback,
 * from 8 concurrent senders, against SQLite and PostgreSQL; GitHub is the local fake.
 *   conversation: issue_comment.created without a command (signature check, delivery recorded, parse);
 *   approve:      `/qf approve` by an authorized reviewer, each on its own pull request (the whole path:
 *                 ~15 GitHub calls, the review, the audit, the check run, the re-run, the status comment).
 * The senders run in a child process (bench/delivery-sender.ts) with keep-alive connections, so the
 * CPU figure per delivery is the bot's process alone (the bot and the fake GitHub it talks to).
 * Every tenth delivery is sent twice with the same id (a redelivery). Afterwards the store is asked for
 * every id (lost = not recorded) and the reviews, check runs and re-runs are counted (doubled = more
 * than one per delivery). Probot's client runs with throttling off: the fake is not GitHub, and the
 * throttle's one write per second would be all the bench measured.
 * Run: npx tsx bench/bot-deliveries.ts [deliveries per scenario, default 400] [sqlite|postgres|both] [conversation|approve|both]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { StoreConnection } from '../src/store/index.js';
import { OWNER, REPO, resetHarness, startHarness } from '../test/support/action-harness.js';
import { commentPayload, makeTestApp, signDelivery, startTestBot } from '../test/support/bot-harness.js';
import { startPostgres } from '../test/support/postgres.js';
import { BASE_POLICY } from '../test/support/python-project.js';

const COUNT = Number(process.argv[2] ?? 400);
const BACKENDS = (process.argv[3] ?? 'both') === 'both' ? ['sqlite', 'postgres'] : [process.argv[3]!];
const SCENARIOS = (process.argv[4] ?? 'both') === 'both' ? (['conversation', 'approve'] as const) : ([process.argv[4]] as Array<'conversation' | 'approve'>);
const SENDERS = 8;
const SENDER = new URL('./delivery-sender.ts', import.meta.url);
const LOAD_AT_START = loadavg();
const PLAN = 'd'.repeat(64);

const { app, privateKey } = makeTestApp();
const harness = await startHarness({ app });
const postgres = BACKENDS.includes('postgres') ? await startPostgres() : null;
const dir = mkdtempSync(join(tmpdir(), 'qf-bench-bot-'));

interface Result {
  backend: string;
  scenario: string;
  deliveries: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU of the bot's process (the bot and the fake GitHub; the senders run apart) per delivery. */
  cpuMsPerDelivery: number;
  lost: number;
  doubled: number;
  failed: number;
}

const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;
const sha = (i: number, salt: string): string => `${salt}${i.toString(16)}`.padStart(40, '0').slice(-40);

function seed(count: number): void {
  const { github } = harness;
  for (let i = 1; i <= count; i++) {
    const head = sha(i, 'e');
    github.pulls.push({
      number: i,
      head: { sha: head, ref: `b${i}`, owner: OWNER },
      base: { sha: sha(i, 'f'), ref: 'master' },
      files: [{ filename: 'infra/deploy.sh' }],
    });
    github.contents.set(`${sha(i, 'f')}:.github/qualityfoundry.yml`, BASE_POLICY);
    github.seedCheckRun({
      name: 'qualityfoundry/plan',
      head_sha: head,
      app: { slug: 'github-actions', id: 15368 },
      external_id: PLAN,
      conclusion: 'action_required',
      check_suite: { id: github.suiteOf(head, 100_000 + i) },
    });
    github.permissions.set(`reviewer-${i}`, 'maintain');
  }
}

async function scenario(backend: string, connection: StoreConnection, name: 'conversation' | 'approve'): Promise<Result> {
  resetHarness(harness);
  if (name === 'approve') seed(COUNT);
  const bot = await startTestBot(harness.github, privateKey, connection, { LOG_LEVEL: process.env.QF_BENCH_LOG ?? 'fatal' });
  const jobs = Array.from({ length: COUNT }, (_, index) => {
    const i = index + 1;
    const body = name === 'approve' ? '/qf approve' : `Thanks, looking at this (${i}).`;
    const payload = commentPayload({ number: i, body, login: `reviewer-${i}` });
    harness.github.comments.push({
      id: payload.comment.id,
      issue_number: i,
      body,
      user: { login: `reviewer-${i}`, type: 'User' },
      performed_via_github_app: null,
      html_url: payload.comment.html_url,
    });
    const id = randomUUID();
    // Signed before the clock starts: what GitHub spends making a delivery is not the bot's time.
    return { id, request: signDelivery('issue_comment', payload, { id }), repeat: i % 10 === 0 };
  });
  const url = `${bot.url}/api/github/webhooks`;
  const queue = jobs.flatMap((job) => (job.repeat ? [job, job] : [job])).map((job) => job.request);
  // The senders run in their own process, so this process's CPU is the bot's (and the fake's).
  const sender = fork(SENDER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answered = new Promise<{ latencies: number[]; failed: number; elapsedMs: number }>((resolve, reject) => {
    sender.once('message', resolve as (value: unknown) => void);
    sender.once('exit', (code) => reject(new Error(`the sender process exited (${code}) without an answer`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 500)); // let it load before the clock starts
  const cpuStart = process.cpuUsage();
  sender.send({ url, senders: SENDERS, queue });
  const { latencies, failed, elapsedMs } = await answered;
  const elapsed = elapsedMs / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await bot.settled();
  let lost = 0;
  for (const job of jobs) if (await bot.store.markDeliveryProcessed(job.id, 'bench-check', new Date().toISOString())) lost += 1;
  let doubled = 0;
  if (name === 'approve') {
    const reviews = (await Promise.all(jobs.map((_, index) => bot.store.listPrReviews(`${OWNER}/${REPO}`, index + 1)))).map((rows) => rows.length);
    lost += reviews.filter((n) => n === 0).length;
    doubled += reviews.filter((n) => n > 1).length;
    const approvals = harness.github.checkRuns.filter((run) => run.name === 'qualityfoundry/approval').length;
    doubled += Math.max(0, approvals - COUNT) + Math.max(0, harness.github.reruns.length - COUNT);
    lost += Math.max(0, COUNT - approvals) + Math.max(0, COUNT - new Set(harness.github.reruns).size);
  }
  await bot.close();
  return {
    backend,
    scenario: name,
    deliveries: queue.length,
    perSecond: queue.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerDelivery: (cpu.user + cpu.system) / 1000 / queue.length,
    lost,
    doubled,
    failed,
  };
}

const results: Result[] = [];
try {
  for (const backend of BACKENDS) {
    for (const name of SCENARIOS) {
      const connection: StoreConnection =
        backend === 'postgres' ? { databaseUrl: await postgres!.createDatabase() } : { dbPath: join(dir, `${backend}-${name}.db`) };
      const result = await scenario(backend, connection, name);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  }
} finally {
  await harness.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = results.map(
  (r) =>
    `| ${r.backend} | ${r.scenario} | ${r.deliveries} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuMsPerDelivery.toFixed(1)} | ${r.lost} | ${r.doubled} | ${r.failed} |`,
);
const report = [
  `# Bot: signed issue_comment deliveries through the middleware (${SENDERS} concurrent senders, loopback)`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Command: \`npx tsx bench/bot-deliveries.ts ${process.argv.slice(2).join(' ')}\`. Every tenth delivery is sent twice with the same id.`,
  '',
  `Load average when it started: ${LOAD_AT_START.map((n) => n.toFixed(1)).join(', ')} (other work on the machine shares its cores).`,
  '',
  '| store | scenario | deliveries | deliveries/s | p50 ms | p99 ms | CPU ms/delivery (bot + fake GitHub; senders apart) | lost | doubled | non-200 |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
await writeFile(new URL('./results/bot.md', import.meta.url), report);
console.log(report);
