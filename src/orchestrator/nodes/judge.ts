import { judge } from '../../gate/judge.js';
import { vetoFindings } from '../../gate/veto-findings.js';
import type { NodeResult, RunContext } from '../run-context.js';
import { runMetrics } from '../run-metrics.js';
import type { RunState } from '../run-state.js';

/** judge: the gate's rules over the run's metrics and steps, plus what blocks (short-circuit, PSMP). */
export async function judgeNode(state: RunState, context: RunContext): Promise<NodeResult> {
  const judgement = judge({
    policy: context.policy.policy,
    metrics: runMetrics(state),
    steps: state.steps,
    approvalWaiting: false,
    shortCircuit: state.shortCircuit,
    blockingFindings: [...(state.collected?.blockingFindings ?? []), ...vetoFindings(context.policy.policy.mode, state.vetoes ?? [])],
  });
  context.audit.record({
    actor: 'gate',
    action: 'gate.decided',
    subject: context.subject,
    data: { verdict: judgement.verdict, failedRules: judgement.rules.filter((rule) => rule.status === 'fail').map((rule) => rule.id) },
  });
  return { next: 'done', state: { ...state, judgement }, data: { verdict: judgement.verdict } };
}
