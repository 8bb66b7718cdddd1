import path from 'node:path';
import type { AuditTrail } from '../audit/audit-chain.js';
import { fileResponseCache, memoryResponseCache } from '../governance/gateway/response-cache.js';
import { SecureGateway } from '../governance/gateway/secure-gateway.js';
import type { Policy } from '../policy/schema.js';
import type { ChangeSet } from '../planner/change-set.js';
import type { LlmAccess } from '../tools/tool-definition.js';

/**
 * The run's one SecureGateway: every model call of every step goes through it, within the policy's
 * budget.llm_tokens, with the providers' API keys read from the runner's environment (and only
 * there). Answers are kept in the cache folder when the run has one, else for this run only.
 */
export function runGateway(
  policy: Policy,
  options: { env: Record<string, string | undefined>; change: ChangeSet; cacheDir?: string | undefined },
  audit: AuditTrail,
): LlmAccess {
  const gateway = new SecureGateway({
    policy: policy.gateway,
    audit: (event) => audit.record(event),
    env: options.env,
    tokenBudget: policy.budget.llm_tokens,
    cache: options.cacheDir === undefined ? memoryResponseCache() : fileResponseCache(path.join(options.cacheDir, 'responses')),
  });
  return { gateway, changedFiles: options.change.changedFiles, labels: options.change.labels };
}

/** The runner's environment without the providers' API keys: what the sandbox allowlist may pick from. */
export function withoutProviderKeys(policy: Policy, env: Record<string, string | undefined>): Record<string, string | undefined> {
  const keys = new Set(policy.gateway.providers.flatMap((provider) => (provider.api_key_env ? [provider.api_key_env] : [])));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !keys.has(name)));
}
