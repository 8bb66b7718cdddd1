import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiToken } from '../../../bot/api/api-tokens.js';
import { BOT_CHAIN } from '../../../bot/bot-constants.js';
import { type RunningBot, startBot } from '../../../bot/server/start-bot.js';
import { makeTestApp, TestOctokit } from '../../support/bot-harness.js';
import { denyNetwork } from '../../support/deny-network.js';
import { structured } from '../../support/mcp-stdio-client.js';
import { runGit, type TempGitRepo, tempDir, tempGitRepo } from '../../support/temp-git-repo.js';

const PROJECT = 'local/repo';
const RUNNER = `qf-runner-${randomUUID()}`;
const READER = `qf-reader-${randomUUID()}`;
const MARKER = `test_slow_${randomUUID().replaceAll('-', '')}`;
let work: { dir: string; cleanup: () => Promise<void> };
let repo: TempGitRepo;
let bot: RunningBot;
let mcpUrl: URL;
const clients: Client[] = [];

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

beforeAll(async () => {
  denyNetwork();
  work = await tempDir('qf-mcp-http-');
  repo = await tempGitRepo('failing');
  await mkdir(path.join(repo.dir, 'slow'));
  await writeFile(
    path.join(repo.dir, 'slow', `${MARKER}.py`),
    'import pathlib, time\n\n\ndef test_waits():\n    pathlib.Path("started.txt").write_text("started")\n    time.sleep(600)\n',
  );
  await runGit(repo.dir, ['add', '-A']);
  await runGit(repo.dir, ['commit', '-q', '-m', 'a slow test']);
  const tokens = path.join(work.dir, 'tokens.jsonl');
  await writeFile(
    tokens,
    [
      JSON.stringify({ name: 'agent', sha256: hashApiToken(RUNNER), scopes: ['read', 'run'] }),
      JSON.stringify({ name: 'reader', sha256: hashApiToken(READER), scopes: ['read'] }),
    ].join('\n'),
  );
  bot = await startBot(
    {
      APP_ID: '12',
      PRIVATE_KEY: makeTestApp().privateKey,
      WEBHOOK_SECRET: 's3cret-value',
      PORT: '0',
      HOST: '127.0.0.1',
      QF_DB: path.join(work.dir, 'bot.db'),
      LOG_LEVEL: 'fatal',
      QF_API_TOKENS_FILE: tokens,
      QF_MCP_REPO: repo.dir,
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
    },
    { Octokit: TestOctokit },
  );
  mcpUrl = new URL(`${bot.url}/mcp`);
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await bot?.close();
  await repo?.cleanup();
  await work?.cleanup();
});

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'qf-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

/** Whether any process on the machine has `marker` on its command line (the pytest of the slow test). */
async function processWith(marker: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(marker)) return true;
  }
  return false;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

const text = (result: unknown): string => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

