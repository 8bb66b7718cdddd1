import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../bot/api/index.js';
import type { RunningBot } from '../../bot/server/start-bot.js';
import { run } from '../../src/action/run.js';
import {
  FAST_TUNING,
  type Harness,
  loadFixture,
  OWNER,
  prepareRun,
  pullRequestPayload,
  REPO,
  resetHarness,
  runOnPullRequest,
  seedPullRequest,
  startHarness,
  withRunnerEnv,
} from '../support/action-harness.js';
import { deliver, makeTestApp, startTestBot, workflowRunPayload } from '../support/bot-harness.js';
import { denyNetwork } from '../support/deny-network.js';
import { createFixtureRepo, type FixtureRepo } from '../support/python-project.js';

const PROJECT = `${OWNER}/${REPO}`;
const TOKEN = 'qf_read_trend_5be07a13';
/** Several real pytest runs in one file, on a shared machine: a ceiling, not a timed assertion. */
const RUNS_TIMEOUT = 600_000;

/** With the two tests of the fixture's base: 4 tests, one of them failing while FLAG exists (75 %). */
const CHANGE = {
  'tests/test_trend.py': [
    'import os',
    '',
    '',
    'def test_steady():',
    '    assert True',
    '',
    '',
    'def test_breaks_while_flagged():',
    '    assert not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "FLAG"))',
    '',
  ].join('\n'),
};

let harness: Harness;
let repo: FixtureRepo;
let bot: RunningBot;
let proxy: Server;
let proxyUrl: string;
/** What reached the bot through the recording proxy: path and headers of each request. */
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const dir = mkdtempSync(join(tmpdir(), 'qf-trend-'));

/** The real Action in gate mode as workflow run `runId`, then the bot ingests its evidence as GitHub hands it over. */
async function recordedRun(runId: number, event: 'push' | 'pull_request'): Promise<void> {
  const payload =
    event === 'push'
      ? Object.assign(await loadFixture('push.json'), { before: repo.baseSha, after: repo.headSha, ref: 'refs/heads/master' })
      : await pullRequestPayload(repo);
  if (event === 'pull_request') seedPullRequest(harness.github, repo);
  const prepared = await prepareRun(harness, {
    eventName: event,
    payload,
    workspace: repo.dir,
    runId,
    sha: repo.headSha,
    ...(event === 'push' ? { env: { GITHUB_REF: 'refs/heads/master', GITHUB_REF_TYPE: 'branch' } } : {}),
  });
  await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  const delivered = await deliver(
    bot,
    'workflow_run',
    workflowRunPayload(
      event === 'push'
        ? { id: runId, headSha: repo.headSha, event: 'push', headBranch: 'master', headRepository: PROJECT }
        : { id: runId, headSha: repo.headSha, event: 'pull_request', headBranch: 'changes', headRepository: PROJECT },
    ),
  );
  expect(delivered.status).toBe(200);
}

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** The Mermaid blocks of a job summary, each as its lines. */
const mermaidBlocks = (summary: string): string[][] => [...summary.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]!.split('\n'));

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  harness = await startHarness({ app: made.app });
  repo = await createFixtureRepo(CHANGE);
  const tokensFile = join(dir, 'tokens.jsonl');
  writeFileSync(tokensFile, `${JSON.stringify({ name: 'action', sha256: hashApiToken(TOKEN), scopes: ['read'] })}\n`);
  bot = await startTestBot(harness.github, made.privateKey, { dbPath: join(dir, 'bot.db') }, { QF_API_TOKENS_FILE: tokensFile });
  // A loopback proxy in front of the bot that records what the Action sends (the bot answers).
  proxy = createServer(async (request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers });
    const answer = await fetch(`${bot.url}${request.url}`, { headers: { authorization: request.headers.authorization ?? '' } });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    response.end(await answer.text());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  // Three pushes to master (the middle one with a failing test), then a pull request's run: all
  // ingested; only the pushes are the base branch's record.
  resetHarness(harness);
  await recordedRun(401, 'push');
  await writeFile(join(repo.dir, 'FLAG'), 'x');
  await recordedRun(402, 'push');
  await rm(join(repo.dir, 'FLAG'));
  await recordedRun(403, 'push');
  await recordedRun(404, 'pull_request');
}, RUNS_TIMEOUT);

