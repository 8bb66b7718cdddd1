import type { LoadedPolicy } from '../policy/loaded-policy.js';
import { TOOL_CONTRACTS } from '../policy/tool-contracts.js';
import type { ChangeSet } from './change-set.js';
import { digestOf } from '../util/canonical-json.js';
import { matchChange } from './match-change.js';

export interface PlanStep {
  id: string;
  tool: string;
  /** The tool's input with its defaults applied, so the hash covers what will really run. */
  input: Record<string, unknown>;
  /** Why the step is in the plan. */
  matched: string[];
  failFast: boolean;
  /** The policy's `depends_on`: ids of the steps this one builds on (absent when it names none). */
  dependsOn?: string[];
}

export interface Plan {
  steps: PlanStep[];
  /** sha256 of the canonical JSON of the steps and the policy's digest: what an approval binds to. */
  planHash: string;
}

export interface ApprovalRequirement {
  required: boolean;
  reason?: string;
  needed: number;
}

export function buildPlan(loaded: LoadedPolicy, change: ChangeSet): Plan {
  const steps: PlanStep[] = [];
  loaded.policy.plan.forEach((rule, index) => {
    const matched = matchChange(rule.when, change);
    if (!matched) return;
    const contract = TOOL_CONTRACTS.get(rule.run);
    const parsed = contract?.input.safeParse({ ...contract.policyDefaults?.(loaded.policy), ...rule.with });
    steps.push({
      id: rule.id ?? `${rule.run}-${index + 1}`,
      tool: rule.run,
      input: (parsed?.success ? parsed.data : rule.with) as Record<string, unknown>,
      matched,
      failFast: rule.fail_fast,
      ...(rule.depends_on?.length ? { dependsOn: rule.depends_on } : {}),
    });
  });
  const planHash = digestOf({
    policySha256: loaded.sha256,
    steps: steps.map(({ id, tool, input, failFast, dependsOn }) => ({ id, tool, input, failFast, ...(dependsOn ? { dependsOn } : {}) })),
  });
  return { steps, planHash };
}

export function approvalRequirement(loaded: LoadedPolicy, change: ChangeSet): ApprovalRequirement {
  const { approval } = loaded.policy;
  const matched = matchChange(approval.required_when, change);
  if (!matched) return { required: false, needed: 0 };
  return { required: true, reason: matched.join('; '), needed: approval.count };
}
