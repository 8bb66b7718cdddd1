import type { GateRuleResult, StepResult, Verdict } from '../evidence/schema.js';
import type { GateOp, GateRule, Policy } from '../policy/schema.js';
import { formatNumber } from '../util/format-number.js';

const COMPARE: Record<GateOp, (observed: number, expected: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

export interface JudgeInput {
  /** `require_steps` absent counts as false (older policies, golden cases). */
  policy: Pick<Policy, 'mode' | 'gate'> & Partial<Pick<Policy, 'require_steps'>>;
  metrics: Record<string, number>;
  steps: readonly Pick<StepResult, 'id' | 'status' | 'reason'>[];
  approvalWaiting: boolean;
  shortCircuit: { reason: string; atStep: string | null; kind?: 'budget' | 'fail_fast' } | null;
  /** Governance findings that block in the policy's mode (conflicts, vetoes). */
  blockingFindings?: readonly string[];
}

export interface Judgement {
  verdict: Verdict;
  rules: GateRuleResult[];
  reasons: string[];
}

/** Said when no plan rule matched: nothing ran, so there is nothing for the gate to fail. */
export const NO_STEP_APPLIED =
  'No step applied to this change (no plan rule matched its changed files), so nothing ran and the gate passes: nothing it checks changed. Set `require_steps: true` in the policy to fail such a change instead.';

function passReason(rules: readonly GateRuleResult[], steps: number): string {
  if (steps === 0) return NO_STEP_APPLIED;
  const held = rules.filter((rule) => rule.status === 'pass').length;
  const unmeasured = rules.length - held;
  if (rules.length === 0) return 'There are no gate rules and every step finished.';
  if (unmeasured === 0) return `All ${rules.length} gate rules hold.`;
  return `${held} of ${rules.length} gate rules hold; ${unmeasured} not measured.`;
}

export function evaluateRule(rule: Pick<GateRule, 'id' | 'metric' | 'op' | 'value' | 'if_missing'>, metrics: Record<string, number>): GateRuleResult {
  const observed = metrics[rule.metric];
  const base = { id: rule.id, metric: rule.metric, op: rule.op, expected: rule.value };
  if (observed === undefined) {
    const status = rule.if_missing === 'fail' ? 'fail' : 'skipped';
    return { ...base, observed: null, status, reason: `${rule.metric} was not measured by any step (if_missing: ${rule.if_missing})` };
  }
  const holds = COMPARE[rule.op](observed, rule.value);
  return {
    ...base,
    observed,
    status: holds ? 'pass' : 'fail',
    reason: `${rule.metric} is ${formatNumber(observed)}, expected ${rule.op} ${formatNumber(rule.value)}`,
  };
}

/**
 * Decides the verdict. Order matters: a plan waiting for a human was never run; a run that could
 * not be completed (budget spent, tool refused, blocking governance finding) is blocked, not
 * failed; then the policy's rules decide, plus two rules no policy can turn off: every step must
 * finish (a crashed or timed-out step measured nothing, so no rule could fail it), and no step may
 * have failed (a threshold such as a pass rate never outvotes the tool's own verdict). Playground
 * mode reports the would-be verdict and passes.
 */
export function judge(input: JudgeInput): Judgement {
  if (input.approvalWaiting) {
    return { verdict: 'needs_approval', rules: [], reasons: ['The plan needs a human approval before it runs.'] };
  }
  const rules = input.policy.gate.map((rule) => evaluateRule(rule, input.metrics));
  const reasons: string[] = [];
  let verdict: Verdict = 'pass';

  // A fail-fast step that did not pass is a failure, not a run that could not be completed: the
  // steps it skipped were skipped because the policy said so. A spent budget blocks.
  const failFast = input.shortCircuit?.kind === 'fail_fast' ? input.shortCircuit : null;
  const skipped = input.steps.filter((step) => step.status === 'skipped').map((step) => step.id);
  const failFastReasons = failFast
    ? [`Step ${failFast.atStep ?? '?'} did not pass and is fail_fast${skipped.length > 0 ? `: not run ${skipped.join(', ')}` : ''}.`]
    : [];
  const noSteps =
    input.policy.require_steps && input.steps.length === 0
      ? ['No step applied to this change, and the policy requires one (require_steps: true): nothing was tested.']
      : [];
  const blockers = [
    ...(input.shortCircuit && !failFast ? [`Run stopped early: ${input.shortCircuit.reason}`] : []),
    ...input.steps.filter((step) => step.status === 'refused').map((step) => `Step ${step.id} was refused: ${step.reason ?? 'not allowed'}`),
    ...(input.blockingFindings ?? []),
  ];
  const unfinished = input.steps
    .filter((step) => step.status === 'error' || step.status === 'timed_out')
    .map((step) => `Step ${step.id} did not finish (${step.status}): ${step.reason ?? 'no reason given'}`);
  const failedRules = rules.filter((rule) => rule.status === 'fail').map((rule) => `Rule ${rule.id} failed: ${rule.reason}`);
  // No rule can pass a failed step: its tool said it failed (tests failed, a command exited non-zero,
  // or the exit status and the report disagree), and the metrics may come from a forged report.
  // Named only when no rule failed: otherwise the failed rules already say why the verdict is fail.
  const failedSteps =
    failedRules.length > 0
      ? []
      : input.steps.filter((step) => step.status === 'failed').map((step) => `Step ${step.id} failed: ${step.reason ?? 'no reason given'}`);

  if (blockers.length > 0) {
    verdict = 'blocked';
    reasons.push(...blockers);
  }
  if (noSteps.length > 0 || failFastReasons.length > 0 || unfinished.length > 0 || failedRules.length > 0 || failedSteps.length > 0) {
    if (verdict === 'pass') verdict = 'fail';
    reasons.push(...noSteps, ...failFastReasons, ...unfinished, ...failedRules, ...failedSteps);
  }
  if (input.policy.mode === 'playground' && verdict !== 'pass') {
    reasons.unshift(`Playground mode: the verdict would have been ${verdict}; reported, not enforced.`);
    verdict = 'pass';
  }
  if (reasons.length === 0) reasons.push(passReason(rules, input.steps.length));
  return { verdict, rules, reasons };
}
