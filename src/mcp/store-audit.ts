import type { AuditEventInput } from '../audit/audit-chain.js';
import { ComplianceAuditor, projectChain } from '../governance/index.js';
import type { StorageBackend } from '../store/types.js';

/** The chain of MCP events that belong to no repository (a refused call that named none). */
export const MCP_CHAIN = 'mcp';

/** McpContext.audit over a store: each repository's events on its project chain, the rest on MCP_CHAIN. */
export function storeAudit(
  store: StorageBackend,
  clock: () => Date,
): { audit(projectId: string | null, event: AuditEventInput): Promise<void>; flush(): Promise<void> } {
  const auditors = new Map<string, ComplianceAuditor>();
  const auditorOf = (projectId: string | null): ComplianceAuditor => {
    const chain = projectId ? projectChain(projectId) : MCP_CHAIN;
    let auditor = auditors.get(chain);
    if (!auditor) {
      auditor = new ComplianceAuditor(store, { chain, projectId, clock });
      auditors.set(chain, auditor);
    }
    return auditor;
  };
  return {
    async audit(projectId, event) {
      await auditorOf(projectId).append(event);
    },
    async flush() {
      await Promise.all([...auditors.values()].map((auditor) => auditor.flush()));
    },
  };
}
