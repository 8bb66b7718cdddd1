import { approvalRequirement, buildPlan } from '../../planner/build-plan.js';
import type { NodeResult, RunContext } from '../run-context.js';
import type { RunState } from '../run-state.js';

/** plan: the steps the change needs and whether a human must approve them first. */
export async function planNode(state: RunState, context: RunContext): Promise<NodeResult> {
  const plan = buildPlan(context.policy, state.change);
  const requirement = approvalRequirement(context.policy, state.change);
  const approval = {
    ...state.approval,
    required: requirement.required,
    needed: requirement.needed,
    ...(requirement.reason ? { reason: requirement.reason } : {}),
  };
  context.audit.record({
    actor: 'orchestrator',
    action: 'plan.built',
    subject: context.subject,
    data: { planHash: plan.planHash, steps: plan.steps.map((step) => step.id), approvalRequired: requirement.required },
  });
  return { next: 'approve', state: { ...state, plan, approval }, data: { planHash: plan.planHash } };
}
