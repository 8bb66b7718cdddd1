import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
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
const NAME = 'qualityfoundry-evidence';
/** The API token: its prefix is what the pull request's own test looks for in its environment. */
const TOKEN = 'qf_read_history_7d41c9e2';
/** Several real pytest runs in one test, on a shared machine: a ceiling, not a timed assertion. */
const RUNS_TIMEOUT = 600_000;

/**
 * Skewed durations across files, and a test that is the attack: the pull request's code looks for the
 * bot's API token anywhere in its environment.
 */
const CHANGE = {
  'tests/test_slow.py': 'import time\n\nimport pytest\n\n\n@pytest.mark.parametrize("n", range(3))\ndef test_slow(n):\n    time.sleep(0.1 * (n + 1))\n',
  'tests/test_fast.py': 'import pytest\n\n\n@pytest.mark.parametrize("n", range(5))\ndef test_fast(n):\n    assert n >= 0\n',
  'tests/test_no_token.py': `import os\n\n\ndef test_the_api_token_is_not_in_the_environment():\n    assert not [k for k, v in os.environ.items() if "qf_read_history" in v]\n`,
};
const TESTS = 2 + 3 + 5 + 1;

let harness: Harness;
let privateKey: string;
let repo: FixtureRepo;
let bot: RunningBot;
const dir = mkdtempSync(join(tmpdir(), 'qf-shard-bot-history-'));

/** The real Action in gate mode as workflow run `runId`: a push to master, or the pull request; its uploaded zip. */
async function gateRun(runId: number, event: 'push' | 'pull_request'): Promise<void> {
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
  expect(await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }))).toBe(0);
  expect(harness.artifacts.artifacts.some((artifact) => artifact.runId === runId && artifact.name === NAME && artifact.finalized)).toBe(true);
}

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  denyNetwork();
  const made = makeTestApp();
  privateKey = made.privateKey;
  harness = await startHarness({ app: made.app });
  repo = await createFixtureRepo(CHANGE);
  const tokensFile = join(dir, 'tokens.jsonl');
  writeFileSync(tokensFile, `${JSON.stringify({ name: 'action', sha256: hashApiToken(TOKEN), scopes: ['read'] })}\n`);
  bot = await startTestBot(harness.github, privateKey, { dbPath: join(dir, 'bot.db') }, { QF_API_TOKENS_FILE: tokensFile });

  // The base branch's run (a push to master), then a fork's pull request from a branch it also calls
  // master: both ingested by the bot; only the first is the base branch's history.
  resetHarness(harness);
  await gateRun(301, 'push');
  expect(
    (await deliver(bot, 'workflow_run', workflowRunPayload({ id: 301, headSha: repo.headSha, event: 'push', headBranch: 'master', headRepository: PROJECT })))
      .status,
  ).toBe(200);
  await gateRun(302, 'pull_request');
  expect(
    (
      await deliver(
        bot,
        'workflow_run',
        workflowRunPayload({ id: 302, headSha: repo.headSha, event: 'pull_request', headBranch: 'master', headRepository: `forker/${REPO}` }),
      )
    ).status,
  ).toBe(200);
}, RUNS_TIMEOUT);
afterAll(async () => {
  await bot?.close();
  await harness?.close();
  if (repo) await rm(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("a shard's timing history from the bot's API (api-url, api-token)", () => {
  it('the bot records the branch of a push run only, and serves its durations at /timings', async () => {
    const runs = await bot.store.listRuns(PROJECT);
    expect(runs.map((recorded) => [recorded.id, recorded.branch ?? null])).toEqual([
      [`gh:${PROJECT}:301.1`, 'master'],
      [`gh:${PROJECT}:302.1`, null],
    ]);

    const url = `${bot.url}/api/v1/projects/${PROJECT}/timings?branch=master`;
    const answer = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { runId: string; headSha: string; tests: Record<string, number> };
    expect(body).toMatchObject({ runId: `gh:${PROJECT}:301.1`, headSha: repo.headSha });
    expect(Object.keys(body.tests)).toHaveLength(TESTS);
    // The slow tests sleep 0.1, 0.2 and 0.3 s: their recorded durations are at least that.
    expect(body.tests['tests/test_slow.py::test_slow[2]']).toBeGreaterThanOrEqual(0.3);
    expect(body.tests['tests/test_fast.py::test_fast[0]']).toBeLessThan(0.1);

    expect((await fetch(url)).status).toBe(401);
    const other = await fetch(`${bot.url}/api/v1/projects/${PROJECT}/timings?branch=changes`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { message: string }).message).toBe(`no run pushed to changes in ${PROJECT} recorded test results`);
    const bad = await fetch(`${bot.url}/api/v1/projects/${PROJECT}/timings?branch=a%20b`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_parameter', parameter: 'branch' });
    // The same filter on the runs list.
    const listed = await fetch(`${bot.url}/api/v1/projects/${PROJECT}/runs?branch=master`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await listed.json()) as { id: string }[]).map((listedRun) => listedRun.id)).toEqual([`gh:${PROJECT}:301.1`]);
  });

  it(
    "a pull request's shard, given no timings file, is balanced by its base branch's newest run, and the token never reaches the tests",
    async () => {
      resetHarness(harness);
      const result = await runOnPullRequest(harness, repo, {
        inputs: { 'shard-index': '1', 'shard-total': '3', 'api-url': bot.url, 'api-token': TOKEN, 'dry-run': 'true' },
      });
      expect(result.exitCode).toBe(0);
      expect(result.outputs.verdict).toBe('pass');
      expect(result.jobSummary).toContain(
        `Balanced by the durations in run gh:${PROJECT}:301.1, the newest the bot recorded on master (${TESTS} of ${TESTS} tests).`,
      );
      const evidenceDir = join(result.runnerTemp, 'qualityfoundry-evidence');
      for (const file of await files(evidenceDir)) expect(await readFile(file, 'utf8'), file).not.toContain(TOKEN);
      expect(result.jobSummary).not.toContain(TOKEN);
    },
    RUNS_TIMEOUT,
  );

  it(
    'a refused token or an unreachable bot: balanced by file size, and the summary says why without the token',
    async () => {
      resetHarness(harness);
      const wrong = 'qf_read_history_wrong_0000';
      const refused = await runOnPullRequest(harness, repo, {
        inputs: { 'shard-index': '2', 'shard-total': '3', 'api-url': bot.url, 'api-token': wrong, 'dry-run': 'true' },
      });
      expect(refused.exitCode).toBe(0);
      expect(refused.jobSummary).toContain(
        `The timing history of \`master\` from the bot could not be used (the bot's API answered 401 for ${bot.url}/api/v1/projects/${PROJECT}/timings: `,
      );
      expect(refused.jobSummary).toContain('Balanced by test file size: no timing history was given.');
      expect(refused.jobSummary).not.toContain(wrong);

      resetHarness(harness);
      // A port nothing listens on: the bot's own, once it is closed, is not knowable in advance; 9 (discard) is closed here.
      const unreachable = await runOnPullRequest(harness, repo, {
        inputs: { 'shard-index': '3', 'shard-total': '3', 'api-url': 'http://127.0.0.1:9', 'api-token': TOKEN, 'dry-run': 'true' },
      });
      expect(unreachable.exitCode).toBe(0);
      expect(unreachable.jobSummary).toContain(
        `The timing history of \`master\` from the bot could not be used (the bot's API at http://127.0.0.1:9/api/v1/projects/${PROJECT}/timings could not be reached (`,
      );
      expect(unreachable.jobSummary).toContain('Balanced by test file size: no timing history was given.');
    },
    RUNS_TIMEOUT,
  );
});
