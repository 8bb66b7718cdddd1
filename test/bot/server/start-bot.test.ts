import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBotSettings } from '../../../bot/server/read-bot-settings.js';
import { startBot } from '../../../bot/server/start-bot.js';
import { isQfError } from '../../../src/errors.js';
import { makeTestApp, TestOctokit } from '../../support/bot-harness.js';
import { denyNetwork } from '../../support/deny-network.js';

const dir = mkdtempSync(join(tmpdir(), 'qf-bot-server-'));
let privateKey: string;
beforeAll(() => {
  denyNetwork();
  privateKey = makeTestApp().privateKey;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = (over: Record<string, string | undefined> = {}) => ({
  APP_ID: '12',
  PRIVATE_KEY: privateKey,
  WEBHOOK_SECRET: 's3cret-value',
  PORT: '0',
  HOST: '127.0.0.1',
  QF_DB: join(dir, 'bot.db'),
  LOG_LEVEL: 'fatal',
  ...over,
});

describe('readBotSettings: refuses to start on settings that would accept forged deliveries or cannot work', () => {
  it.each([
    [{ WEBHOOK_SECRET: undefined }, 'environment variable WEBHOOK_SECRET is not set'],
    [{ WEBHOOK_SECRET: '  ' }, 'environment variable WEBHOOK_SECRET is not set'],
    [{ WEBHOOK_SECRET: 'development' }, 'WEBHOOK_SECRET is "development", Probot\'s default'],
    [{ WEBHOOK_SECRET: 'development', NODE_ENV: 'production' }, 'WEBHOOK_SECRET is "development"'],
    [{ APP_ID: 'abc' }, 'environment variable APP_ID'],
    [{ PRIVATE_KEY: undefined }, 'neither PRIVATE_KEY nor PRIVATE_KEY_PATH is set'],
    [{ PRIVATE_KEY: 'not a key' }, 'PRIVATE_KEY: expected a PEM private key'],
    [{ PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: '/nonexistent/key.pem' }, 'PRIVATE_KEY_PATH: cannot read /nonexistent/key.pem'],
    [{ DATABASE_URL: 'mysql://x', QF_DB: undefined }, 'DATABASE_URL: expected a postgres:// or postgresql:// URL'],
    [{ DATABASE_URL: 'postgres://x/y' }, 'both QF_DB and DATABASE_URL are set'],
    [{ PORT: '70000' }, 'environment variable PORT'],
  ])('%j → %s', (over, message) => {
    let error: unknown;
    try {
      readBotSettings(env(over));
    } catch (caught) {
      error = caught;
    }
    expect(isQfError(error, 'BAD_INPUT')).toBe(true);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('s3cret-value');
    expect((error as Error).message).not.toContain('BEGIN RSA');
  });

  it('allows "development" only with NODE_ENV=development, and reads every other variable', () => {
    expect(readBotSettings(env({ WEBHOOK_SECRET: 'development', NODE_ENV: 'development' })).webhookSecret).toBe('development');
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey);
    const settings = readBotSettings({
      APP_ID: '12',
      PRIVATE_KEY_PATH: keyFile,
      WEBHOOK_SECRET: 'x',
      DATABASE_URL: 'postgresql://db/qf',
      GHE_HOST: 'ghe.example:8443',
    });
    expect(settings).toMatchObject({
      appId: 12,
      privateKey,
      port: 3000,
      host: 'localhost',
      store: { databaseUrl: 'postgresql://db/qf' },
      webhooksPath: '/api/github/webhooks',
      baseUrl: 'https://ghe.example:8443/api/v3',
      logLevel: 'info',
    });
    expect(readBotSettings({ APP_ID: '12', PRIVATE_KEY: privateKey.replace(/\n/g, '\\n'), WEBHOOK_SECRET: 'x' })).toMatchObject({
      privateKey,
      store: { dbPath: './qualityfoundry.db' },
      baseUrl: 'https://api.github.com',
    });
  });
});

describe('the HTTP server', () => {
  it('serves /healthz and /readyz, answers the webhooks path through Probot (400 unsigned, 415 not JSON), 404 elsewhere; /readyz is 503 once the store is gone', async () => {
    const bot = await startBot(env(), { Octokit: TestOctokit });
    try {
      expect(await (await fetch(`${bot.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${bot.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', store: `sqlite:${join(dir, 'bot.db')}` });
      const unsigned = await fetch(`${bot.url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'd1' },
        body: '{}',
      });
      expect(unsigned.status).toBe(400);
      const notJson = await fetch(`${bot.url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-github-event': 'ping', 'x-github-delivery': 'd2', 'x-hub-signature-256': 'sha256=00' },
        body: 'hi',
      });
      expect(notJson.status).toBe(415);
      expect((await fetch(`${bot.url}/nowhere`)).status).toBe(404);
      await bot.store.close();
      const gone = await fetch(`${bot.url}/readyz`);
      expect(gone.status).toBe(503);
      expect(await gone.json()).toMatchObject({ status: 'unavailable' });
    } finally {
      await bot.close().catch(() => undefined);
    }
  });
});
