import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/** What a caller may do: `read` the record, `run` the policy's tests. */
export const McpScope = { read: 'read', run: 'run' } as const;
export type McpScope = (typeof McpScope)[keyof typeof McpScope];

/** Who is calling, once authenticated. */
export interface McpPrincipal {
  /** `user:<login>` for the local user over stdio, `token:<id>` for a Bearer or environment token. */
  id: string;
  scopes: readonly string[];
}

/** The caller of one request, or why there is none (a wrong token from the environment, say). */
export type McpIdentity = { ok: true; principal: McpPrincipal } | { ok: false; reason: string };

/** Resolves the caller of one request from what its transport carried (HTTP: the verified Bearer token). */
export type IdentifyCaller = (request: { authInfo?: AuthInfo | undefined }) => McpIdentity;

/** Over HTTP the route has verified the Bearer token already and hands its result on as authInfo. */
export const identifyFromAuthInfo: IdentifyCaller = ({ authInfo }) =>
  authInfo ? { ok: true, principal: { id: authInfo.clientId, scopes: authInfo.scopes } } : { ok: false, reason: 'no Bearer token was presented' };

/** Over stdio the caller is fixed when the server starts: the local user, or the token the environment named. */
export const fixedIdentity =
  (identity: McpIdentity): IdentifyCaller =>
  () =>
    identity;
