import type { AuditTrail } from '../audit/audit-chain.js';
import type { SandboxPolicy } from '../policy/schema.js';
import { SubprocessSandbox } from './subprocess-sandbox.js';
import type { Sandbox } from './types.js';

/**
 * The orchestrator's default sandbox factory. The container sandbox (and dockerode with it, which
 * costs ~100 ms to load) is imported only when a policy asks for it.
 */
export async function defaultCreateSandbox(policy: SandboxPolicy, audit: AuditTrail): Promise<Sandbox> {
  if (policy.mode === 'subprocess') return new SubprocessSandbox();
  const { createSandbox } = await import('./create-sandbox.js');
  return createSandbox(policy, { audit });
}
