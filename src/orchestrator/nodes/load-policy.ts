import type { NodeResult, RunContext } from '../run-context.js';
import type { RunState } from '../run-state.js';

/** load_policy: the policy was loaded and validated by the adapter; the run records which one it is. */
export async function loadPolicyNode(state: RunState, context: RunContext): Promise<NodeResult> {
  const { policy } = context;
  context.audit.record({
    actor: 'orchestrator',
    action: 'policy.loaded',
    subject: context.subject,
    data: { path: policy.path, sourceRef: policy.sourceRef, sha256: policy.sha256, mode: policy.policy.mode },
  });
  return { next: 'plan', state };
}
