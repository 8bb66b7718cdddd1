import { Probot, type ProbotOctokit } from 'probot';
import { openStore, type StorageBackend } from '../../src/store/index.js';
import { type ApiTokenTable, EMPTY_API_TOKENS, readApiTokens } from '../api/api-tokens.js';
import { createBotDeps } from '../bot-deps.js';
import { qualityFoundryBot } from '../index.js';
import { createBotServer } from './create-bot-server.js';
import { readBotSettings, type BotSettings } from './read-bot-settings.js';

export interface RunningBot {
  /** `http://host:port` the server listens on. */
  url: string;
  settings: BotSettings;
  store: StorageBackend;
  probot: Probot;
  /** The HTTP API's Bearer tokens (QF_API_TOKENS_FILE), empty without the file. */
  apiTokens: ApiTokenTable;
  /** Resolves once every delivery being handled has finished, audit included. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface StartBotOptions {
  /**
   * The Octokit class Probot builds clients from. Production keeps Probot's (throttled: writes 1 s
   * apart, as GitHub asks); tests and the bench pass one with throttling and retries off.
   */
  Octokit?: typeof ProbotOctokit;
  clock?: () => Date;
}

/** Reads the environment, opens the store, and serves webhooks, /healthz and /readyz. */
export async function startBot(env: Record<string, string | undefined>, options: StartBotOptions = {}): Promise<RunningBot> {
  const settings = readBotSettings(env);
  // Read before the store opens: a bad token file stops the start with a message naming it.
  const apiTokens = settings.apiTokensFile ? readApiTokens(settings.apiTokensFile) : EMPTY_API_TOKENS;
  const store = await openStore(settings.store);
  try {
    const probot = new Probot({
      appId: settings.appId,
      privateKey: settings.privateKey,
      secret: settings.webhookSecret,
      baseUrl: settings.baseUrl,
      logLevel: settings.logLevel,
      ...(options.Octokit ? { Octokit: options.Octokit } : {}),
    });
    const deps = createBotDeps({ store, appId: settings.appId, publicUrl: settings.publicUrl, ...(options.clock ? { clock: options.clock } : {}) });
    const { server, settled } = await createBotServer({
      probot,
      app: qualityFoundryBot(deps),
      store,
      webhooksPath: settings.webhooksPath,
      auditor: deps.botAuditor,
      apiTokens,
    });
    const url = await server.listen({ port: settings.port, host: settings.host });
    probot.log.info({ url, store: store.location, webhooksPath: settings.webhooksPath }, 'QualityFoundry bot listening');
    return {
      url,
      settings,
      store,
      probot,
      apiTokens,
      settled,
      async close() {
        await server.close();
        await settled();
        await deps.botAuditor.flush();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}
