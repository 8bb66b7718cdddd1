import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createNodeMiddleware, type ApplicationFunction, type Probot } from 'probot';
import { errorMessage } from '../../src/errors.js';
import type { ComplianceAuditor } from '../../src/governance/index.js';
import type { StorageBackend } from '../../src/store/index.js';
import type { ApiTokenTable } from '../api/api-tokens.js';
import { readApi } from '../api/read-api.js';
import { QF_VERSION } from '../../src/constants.js';
import { AuditAction } from '../bot-constants.js';
import { type McpRouteOptions, registerMcpRoute } from './mcp-route.js';
import { DASHBOARD_PATH } from '../dashboard/dashboard-links.js';
import { dashboardPlugin } from '../dashboard/dashboard-plugin.js';
import type { ChainStatusSource } from '../dashboard/start-chain-verifier.js';

export interface BotServerOptions {
  probot: Probot;
  app: ApplicationFunction;
  store: StorageBackend;
  webhooksPath: string;
  /** Where refused deliveries (bad signature, missing headers, not JSON) are audited. */
  auditor: ComplianceAuditor;
  /** QF_API_TOKENS_FILE as read at start: the Bearer tokens every authenticated route checks (requireBearer). */
  apiTokens: ApiTokenTable;
  /** The MCP server at /mcp (read tools; run_pytest when a repository is configured). */
  mcp?: Omit<McpRouteOptions, 'apiTokens' | 'auditor'>;
  clock: () => Date;
  /** QF_PUBLIC_URL, the base of the API's Link headers when set. */
  publicUrl: string | null;
  /** The audit chains' latest background verification, shown by the dashboard's overview. */
  chains: ChainStatusSource;
}

/**
 * The bot's HTTP server: Fastify, carrying the read API under /api/v1 (bot/api/read-api.ts), with Probot's Node
 * middleware answering the webhooks path. The middleware gets the raw request before Fastify parses
 * anything, because it verifies `x-hub-signature-256` over the exact bytes GitHub sent.
 */
export interface BotServer {
  server: FastifyInstance;
  /** Resolves once every webhook request being handled has finished (its answer may have gone out before). */
  settled(): Promise<void>;
}

export async function createBotServer(options: BotServerOptions): Promise<BotServer> {
  const { probot, store, webhooksPath } = options;
  const middleware = await createNodeMiddleware(options.app, { probot, webhooksPath });
  const server = Fastify({ logger: false, forceCloseConnections: true });

  const inFlight = new Set<Promise<void>>();
  server.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || request.url.split('?')[0] !== webhooksPath) return;
    reply.hijack();
    const work = handleWebhook(request, reply);
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  });

  async function handleWebhook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // Probot answers (200, 400 for a missing header or a bad signature, 415 unless JSON, 202 after 9 s).
    const handled = await middleware(request.raw, reply.raw);
    if (!handled && !reply.raw.headersSent) reply.raw.writeHead(404).end();
    const status = reply.raw.statusCode;
    if (status >= 400 && status < 500) {
      const header = (name: string): string | null => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : null);
      probot.log.warn({ status, delivery: header('x-github-delivery'), event: header('x-github-event'), remote: request.ip }, 'webhook delivery refused');
      await options.auditor.append({
        actor: 'webhooks',
        action: AuditAction.deliveryRefused,
        subject: header('x-github-delivery') ?? 'unknown delivery',
        data: { status, event: header('x-github-event'), remote: request.ip, signed: header('x-hub-signature-256') !== null },
      });
    }
  }

  const mcp = options.mcp ? registerMcpRoute(server, { ...options.mcp, apiTokens: options.apiTokens, auditor: options.auditor }) : undefined;
  server.addHook('onClose', async () => {
    await mcp?.close();
  });
  await readApi(server, { store, tokens: options.apiTokens, clock: options.clock, publicUrl: options.publicUrl, version: QF_VERSION });
  await server.register(dashboardPlugin, {
    prefix: DASHBOARD_PATH,
    store,
    apiTokens: options.apiTokens,
    publicUrl: options.publicUrl ?? null,
    chains: options.chains,
  });

  server.get('/healthz', async () => ({ status: 'ok' }));

  // Ready when the store answers a query: a bot that cannot record must not take deliveries.
  server.get('/readyz', async (_request, reply) => {
    try {
      await store.getProject('readyz');
      return { status: 'ready', store: store.location };
    } catch (error) {
      probot.log.error({ err: error }, 'readiness: the store does not answer');
      return reply.code(503).send({ status: 'unavailable', store: store.location, error: errorMessage(error) });
    }
  });
  return {
    server,
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
