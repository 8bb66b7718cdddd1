import type { AuditTrail } from '../audit/audit-chain.js';
import { QfError } from '../errors.js';
import type { SandboxPolicy } from '../policy/schema.js';
import { SubprocessSandbox } from './subprocess-sandbox.js';
import type { Sandbox } from './types.js';

/** Picks the sandbox the policy asks for. */
export async function defaultCreateSandbox(policy: SandboxPolicy, audit: AuditTrail): Promise<Sandbox> {
  if (policy.mode === 'subprocess') return new SubprocessSandbox();
  audit.record({ actor: 'orchestrator', action: 'sandbox.refused', subject: 'sandbox', data: { mode: policy.mode } });
  throw new QfError('SANDBOX_UNAVAILABLE', 'The container sandbox is not wired in yet.');
}
