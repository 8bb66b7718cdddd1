import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import type { ComplianceAuditor } from '../../src/governance/index.js';
import { createMcpServer } from '../../src/mcp/create-mcp-server.js';
import type { McpContext } from '../../src/mcp/mcp-context.js';
import { identifyFromAuthInfo } from '../../src/mcp/mcp-principal.js';
import { type PytestRunConfig, registerRunPytest } from '../../src/mcp/register-run-pytest.js';
import { MCP_REFUSED, RefusalCode } from '../../src/mcp/tool-refusal.js';
import { type ApiTokenTable, verifyBearerToken } from '../api/api-tokens.js';

export const MCP_PATH = '/mcp';
/** Sessions kept at once; the oldest is closed when a new one would pass it. */
export const MAX_MCP_SESSIONS = 100;
const REALM = 'qualityfoundry';

export interface McpRouteOptions {
  context: Omit<McpContext, 'identify'>;
  /** QF_API_TOKENS_FILE as read at start, checked by the bot's own verifier (verifyBearerToken). */
  apiTokens: ApiTokenTable;
  /** run_pytest's repository, when the bot is configured with one (QF_MCP_REPO); absent: read tools only. */
  runPytest?: PytestRunConfig;
  /** The bot's own chain, where requests refused before MCP (401) are audited. */
  auditor: ComplianceAuditor;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  /** The token that opened it: a session is never served to another token. */
  owner: string;
}

/**
 * Streamable HTTP at /mcp. Every request carries `Authorization: Bearer <token>`, checked by the
 * bot's API-token verifier: none or an unknown one is 401 with WWW-Authenticate (RFC 6750), audited,
 * and nothing of MCP runs. The request is taken raw, before Fastify parses it, so a body that is not
 * JSON is answered by the SDK with a JSON-RPC parse error rather than Fastify's own 400. Sessions
 * (Mcp-Session-Id) carry progress on the request's stream and let a client cancel a run.
 */
export function registerMcpRoute(server: FastifyInstance, options: McpRouteOptions): { close(): Promise<void> } {
  const sessions = new Map<string, Session>();

  server.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] !== MCP_PATH) return;
    reply.hijack();
    try {
      await handle(request.raw, reply.raw, request.ip);
    } catch (error) {
      request.log.error({ err: error }, 'mcp request failed');
      if (!reply.raw.headersSent) jsonRpcError(reply.raw, 500, -32603, 'Internal error');
    }
  });

  async function handle(req: IncomingMessage, res: ServerResponse, remote: string): Promise<void> {
    const verified = verifyBearerToken(options.apiTokens, req.headers.authorization);
    if (!verified.ok) {
      await options.auditor.append({
        actor: 'anonymous',
        action: MCP_REFUSED,
        subject: MCP_PATH,
        data: { code: RefusalCode.unauthenticated, status: 401, reason: verified.message, remote },
      });
      const challenge = verified.error === 'invalid_token' ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': challenge });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: `Unauthorized: ${verified.message}` } }));
      return;
    }
    const auth: AuthInfo = { token: 'redacted', clientId: `token:${verified.name}`, scopes: [...verified.scopes] };
    // The SDK's transport hands req.auth to every handler as extra.authInfo.
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      // Another token's session is as good as unknown: 404 tells the client to start a new one.
      if (!session || session.owner !== auth.clientId) return jsonRpcError(res, 404, -32001, 'Session not found');
      return session.transport.handleRequest(req, res);
    }
    // No session yet: the transport answers anything but an initialize POST with its own error.
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        if (sessions.size >= MAX_MCP_SESSIONS) {
          const [oldest] = sessions.keys();
          if (oldest) void sessions.get(oldest)?.transport.close();
        }
        sessions.set(id, { transport, owner: auth.clientId });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const context: McpContext = { ...options.context, identify: identifyFromAuthInfo };
    const mcp = createMcpServer(context, (s) => {
      if (options.runPytest) registerRunPytest(s, context, options.runPytest);
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
    // A request that opened no session (not an initialize) leaves nothing behind.
    if (!transport.sessionId) await mcp.close();
  }

  return {
    async close() {
      await Promise.all([...sessions.values()].map((session) => session.transport.close()));
      sessions.clear();
    },
  };
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
}
