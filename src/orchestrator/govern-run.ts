import type { AuditTrail } from '../audit/audit-chain.js';
import type { StepResult } from '../evidence/schema.js';
import type { BlockingReport } from '../governance/psmp/types.js';
import { digestOf } from '../util/canonical-json.js';
import type { ArtifactLedger } from './artifact-ledger.js';

/** The PSMP type of a step's result: one per plan step, so two producers of it conflict. */
export const stepArtifactType = (stepId: string): string => `step:${stepId}`;

/**
 * Declares every finished step's result as a PSMP artifact and asks the ledger which conflicts
 * remain unresolved and whether they block in the policy's mode.
 */
export async function declareStepArtifacts(
  ledger: ArtifactLedger,
  steps: readonly StepResult[],
  context: { producerPrefix: string; iteration: number; artifactDigests: ReadonlyMap<string, string>; audit: AuditTrail; subject: string },
): Promise<BlockingReport> {
  for (const step of steps) {
    if (step.status === 'skipped' || step.status === 'refused' || step.status === 'interrupted') continue;
    const digest = digestOf({ status: step.status, metrics: step.metrics, artifacts: step.artifacts.map((path) => context.artifactDigests.get(path) ?? path) });
    await ledger.declare({
      type: stepArtifactType(step.id),
      producer: `${context.producerPrefix}${step.tool}`,
      iteration: context.iteration,
      digest,
      ref: step.artifacts[0] ?? null,
    });
    context.audit.record({ actor: 'orchestrator', action: 'psmp.declared', subject: context.subject, data: { type: stepArtifactType(step.id), digest } });
  }
  const report = await ledger.report();
  if (report.unresolved.length > 0) {
    context.audit.record({
      actor: 'orchestrator',
      action: 'psmp.report',
      subject: context.subject,
      data: { decision: report.decision, unresolved: report.unresolved.map((conflict) => conflict.id), reasons: report.reasons },
    });
  }
  return report;
}

/**
 * The findings that block, phrased for the verdict's reasons. In playground mode they are passed
 * on too (`wouldBlock`), so the judge can report what it let through.
 */
export function blockingFindings(report: BlockingReport): string[] {
  if (!report.blocked && !report.wouldBlock) return [];
  const prefix = report.decision === 'waiting_for_human' ? 'Escalated conflict waits for a human' : 'Conflict blocks the run';
  return report.reasons.map((reason) => `${prefix}: ${reason}`);
}
