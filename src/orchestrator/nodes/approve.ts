import { judge } from '../../gate/judge.js';
import { acceptApprovals } from '../accept-approvals.js';
import type { NodeResult, RunContext } from '../run-context.js';
import type { RunState } from '../run-state.js';

/**
 * approve: when the plan needs approval, the approvals that count for this plan and head commit.
 * Rejected: the run ends blocked. Not enough yet, or held: it stays here, resumable, waiting for a human.
 */
export async function approveNode(state: RunState, context: RunContext): Promise<NodeResult> {
  if (!state.approval.required) return (await heldRun(state, context)) ?? { next: 'execute', state };
  const { audit, subject } = context;
  const { policy } = context.policy;
  const plan = state.plan!;
  const lookup = await context.options.approvals.lookup(plan.planHash, state.change.head);
  const { accepted, notes } = acceptApprovals(lookup, {
    planHash: plan.planHash,
    headSha: state.change.head,
    ...(state.change.author ? { author: state.change.author } : {}),
    policy,
  });
  for (const note of notes) audit.record({ actor: 'orchestrator', action: 'approval.ignored', subject, data: { note } });
  for (const approval of accepted)
    audit.record({
      actor: approval.by,
      action: 'approval.accepted',
      subject,
      data: { planHash: approval.planHash, source: approval.source, headSha: approval.headSha ?? null },
    });
  const approval = { ...state.approval, approvals: accepted, rejected: lookup.rejected };

  if (lookup.rejected.length > 0) {
    for (const rejection of lookup.rejected)
      audit.record({ actor: rejection.by, action: 'approval.rejected', subject, data: { reason: rejection.reason, planHash: plan.planHash } });
    const reasons = lookup.rejected.map((rejection) => `Plan rejected by ${rejection.by}: ${rejection.reason}`);
    return {
      next: 'done',
      state: { ...state, approval: { ...approval, status: 'rejected' }, judgement: { verdict: 'blocked', rules: [], reasons } },
      data: { outcome: 'rejected' },
    };
  }
  if (accepted.length < state.approval.needed) {
    audit.record({
      actor: 'orchestrator',
      action: 'approval.waiting',
      subject,
      data: { planHash: plan.planHash, have: accepted.length, needed: state.approval.needed },
    });
    const judgement = judge({ policy, metrics: {}, steps: [], approvalWaiting: true, shortCircuit: null });
    judgement.reasons.push(`Needs ${state.approval.needed} approval(s), has ${accepted.length}. Why: ${state.approval.reason}.`, ...notes);
    return { stay: true, state: { ...state, approval: { ...approval, status: 'waiting' }, judgement } };
  }
  const approved: RunState = { ...state, approval: { ...approval, status: 'approved' }, judgement: null };
  return (await heldRun(approved, context)) ?? { next: 'execute', state: approved };
}

/**
 * A run that would go ahead but is held (`/qf hold` on the head commit) stays here, waiting for a
 * human like one that needs approval. Asked last, so a rejection or a missing approval says so first.
 */
async function heldRun(state: RunState, { options, audit, subject }: RunContext): Promise<NodeResult | null> {
  const hold = await options.approvals.hold?.(state.change.head);
  if (!hold) return null;
  audit.record({ actor: hold.by, action: 'run.held', subject, data: { reason: hold.reason, headSha: state.change.head } });
  const judgement = { verdict: 'needs_approval' as const, rules: [], reasons: [`Held by ${hold.by}: ${hold.reason}. Nothing runs until \`/qf unhold\`.`] };
  return { stay: true, state: { ...state, approval: { ...state.approval, status: 'held' }, judgement } };
}
