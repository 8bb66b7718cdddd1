import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEventInput } from '../audit/audit-chain.js';
import type { StorageBackend } from '../store/types.js';
import type { IdentifyCaller, McpPrincipal } from './mcp-principal.js';
import { MCP_REFUSED, RefusalCode, refusalResult } from './tool-refusal.js';

/** What every tool of the MCP server works with; the transports (stdio, HTTP) build it. */
export interface McpContext {
  store: StorageBackend;
  identify: IdentifyCaller;
  /** Appends to the audit chain of `projectId` (null: the server's own chain); resolves once durable. */
  audit(projectId: string | null, event: AuditEventInput): Promise<void>;
  clock: () => Date;
}

/**
 * Authentication, then permission: the caller of this request, or the refusal to return (audited).
 * `projectId` names the chain the refusal goes to.
 */
export async function authorize(
  context: McpContext,
  request: { authInfo?: AuthInfo | undefined },
  tool: string,
  scope: string,
  projectId: string | null,
): Promise<{ principal: McpPrincipal } | { refused: CallToolResult }> {
  const identity = context.identify(request);
  if (!identity.ok) {
    const message = `${tool} needs an authenticated caller: ${identity.reason}`;
    await refusalAudit(context, projectId, { code: RefusalCode.unauthenticated, tool, caller: null, reason: message });
    return { refused: refusalResult(RefusalCode.unauthenticated, message) };
  }
  const { principal } = identity;
  if (!principal.scopes.includes(scope)) {
    const message = `${principal.id} may not call ${tool}: its scopes (${principal.scopes.join(', ') || 'none'}) do not include "${scope}"`;
    await refusalAudit(context, projectId, { code: RefusalCode.forbidden, tool, caller: principal.id, reason: message });
    return { refused: refusalResult(RefusalCode.forbidden, message) };
  }
  return { principal };
}

/** Audits a refusal and returns it as the tool's answer. */
export async function refuse(
  context: McpContext,
  projectId: string | null,
  details: { code: RefusalCode; tool: string; caller: string | null; reason: string },
): Promise<CallToolResult> {
  await refusalAudit(context, projectId, details);
  return refusalResult(details.code, details.reason);
}

async function refusalAudit(
  context: McpContext,
  projectId: string | null,
  details: { code: RefusalCode; tool: string; caller: string | null; reason: string },
): Promise<void> {
  await context.audit(projectId, {
    actor: details.caller ?? 'anonymous',
    action: MCP_REFUSED,
    subject: details.tool,
    data: { code: details.code, reason: details.reason },
  });
}
