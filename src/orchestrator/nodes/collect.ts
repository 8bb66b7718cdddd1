import { EvidenceFile } from '../../constants.js';
import { indexArtifacts } from '../../evidence/index-artifacts.js';
import { blockingFindings, declareStepArtifacts } from '../govern-run.js';
import type { NodeResult, RunContext } from '../run-context.js';
import type { RunState } from '../run-state.js';

/** collect: indexes the steps' artifacts and declares each step's result to PSMP, which reports the conflicts that block. */
export async function collectNode(state: RunState, context: RunContext): Promise<NodeResult> {
  const { outDir } = context.options;
  // summary.md is left out: it is (re)written when the run finishes. Files it refuses to read
  // (links, pipes) are audited once, when evidence.json indexes the folder.
  const artifacts = await indexArtifacts(outDir, [EvidenceFile.evidence, EvidenceFile.runState, EvidenceFile.summary, EvidenceFile.gitignore]);
  const digests = new Map(artifacts.map((entry) => [entry.path, entry.sha256]));
  const report = await declareStepArtifacts(context.ledger, state.steps, {
    producerPrefix: '',
    iteration: context.options.iteration ?? 1,
    artifactDigests: digests,
    audit: context.audit,
    subject: context.subject,
  });
  // Conflicts between runs are the bot's (it saw both runs); the run records which resolutions it was handed.
  const resolutions = await context.options.approvals.resolutions?.(state.change.head);
  for (const accepted of resolutions?.accepted ?? [])
    context.audit.record({ actor: accepted.by, action: 'conflict.resolution.accepted', subject: context.subject, data: { ...accepted } });
  for (const note of resolutions?.notes ?? [])
    context.audit.record({ actor: 'orchestrator', action: 'conflict.resolution.ignored', subject: context.subject, data: { note } });
  const collected = {
    artifacts,
    conflicts: report.unresolved.map((conflict) => ({ ...conflict })),
    blockingConflicts: report.blocked ? report.unresolved.length : 0,
    blockingFindings: blockingFindings(report),
  };
  return { next: 'judge', state: { ...state, collected } };
}
