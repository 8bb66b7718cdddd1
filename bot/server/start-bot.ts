import path from 'node:path';
import { Probot, type ProbotOctokit } from 'probot';
import { orchestrateRecorded, projectIdOf } from '../../src/cli/run-recorder.js';
import { DEFAULT_POLICY_PATH } from '../../src/constants.js';
import type { PytestRunConfig } from '../../src/mcp/register-run-pytest.js';
import { storeAudit } from '../../src/mcp/store-audit.js';
import { DEFAULT_RUN_LIMITS, TokenLimits } from '../../src/mcp/token-limits.js';
import { assertGitRepository } from '../../src/planner/changed-files.js';
import { openStore, type StorageBackend, type StoreConnection } from '../../src/store/index.js';
import { type ApiTokenTable, EMPTY_API_TOKENS, readApiTokens } from '../api/api-tokens.js';
import { createBotDeps } from '../bot-deps.js';
import { type ChainVerifier, startChainVerifier } from '../dashboard/start-chain-verifier.js';
import type { ReconcileResult } from '../reconcile/reconcile-deliveries.js';
import { startReconciler } from '../reconcile/start-reconciler.js';
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
  /** The reconciling round started with the bot (missed deliveries asked for again); null when QF_RECONCILE_MINUTES=0. */
  reconciled: Promise<ReconcileResult> | null;
  /** Runs a reconciling round now. */
  reconcile(): Promise<ReconcileResult>;
  /** The background verification of the audit chains the overview shows (QF_CHAIN_VERIFY_MINUTES). */
  chainVerifier: ChainVerifier;
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

/**
 * /mcp's run_pytest in the configured checkout: its committed policy (HEAD), evidence under
 * QF_MCP_OUT (default DIR/qf-out/mcp), each run recorded in the bot's store as `qf run --db` would.
 */
async function mcpRunPytest(
  repo: { dir: string; outDir: string | null },
  connection: StoreConnection,
  env: Record<string, string | undefined>,
): Promise<PytestRunConfig> {
  const repoDir = path.resolve(repo.dir);
  await assertGitRepository(repoDir);
  return {
    repoDir,
    projectId: await projectIdOf(repoDir),
    policy: { ref: 'HEAD', path: DEFAULT_POLICY_PATH },
    outRoot: path.resolve(repo.outDir ?? path.join(repoDir, 'qf-out', 'mcp')),
    env,
    limits: new TokenLimits(DEFAULT_RUN_LIMITS),
    run: (options) => orchestrateRecorded(connection, options),
  };
}

/** Reads the environment, opens the store, and serves webhooks, /healthz and /readyz. */
export async function startBot(env: Record<string, string | undefined>, options: StartBotOptions = {}): Promise<RunningBot> {
  const settings = readBotSettings(env);
  // Read before the store opens: a bad token file stops the start with a message naming it.
  const apiTokens = settings.apiTokensFile ? readApiTokens(settings.apiTokensFile) : EMPTY_API_TOKENS;
  const store = await openStore(settings.store);
  let chainVerifier: ChainVerifier | undefined;
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
    const clock = options.clock ?? (() => new Date());
    const mcpAudit = storeAudit(store, clock);
    // probot.log exists once the server's middleware has initialised Probot: looked up when a round logs.
    const verifier = startChainVerifier({
      store,
      clock,
      log: { warn: (fields, message) => probot.log.warn(fields, message) },
      intervalMs: settings.chainVerifyMinutes * 60_000,
    });
    chainVerifier = verifier;
    const { server, settled } = await createBotServer({
      probot,
      app: qualityFoundryBot(deps),
      store,
      webhooksPath: settings.webhooksPath,
      auditor: deps.botAuditor,
      apiTokens,
      mcp: {
        context: { store, audit: mcpAudit.audit, clock },
        ...(settings.mcpRepo ? { runPytest: await mcpRunPytest(settings.mcpRepo, settings.store, env) } : {}),
      },
      clock: deps.clock,
      publicUrl: settings.publicUrl,
      chains: verifier,
    });
    const url = await server.listen({ port: settings.port, host: settings.host });
    probot.log.info({ url, store: store.location, webhooksPath: settings.webhooksPath }, 'QualityFoundry bot listening');
    // After listening: the deliveries GitHub sends again must find the server up.
    const reconciler = startReconciler({ probot, store, auditor: deps.botAuditor, clock: deps.clock, intervalMs: settings.reconcileMinutes * 60_000 });
    return {
      url,
      settings,
      store,
      probot,
      apiTokens,
      // The server's requests and the handlers Probot stopped waiting for at 9 s (see BotDeps.track).
      settled: async () => {
        await settled();
        await deps.idle();
      },
      reconciled: reconciler.first,
      reconcile: () => reconciler.runNow(),
      chainVerifier: verifier,
      async close() {
        await reconciler.stop();
        await verifier.stop();
        await server.close();
        await settled();
        await deps.idle();
        await deps.botAuditor.flush();
        await mcpAudit.flush();
        await store.close();
      },
    };
  } catch (error) {
    await chainVerifier?.stop();
    await store.close().catch(() => undefined);
    throw error;
  }
}