describe('/mcp on the bot’s server (Streamable HTTP)', () => {
  it('answers 401 with WWW-Authenticate without a token or with a wrong one, audited on the bot’s chain, and runs nothing of MCP', async () => {
    const none = await fetch(mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="qualityfoundry"');
    expect(await none.json()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32001, message: expect.stringMatching(/^Unauthorized: missing Authorization header/) },
    });

    const wrong = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: 'Bearer not-a-token' }, body: JSON.stringify(INITIALIZE) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="qualityfoundry", error="invalid_token"');
    expect(await wrong.text()).not.toContain('not-a-token');

    // The SDK's own client gets the 401 too.
    const client = new Client({ name: 'qf-test', version: '0.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: 'Bearer nope' } } }))).rejects.toThrow(
      /Unauthorized: the Bearer token is not valid/,
    );

    const refused = (await bot.store.listAudit({ chain: BOT_CHAIN })).filter((event) => event.action === 'mcp.refused');
    expect(refused.map((event) => [event.actor, event.data.code, event.data.status])).toEqual([
      ['anonymous', 'unauthenticated', 401],
      ['anonymous', 'unauthenticated', 401],
      ['anonymous', 'unauthenticated', 401],
    ]);
  });

  it('serves the read tools and run_pytest to a token with `run`: a real pytest run with progress, recorded in the bot’s store', async () => {
    const client = await connect(RUNNER);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['list_runs', 'get_run_summary', 'validate_policy', 'run_pytest']));

    const progress: string[] = [];
    const result = await client.callTool({ name: 'run_pytest', arguments: { paths: ['tests'] } }, undefined, {
      onprogress: (update) => void progress.push(update.message ?? ''),
    });
    const answer = structured<Record<string, any>>(result);
    expect(answer).toMatchObject({ verdict: 'fail', counts: { total: 2, failed: 1 } });
    expect(answer.failures).toEqual([expect.objectContaining({ location: 'tests/test_totals.py:7' })]);
    expect(progress[0]).toBe('mcp-run-pytest: pytest started');
    expect(progress.at(-1)).toMatch(/^mcp-run-pytest: failed in/);

    const runs = structured<{ runs: Array<{ id: string }> }>(await client.callTool({ name: 'list_runs', arguments: { project: PROJECT } }));
    expect(runs.runs.map((run) => run.id)).toEqual([answer.runId]);
    const summary = structured<{ failedTests: Array<{ location: string }> }>(
      await client.callTool({ name: 'get_run_summary', arguments: { runId: answer.runId } }),
    );
    expect(summary.failedTests.map((test) => test.location)).toEqual(['tests/test_totals.py:7']);
    const started = (await bot.store.listAudit({ projectId: PROJECT })).filter((event) => event.action === 'mcp.run_pytest.started');
    expect(started.map((event) => event.actor)).toEqual(['token:agent']);

    const outside = await client.callTool({ name: 'run_pytest', arguments: { paths: ['../../..'] } });
    expect(text(outside)).toMatch(/^policy_refused: test path "\.\.\/\.\.\/\.\." is outside the repository/);
  });

  it('ends the step’s processes when the client cancels over HTTP', async () => {
    const client = await connect(RUNNER);
    const cancel = new AbortController();
    const running = client.callTool({ name: 'run_pytest', arguments: { paths: [`slow/${MARKER}.py`] } }, undefined, {
      signal: cancel.signal,
      timeout: 600_000,
    });
    running.catch(() => undefined);
    await until(() =>
      access(path.join(repo.dir, 'started.txt')).then(
        () => true,
        () => false,
      ),
    );
    expect(await processWith(MARKER)).toBe(true);
    cancel.abort('changed my mind');
    await expect(running).rejects.toThrow();
    await until(async () => !(await processWith(MARKER)));
    // The run ends as interrupted, its evidence written and the end audited.
    const finished = async () =>
      (await bot.store.listAudit({ projectId: PROJECT })).filter((event) => event.action === 'mcp.run_pytest.finished' && 'error' in event.data);
    await until(async () => (await finished()).length === 1);
    expect(String((await finished())[0]?.data.error)).toMatch(/^Run interrupted/);
  });

  it('lets a token without `run` read but not run, audited', async () => {
    const client = await connect(READER);
    expect(structured<{ total: number }>(await client.callTool({ name: 'list_runs', arguments: { project: PROJECT } })).total).toBeGreaterThanOrEqual(0);
    const refused = await client.callTool({ name: 'run_pytest', arguments: {} });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toBe('forbidden: token:reader may not call run_pytest: its scopes (read) do not include "run"');
    const audited = (await bot.store.listAudit({ projectId: PROJECT })).filter((event) => event.action === 'mcp.refused' && event.actor === 'token:reader');
    expect(audited.map((event) => event.data.code)).toEqual(['forbidden']);
  });

  it('answers a body that is not JSON with a JSON-RPC parse error, another token’s session with 404, and keeps serving', async () => {
    const garbage = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${RUNNER}` }, body: '{not json' });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });

    const opened = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${RUNNER}` }, body: JSON.stringify(INITIALIZE) });
    const sessionId = opened.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await opened.body?.cancel();
    const hijack = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${READER}`, 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(404);

    const noSession = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${RUNNER}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });
});
