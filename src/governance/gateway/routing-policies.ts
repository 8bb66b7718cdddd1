import type { GatewayPolicy, Sensitivity } from '../../policy/schema.js';

export type ProviderKind = 'local' | 'cloud';
export type RoutingPolicyName = GatewayPolicy['routing'];

export interface Route {
  /** Provider kinds a task of this level may be sent to; empty means none. */
  allowed: ProviderKind[];
  recommended: ProviderKind | null;
}

export const SENSITIVITY_ORDER: readonly Sensitivity[] = ['PUBLIC', 'INTERNAL', 'SENSITIVE', 'CRITICAL'];

/**
 * Where each level may go. CRITICAL never leaves the machine under any policy.
 * - default: public and internal work may use the cloud (cheapest capable model); sensitive stays local.
 * - enterprise: a cloud under contract may also see sensitive work, though local is preferred.
 * - compliance: only public work may leave; everything else stays local.
 */
export const ROUTING_POLICIES: Record<RoutingPolicyName, Record<Sensitivity, Route>> = {
  default: {
    PUBLIC: { allowed: ['cloud', 'local'], recommended: 'cloud' },
    INTERNAL: { allowed: ['cloud', 'local'], recommended: 'cloud' },
    SENSITIVE: { allowed: ['local'], recommended: 'local' },
    CRITICAL: { allowed: ['local'], recommended: 'local' },
  },
  enterprise: {
    PUBLIC: { allowed: ['cloud', 'local'], recommended: 'cloud' },
    INTERNAL: { allowed: ['cloud', 'local'], recommended: 'cloud' },
    SENSITIVE: { allowed: ['local', 'cloud'], recommended: 'local' },
    CRITICAL: { allowed: ['local'], recommended: 'local' },
  },
  compliance: {
    PUBLIC: { allowed: ['local', 'cloud'], recommended: 'local' },
    INTERNAL: { allowed: ['local'], recommended: 'local' },
    SENSITIVE: { allowed: ['local'], recommended: 'local' },
    CRITICAL: { allowed: ['local'], recommended: 'local' },
  },
};

export function maxSensitivity(a: Sensitivity, b: Sensitivity): Sensitivity {
  return SENSITIVITY_ORDER.indexOf(a) >= SENSITIVITY_ORDER.indexOf(b) ? a : b;
}
