import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { type ApiScope, type ApiTokenIdentity, type ApiTokenTable, hasScope, verifyBearerToken } from './api-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireBearer: who presented the request's Bearer token. */
    apiIdentity?: ApiTokenIdentity;
  }
}

/** The JSON body of every error the bot's HTTP API answers (401, 403, 400, 404). */
export interface ApiErrorBody {
  status: number;
  error: string;
  message: string;
  /** For 400: the query or path parameter that was refused. */
  parameter?: string;
}

const REALM = 'qualityfoundry';

/**
 * A Fastify preHandler that lets a request through only with a valid Bearer token carrying `scope`:
 * 401 (with `WWW-Authenticate: Bearer`, RFC 6750) for a missing or unknown token, 403
 * `insufficient_scope` for a token without the scope; both as JSON. On success `request.apiIdentity`
 * names the token. Reusable by every route of the bot's server (/api/v1, /mcp, the dashboard).
 */
export function requireBearer(tokens: ApiTokenTable, scope: ApiScope): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const result = verifyBearerToken(tokens, request.headers.authorization);
    if (!result.ok) {
      const challenge = result.error === 'invalid_token' ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
      const body: ApiErrorBody = { status: 401, error: result.error, message: result.message };
      return reply.code(401).header('www-authenticate', challenge).send(body);
    }
    if (!hasScope(result, scope)) {
      const body: ApiErrorBody = { status: 403, error: 'insufficient_scope', message: `the token "${result.name}" lacks the scope "${scope}"` };
      return reply.code(403).header('www-authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`).send(body);
    }
    request.apiIdentity = { name: result.name, scopes: result.scopes };
  };
}
