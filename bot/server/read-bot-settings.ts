import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { QfError, errorMessage } from '../../src/errors.js';
import type { StoreConnection } from '../../src/store/index.js';
import { DEFAULT_WEBHOOKS_PATH } from '../bot-constants.js';

/** Where the bot keeps its record unless QF_DB or DATABASE_URL says otherwise. */
export const DEFAULT_BOT_DB = './qualityfoundry.db';

/** Every environment variable the bot reads, read here and nowhere else. */
export interface BotSettings {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  webhooksPath: string;
  port: number;
  host: string;
  store: StoreConnection;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** GitHub's REST API: api.github.com, or GHE_PROTOCOL://GHE_HOST/api/v3 as Probot computes it. */
  baseUrl: string;
  /** Where the bot's HTTP API is reachable from outside (QF_PUBLIC_URL), for links in replies. */
  publicUrl: string | null;
  /** QF_API_TOKENS_FILE: the HTTP API's Bearer tokens as sha256 hashes with names and scopes (bot/api/api-tokens.ts); no file, no API access. */
  apiTokensFile: string | null;
  /** QF_MCP_REPO: a checkout whose tests /mcp's run_pytest may run (QF_MCP_OUT: where their evidence goes); null: read tools only. */
  mcpRepo: { dir: string; outDir: string | null } | null;
  /** QF_RECONCILE_MINUTES: how often missed deliveries are asked for again (0: never; once at start otherwise). */
  reconcileMinutes: number;
  /** QF_CHAIN_VERIFY_MINUTES: how often the audit chains are checked for appended events and then verified in full (at start too). */
  chainVerifyMinutes: number;
}

const blank = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const text = z.preprocess(blank, z.string().optional());

const EnvSchema = z.object({
  APP_ID: z.preprocess(blank, z.coerce.number().int().positive({ error: "expected the GitHub App's numeric id" })),
  PRIVATE_KEY: text,
  PRIVATE_KEY_PATH: text,
  WEBHOOK_SECRET: text,
  WEBHOOK_PATH: z.preprocess(blank, z.string().startsWith('/').default(DEFAULT_WEBHOOKS_PATH)),
  NODE_ENV: text,
  PORT: z.preprocess(blank, z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: z.preprocess(blank, z.string().default('localhost')),
  QF_DB: text,
  DATABASE_URL: text,
  LOG_LEVEL: z.preprocess(blank, z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info')),
  GHE_HOST: text,
  GHE_PROTOCOL: z.preprocess(blank, z.enum(['https', 'http']).default('https')),
  QF_PUBLIC_URL: z.preprocess(blank, z.url({ protocol: /^https?$/ }).optional()),
  QF_API_TOKENS_FILE: text,
  QF_MCP_REPO: text,
  QF_MCP_OUT: text,
  QF_RECONCILE_MINUTES: z.preprocess(blank, z.coerce.number().min(0).max(1440).default(5)),
  QF_CHAIN_VERIFY_MINUTES: z.preprocess(blank, z.coerce.number().positive({ error: 'expected minutes > 0' }).max(1440).default(5)),
});

/**
 * Parses the environment into BotSettings. Refuses to start without WEBHOOK_SECRET, and with
 * Probot's default secret "development" unless NODE_ENV=development: either would accept forged
 * deliveries. Messages name the variable and never echo a secret.
 */
export function readBotSettings(env: Record<string, string | undefined>): BotSettings {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `environment variable ${issue.path.join('.')}: ${issue.message}`);
    throw new QfError('BAD_INPUT', problems.join('; '));
  }
  const e = parsed.data;
  if (!e.WEBHOOK_SECRET)
    throw new QfError(
      'BAD_INPUT',
      'environment variable WEBHOOK_SECRET is not set; the bot refuses to start without the webhook secret it verifies every delivery with',
    );
  if (e.WEBHOOK_SECRET === 'development' && e.NODE_ENV !== 'development') {
    throw new QfError(
      'BAD_INPUT',
      'environment variable WEBHOOK_SECRET is "development", Probot\'s default; set a real secret (allowed only with NODE_ENV=development)',
    );
  }
  if (e.QF_DB && e.DATABASE_URL) throw new QfError('BAD_INPUT', 'both QF_DB and DATABASE_URL are set; expected one of them');
  if (e.DATABASE_URL && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL))
    throw new QfError('BAD_INPUT', 'environment variable DATABASE_URL: expected a postgres:// or postgresql:// URL');
  return {
    appId: e.APP_ID,
    privateKey: privateKey(e.PRIVATE_KEY, e.PRIVATE_KEY_PATH),
    webhookSecret: e.WEBHOOK_SECRET,
    webhooksPath: e.WEBHOOK_PATH,
    port: e.PORT,
    host: e.HOST,
    store: e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : { dbPath: e.QF_DB ?? DEFAULT_BOT_DB },
    logLevel: e.LOG_LEVEL,
    baseUrl: e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}/api/v3` : 'https://api.github.com',
    publicUrl: e.QF_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    apiTokensFile: e.QF_API_TOKENS_FILE ?? null,
    mcpRepo: e.QF_MCP_REPO ? { dir: e.QF_MCP_REPO, outDir: e.QF_MCP_OUT ?? null } : null,
    reconcileMinutes: e.QF_RECONCILE_MINUTES,
    chainVerifyMinutes: e.QF_CHAIN_VERIFY_MINUTES,
  };
}

function privateKey(inline: string | undefined, path: string | undefined): string {
  if (inline && path) throw new QfError('BAD_INPUT', 'both PRIVATE_KEY and PRIVATE_KEY_PATH are set; expected one of them');
  let key = inline?.replace(/\\n/g, '\n');
  if (path) {
    try {
      key = readFileSync(path, 'utf8');
    } catch (error) {
      throw new QfError('BAD_INPUT', `environment variable PRIVATE_KEY_PATH: cannot read ${path}: ${errorMessage(error)}`, { cause: error });
    }
  }
  if (!key) throw new QfError('BAD_INPUT', "neither PRIVATE_KEY nor PRIVATE_KEY_PATH is set; expected the GitHub App's private key (PEM)");
  if (!/-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----/.test(key)) {
    throw new QfError(
      'BAD_INPUT',
      `${path ? `PRIVATE_KEY_PATH (${path})` : 'PRIVATE_KEY'}: expected a PEM private key (a "-----BEGIN … PRIVATE KEY-----" block, as GitHub downloads it)`,
    );
  }
  return key;
}
