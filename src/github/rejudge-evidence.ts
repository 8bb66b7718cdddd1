import type { Evidence, Verdict } from '../evidence/schema.js';
import { judge } from '../gate/judge.js';
import { acceptApprovals } from '../orchestrator/accept-approvals.js';
import { collectMetrics } from '../orchestrator/collect-metrics.js';
import type { ApprovalSource } from '../orchestrator/types.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { approvalRequirement, buildPlan } from '../planner/build-plan.js';

/** How strict a verdict is: a claim may be stricter than what the rules give, never looser. */
const STRICTNESS: Record<Verdict, number> = { pass: 0, fail: 1, blocked: 2, needs_approval: 2 };

/**
 * Re-derives what an untrusted run should have concluded from the base commit's policy: the plan
 * its change calls for, the metrics its steps add up to, the verdict the gate rules give, and —
 * through the checks API, not the bundle's word — whether the approvals it needed exist. A fork can
 * still lie about what its tests did (that is inherent to the two-workflow pattern), but it cannot
 * pick its own plan, rules, arithmetic or approvals.
 */
export async function rejudgeEvidence(evidence: Evidence, basePolicy: LoadedPolicy, approvals: ApprovalSource): Promise<string[]> {
  const problems: string[] = [];
  const change = { base: evidence.change.base, head: evidence.change.head, changedFiles: evidence.change.changedFiles, labels: evidence.change.labels };
  const plan = buildPlan(basePolicy, change);
  if (plan.planHash !== evidence.plan.planHash) {
    problems.push(`the plan ${evidence.plan.planHash.slice(0, 12)}… is not the one the base policy gives for this change (${plan.planHash.slice(0, 12)}…)`);
  }

  const recomputed = collectMetrics(evidence.steps, { usedMs: evidence.governance.budget.usedSeconds * 1000, retries: evidence.governance.budget.retries });
  for (const [name, value] of Object.entries(recomputed)) {
    if (name.startsWith('budget.')) continue;
    if (evidence.metrics[name] !== value) problems.push(`metric ${name} is ${evidence.metrics[name]} in the evidence, its steps add up to ${value}`);
  }

  const requirement = approvalRequirement(basePolicy, change);
  let approvalWaiting = false;
  if (requirement.required && evidence.gate.verdict !== 'needs_approval') {
    const lookup = await approvals.lookup(plan.planHash, evidence.change.head);
    const { accepted } = acceptApprovals(lookup, { planHash: plan.planHash, headSha: evidence.change.head, policy: basePolicy.policy });
    if (accepted.length < requirement.needed) {
      approvalWaiting = true;
      problems.push(
        `the plan needs ${requirement.needed} approval(s) and the checks API shows ${accepted.length}; the evidence's own approval records are not taken on trust`,
      );
    }
  }

  const expected = judge({
    policy: basePolicy.policy,
    metrics: evidence.metrics,
    steps: evidence.steps,
    approvalWaiting,
    shortCircuit: evidence.governance.shortCircuit,
  });
  if (STRICTNESS[evidence.gate.verdict] < STRICTNESS[expected.verdict]) {
    problems.push(`the evidence claims ${evidence.gate.verdict}, the base policy's rules give ${expected.verdict}: ${expected.reasons.join('; ')}`);
  }
  return problems;
}
