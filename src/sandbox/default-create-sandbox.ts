import type { AuditTrail } from '../audit/audit-chain.js';
import type { SandboxPolicy } from '../policy/schema.js';
import type { Sandbox } from './types.js';

/**
 * The orchestrator's default sandbox factory. The container sandbox (and dockerode with it) is
 * loaded only when a policy asks for it, so subprocess runs do not pay for its start-up.
 */
export async function defaultCreateSandbox(policy: SandboxPolicy, audit: AuditTrail): Promise<Sandbox> {
  const { createSandbox } = await import('./create-sandbox.js');
  return createSandbox(policy, { audit });
}
