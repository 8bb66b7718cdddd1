import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Why a tool call was refused, one code per gate it failed, in the order run_pytest passes them:
 * authentication → permission → policy → sandbox; then the per-token limits and plain bad input.
 */
export const RefusalCode = {
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  policyRefused: 'policy_refused',
  sandboxUnavailable: 'sandbox_unavailable',
  rateLimited: 'rate_limited',
  tooManyRuns: 'too_many_runs',
  notFound: 'not_found',
  badInput: 'bad_input',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** The audit action of every refusal; its data names the code, the tool and the caller. */
export const MCP_REFUSED = 'mcp.refused';

/** A refusal as an MCP tool error: the code in structuredContent and first in the text, so agents and people both see it. */
export function refusalResult(code: RefusalCode, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }], structuredContent: { error: { code, message } } };
}

/** A tool's answer: the JSON as text (what most clients show) and as structured content (what agents parse). */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}