afterAll(async () => {
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await bot?.close();
  await harness?.close();
  if (repo) await rm(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("the job summary's trend of the base branch, from the bot's API (api-url, api-token)", () => {
  it(
    'draws the base branch runs the bot recorded as Mermaid charts; the token goes in the Authorization header and nowhere else',
    async () => {
      resetHarness(harness);
      seen.length = 0;
      const result = await runOnPullRequest(harness, repo, { inputs: { 'api-url': proxyUrl, 'api-token': TOKEN, 'dry-run': 'true' } });
      expect(result.exitCode).toBe(0);

      // One call, the runs list filtered to the pull request's base branch, with the Bearer token.
      expect(seen.map((request) => [request.url, request.headers.authorization])).toEqual([
        [`/api/v1/projects/${OWNER}/${REPO}/runs?branch=master&per_page=20`, `Bearer ${TOKEN}`],
      ]);
      // The durations the bot recorded for the three pushes, oldest first, as the chart rounds them.
      const listed = (await (
        await fetch(`${bot.url}/api/v1/projects/${PROJECT}/runs?branch=master`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as Array<{
        id: string;
        data: { durationMs: number };
      }>;
      expect(listed.map((r) => r.id)).toEqual([`gh:${PROJECT}:403.1`, `gh:${PROJECT}:402.1`, `gh:${PROJECT}:401.1`]);
      const seconds = listed.reverse().map((r) => Math.round(r.data.durationMs / 100) / 10);

      expect(result.jobSummary).toContain("**Trend of `master`** (the bot's record, oldest → newest): ✅ 401.1 · ❌ 402.1 · ✅ 403.1");
      expect(mermaidBlocks(result.jobSummary)).toEqual([
        [
          'xychart-beta',
          '  title "master: last 3 runs, pass rate"',
          '  x-axis ["401.1", "402.1", "403.1"]',
          '  y-axis "tests passed (%)" 0 --> 100',
          '  line [100, 75, 100]',
        ],
        [
          'xychart-beta',
          '  title "master: last 3 runs, duration"',
          '  x-axis ["401.1", "402.1", "403.1"]',
          `  y-axis "duration (s)" 0 --> ${Math.ceil(Math.max(1, ...seconds))}`,
          `  bar [${seconds.join(', ')}]`,
        ],
      ]);
      // After the gate's own result.
      expect(result.jobSummary.indexOf('**Trend of')).toBeGreaterThan(result.jobSummary.indexOf('pass'));

      expect(result.jobSummary).not.toContain(TOKEN);
      const evidenceDir = join(result.runnerTemp, 'qualityfoundry-evidence');
      const written = await files(evidenceDir);
      expect(written.length).toBeGreaterThan(2);
      for (const file of written) expect(await readFile(file, 'utf8'), file).not.toContain(TOKEN);
    },
    RUNS_TIMEOUT,
  );

  it(
    'a refused token or an unreachable bot: the gate decides as without it, and the summary says in one line why there is no trend',
    async () => {
      resetHarness(harness);
      const wrong = 'qf_read_trend_wrong_0000';
      const refused = await runOnPullRequest(harness, repo, { inputs: { 'api-url': bot.url, 'api-token': wrong, 'dry-run': 'true' } });
      expect(refused.exitCode).toBe(0);
      expect(refused.outputs.verdict).toBe('pass');
      const line = refused.jobSummary.split('\n').find((l) => l.startsWith('**Trend of `master`**'));
      expect(line).toMatch(
        new RegExp(
          `^\\*\\*Trend of \`master\`\\*\\* unavailable: the bot's API answered 401 for ${bot.url.replace(/[.]/g, '\\.')}/api/v1/projects/${PROJECT}/runs: .+\\.$`,
        ),
      );
      expect(mermaidBlocks(refused.jobSummary)).toEqual([]);
      expect(refused.jobSummary).not.toContain(wrong);

      resetHarness(harness);
      // Port 9 (discard): nothing listens there on this machine.
      const unreachable = await runOnPullRequest(harness, repo, { inputs: { 'api-url': 'http://127.0.0.1:9', 'api-token': TOKEN, 'dry-run': 'true' } });
      expect(unreachable.exitCode).toBe(0);
      expect(unreachable.outputs.verdict).toBe('pass');
      expect(unreachable.jobSummary).toContain(
        `**Trend of \`master\`** unavailable: the bot's API at http://127.0.0.1:9/api/v1/projects/${PROJECT}/runs could not be reached (`,
      );
      expect(unreachable.jobSummary).not.toContain(TOKEN);
    },
    RUNS_TIMEOUT,
  );
});
