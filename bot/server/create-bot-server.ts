import Fastify, { type FastifyInstance } from 'fastify';
import { createNodeMiddleware, type ApplicationFunction, type Probot } from 'probot';
import { errorMessage } from '../../src/errors.js';
import type { StorageBackend } from '../../src/store/index.js';

export interface BotServerOptions {
  probot: Probot;
  app: ApplicationFunction;
  store: StorageBackend;
  webhooksPath: string;
}

/**
 * The bot's HTTP server: Fastify (which will also carry the read API of /api/v1), with Probot's Node
 * middleware answering the webhooks path. The middleware gets the raw request before Fastify parses
 * anything, because it verifies `x-hub-signature-256` over the exact bytes GitHub sent.
 */
export async function createBotServer(options: BotServerOptions): Promise<FastifyInstance> {
  const { probot, store, webhooksPath } = options;
  const middleware = await createNodeMiddleware(options.app, { probot, webhooksPath });
  const server = Fastify({ disableRequestLogging: true, forceCloseConnections: true });

  server.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || request.url.split('?')[0] !== webhooksPath) return;
    reply.hijack();
    // Probot answers (200, 400 for a missing header or a bad signature, 415 unless JSON, 202 after 9 s).
    const handled = await middleware(request.raw, reply.raw);
    if (!handled && !reply.raw.headersSent) reply.raw.writeHead(404).end();
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
  return server;
}
