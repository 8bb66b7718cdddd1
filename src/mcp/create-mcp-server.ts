import { readFile } from 'node:fs/promises';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { readEvidence } from '../evidence/read-evidence.js';
import { errorMessage } from '../errors.js';
import { QF_VERSION } from '../constants.js';
import { EVIDENCE_URI_TEMPLATE } from './evidence-uri.js';
import { authorize, type McpContext } from './mcp-context.js';
import { McpScope } from './mcp-principal.js';
import { registerReadTools } from './register-read-tools.js';
import { evidencePathOf } from './run-summary.js';

export const MCP_SERVER_NAME = 'qualityfoundry';

/**
 * The gate's MCP server: read tools over the store, evidence bundles as resources, and (when the
 * transport configures one) the guarded run_pytest. One server object per connection (stdio) or
 * per HTTP request; the store and audit chains behind it are shared.
 */
export function createMcpServer(context: McpContext, extend?: (server: McpServer) => void): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: QF_VERSION },
    {
      capabilities: { tools: {}, resources: {}, logging: {} },
      instructions:
        'QualityFoundry, the evidence-first quality gate. Read what runs decided (list_runs, get_run_summary, get_audit_trail), the conflicts and compliance reports of a repository, check a policy (validate_policy) or a metric (explain_metric); run_pytest runs the policy’s tests the way CI does, when the caller is allowed to.',
    },
  );
  registerReadTools(server, context);

  server.registerResource(
    'evidence',
    new ResourceTemplate(EVIDENCE_URI_TEMPLATE, { list: undefined }),
    { title: 'Evidence bundle', description: "A run's evidence.json (schema-checked), by run id.", mimeType: 'application/json' },
    async (uri, variables, extra) => {
      const id = decodeURIComponent(String(variables.runId));
      const run = await context.store.getRun(id);
      const caller = await authorize(context, extra, 'resources/read evidence', McpScope.read, run?.projectId ?? null);
      // Resource reads have no tool-error form: a refusal is a JSON-RPC error carrying the same code.
      if ('refused' in caller) throw new McpError(ErrorCode.InvalidRequest, refusalText(caller.refused));
      const file = run ? evidencePathOf(run) : null;
      if (!run) throw new McpError(ErrorCode.InvalidParams, `not_found: no run "${id}" in the store`);
      if (!file) throw new McpError(ErrorCode.InvalidParams, `not_found: run "${id}" was ingested by the bot; the store keeps no evidence.json for it`);
      let text: string;
      try {
        const bytes = await readFile(file);
        await readEvidence(file, bytes); // the folder may have been touched since: never serve what is not evidence
        text = bytes.toString('utf8');
      } catch (error) {
        throw new McpError(ErrorCode.InternalError, `evidence of run "${id}" cannot be served: ${errorMessage(error)}`);
      }
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
    },
  );
  extend?.(server);
  return server;
}

function refusalText(result: { content: unknown }): string {
  const first = (result.content as Array<{ type: string; text?: string }>)[0];
  return first?.text ?? 'refused';
}
