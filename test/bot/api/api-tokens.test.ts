import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiToken, parseApiTokens, readApiTokens, requireBearer, verifyBearerToken } from '../../../bot/api/index.js';
import { startBot } from '../../../bot/server/start-bot.js';
import { isQfError } from '../../../src/errors.js';
import { makeTestApp, TestOctokit } from '../../support/bot-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-api-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READER = 'qf_reader_7f3a9c1e5b';
const RUNNER = 'qf_runner_0d2e4f6a8b';
const jsonLines = [
  '# tokens of the HTTP API',
  JSON.stringify({ name: 'dashboard', sha256: hashApiToken(READER), scopes: ['read'] }),
  '',
  JSON.stringify({ name: 'mcp-agent', sha256: hashApiToken(RUNNER).toUpperCase(), scopes: ['read', 'run'] }),
].join('\n');

function refused(text: string): string {
  try {
    parseApiTokens(text, 'tokens.txt');
  } catch (error) {
    expect(isQfError(error, 'BAD_INPUT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the token file to be refused');
}

describe('parseApiTokens: JSON Lines, or one YAML/JSON list', () => {
  it('reads JSON Lines with comments and blank lines, and a YAML list, to the same table', () => {
    const yaml = `- name: dashboard\n  sha256: ${hashApiToken(READER)}\n  scopes: [read]\n- name: mcp-agent\n  sha256: ${hashApiToken(RUNNER)}\n  scopes: [read, run]\n`;
    const fromLines = parseApiTokens(jsonLines, 'a');
    const fromYaml = parseApiTokens(yaml, 'b');
    expect(fromLines.entries.map(({ name, scopes }) => ({ name, scopes }))).toEqual([
      { name: 'dashboard', scopes: ['read'] },
      { name: 'mcp-agent', scopes: ['read', 'run'] },
    ]);
    expect(fromYaml.entries).toEqual(fromLines.entries);
    expect(parseApiTokens('', 'empty').entries).toEqual([]);
    expect(parseApiTokens(JSON.stringify({ name: 'one', sha256: hashApiToken('x'), scopes: ['read'] }), 'one').entries).toHaveLength(1);
  });

  it.each([
    [
      `${JSON.stringify({ name: 'a', sha256: 'abc', scopes: ['read'] })}\n{"name":"b"}`,
      'tokens.txt, line 1: "sha256": expected the sha256 of the token as 64 hex digits',
    ],
    [`{"name":"a","sha256":"${hashApiToken('a')}","scopes":["read"]}\n{not json`, 'tokens.txt, line 2: not JSON'],
    [`- name: a\n  sha256: ${hashApiToken('a')}\n  scopes: [write]\n`, 'entry 1: "scopes.0"'],
    [`- name: a\n  sha256: ${hashApiToken('a')}\n  scopes: []\n`, 'entry 1: "scopes"'],
    [`- name: a\n  sha256: ${hashApiToken('a')}\n  scopes: [read]\n  token: plain\n`, 'entry 1: entry: Unrecognized key: "token"'],
    [
      `- name: a\n  sha256: ${hashApiToken('a')}\n  scopes: [read]\n- name: a\n  sha256: ${hashApiToken('b')}\n  scopes: [read]\n`,
      'entry 2: the name "a" is used twice',
    ],
    [
      `- name: a\n  sha256: ${hashApiToken('a')}\n  scopes: [read]\n- name: b\n  sha256: ${hashApiToken('a')}\n  scopes: [read]\n`,
      'entry 2: the same token hash is listed twice',
    ],
    ['tokens: 3', 'expected a list of {name, sha256, scopes} entries'],
    ['- [unclosed', 'not YAML, JSON or JSON Lines'],
  ])('refuses %j naming the problem', (text, message) => {
    expect(refused(text)).toContain(message);
  });

  it('readApiTokens names an unreadable file', () => {
    expect(() => readApiTokens(join(dir, 'missing.jsonl'))).toThrow(/QF_API_TOKENS_FILE: cannot read .*missing\.jsonl/);
    const file = join(dir, 'tokens.jsonl');
    writeFileSync(file, jsonLines);
    expect(readApiTokens(file).entries).toHaveLength(2);
  });
});

describe('verifyBearerToken', () => {
  const tokens = parseApiTokens(jsonLines, 'tokens');
  it.each([
    [`Bearer ${READER}`, { ok: true, name: 'dashboard', scopes: ['read'] }],
    [`bearer ${RUNNER}  `, { ok: true, name: 'mcp-agent', scopes: ['read', 'run'] }],
    [undefined, { ok: false, status: 401, error: 'missing_token' }],
    [`Basic ${Buffer.from(`u:${READER}`).toString('base64')}`, { ok: false, status: 401, error: 'missing_token' }],
    ['Bearer', { ok: false, status: 401, error: 'missing_token' }],
    [`Bearer ${READER} extra`, { ok: false, status: 401, error: 'missing_token' }],
    [`Bearer ${READER}x`, { ok: false, status: 401, error: 'invalid_token' }],
    // The hash itself is not a token: knowing the file does not grant access.
    [`Bearer ${hashApiToken(READER)}`, { ok: false, status: 401, error: 'invalid_token' }],
    [[`Bearer ${READER}`, `Bearer ${RUNNER}`], { ok: false, status: 401, error: 'missing_token' }],
  ])('%j → %j', (header, expected) => {
    const result = verifyBearerToken(tokens, header);
    expect(result).toMatchObject(expected);
    if (!result.ok) expect(result.message).not.toContain(READER);
  });

  it('an empty table accepts no token', () => {
    expect(verifyBearerToken(parseApiTokens('', 'none'), `Bearer ${READER}`)).toMatchObject({ ok: false, error: 'invalid_token' });
  });
});

describe('requireBearer on a Fastify route: 401/403 as JSON with WWW-Authenticate', () => {
  it('lets a token with the scope through and names it; refuses the rest', async () => {
    const server = Fastify();
    const tokens = parseApiTokens(jsonLines, 'tokens');
    server.get('/run', { preHandler: requireBearer(tokens, 'run') }, async (request) => ({ who: request.apiIdentity }));
    try {
      const ok = await server.inject({ url: '/run', headers: { authorization: `Bearer ${RUNNER}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ who: { name: 'mcp-agent', scopes: ['read', 'run'] } });

      const missing = await server.inject({ url: '/run' });
      expect(missing.statusCode).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="qualityfoundry"');
      expect(missing.json()).toEqual({
        status: 401,
        error: 'missing_token',
        message: 'missing Authorization header; expected "Authorization: Bearer <token>"',
      });

      const bad = await server.inject({ url: '/run', headers: { authorization: 'Bearer nope' } });
      expect(bad.statusCode).toBe(401);
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="qualityfoundry", error="invalid_token"');
      expect(bad.json()).toMatchObject({ error: 'invalid_token' });

      const reader = await server.inject({ url: '/run', headers: { authorization: `Bearer ${READER}` } });
      expect(reader.statusCode).toBe(403);
      expect(reader.headers['www-authenticate']).toBe('Bearer realm="qualityfoundry", error="insufficient_scope", scope="run"');
      expect(reader.json()).toEqual({ status: 403, error: 'insufficient_scope', message: 'the token "dashboard" lacks the scope "run"' });
    } finally {
      await server.close();
    }
  });
});

describe('startBot reads QF_API_TOKENS_FILE before it serves', () => {
  it('refuses to start on a malformed token file, naming it, and exposes the table otherwise', async () => {
    const { privateKey } = makeTestApp();
    const env = {
      APP_ID: '12',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 's3cret',
      PORT: '0',
      HOST: '127.0.0.1',
      QF_DB: join(dir, 'bot.db'),
      LOG_LEVEL: 'fatal',
    };
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, '- name: x\n  sha256: 123\n  scopes: [read]\n');
    await expect(startBot({ ...env, QF_API_TOKENS_FILE: bad }, { Octokit: TestOctokit })).rejects.toThrow(`QF_API_TOKENS_FILE ${bad}, entry 1: "sha256"`);
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, jsonLines);
    const bot = await startBot({ ...env, QF_API_TOKENS_FILE: good }, { Octokit: TestOctokit });
    try {
      expect(verifyBearerToken(bot.apiTokens, `Bearer ${READER}`)).toMatchObject({ ok: true, name: 'dashboard' });
    } finally {
      await bot.close();
    }
  });
});
