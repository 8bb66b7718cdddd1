import path from 'node:path';
import type { AuditEvent, AuditTrail } from '../audit/audit-chain.js';
import { EvidenceFile, QF_VERSION } from '../constants.js';
import type { Judgement } from '../gate/judge.js';
import type { RunState } from '../orchestrator/run-state.js';
import type { Policy } from '../policy/schema.js';
import { digestOf } from '../util/canonical-json.js';
import { indexArtifacts } from './artifact-index.js';
import { writeFileAtomic } from './output-folder.js';
import { EVIDENCE_SCHEMA_VERSION, type ArtifactEntry, type Evidence } from './schema.js';

export interface EvidenceParts {
  state: RunState;
  policy: Policy;
  judgement: Judgement;
  metrics: Record<string, number>;
  repro: Evidence['repro'];
  finishedAt: string;
  complete: boolean;
  incompleteReason?: string;
  governance?: Pick<Evidence['governance'], 'conflicts' | 'vetoes'>;
}

/** The digest an `evidence.sealed` audit event carries: everything but the seal itself. */
export function evidenceSealDigest(evidence: Pick<Evidence, 'audit'>): string {
  return digestOf({ ...evidence, audit: evidence.audit.filter((event) => event.action !== 'evidence.sealed') });
}

/** The evidence object of a run (no I/O): what evidence.json holds before its seal. */
export function assembleEvidence(parts: EvidenceParts, artifacts: ArtifactEntry[], events: readonly AuditEvent[]): Evidence {
  const { state } = parts;
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    complete: parts.complete,
    ...(parts.incompleteReason !== undefined ? { incompleteReason: parts.incompleteReason } : {}),
    runId: state.runId,
    startedAt: state.startedAt,
    finishedAt: parts.finishedAt,
    producer: { name: 'qualityfoundry', version: QF_VERSION },
    repro: parts.repro,
    policy: { ...state.policy, mode: parts.policy.mode },
    change: {
      base: state.change.base,
      head: state.change.head,
      changedFiles: state.change.changedFiles,
      labels: state.change.labels,
    },
    plan: { planHash: state.plan?.planHash ?? '0'.repeat(64), steps: state.plan?.steps ?? [] },
    approval: state.approval,
    steps: state.steps,
    metrics: parts.metrics,
    gate: parts.judgement,
    artifacts,
    governance: {
      mode: parts.policy.mode,
      budget: {
        totalSeconds: parts.policy.budget.total_seconds,
        usedSeconds: Math.round(state.budget.usedMs) / 1000,
        maxRetries: parts.policy.budget.max_retries,
        retries: state.budget.retries,
      },
      shortCircuit: state.shortCircuit,
      conflicts: parts.governance?.conflicts ?? [],
      vetoes: parts.governance?.vetoes ?? [],
    },
    audit: [...events],
  };
}

/**
 * Writes evidence.json: indexes every regular file in the folder (raw reports, summary.md; `known`
 * entries are reused; links, pipes and oversized files are refused and audited), assembles the evidence and seals it with a last audit event carrying its
 * digest.
 */
export async function writeEvidence(outDir: string, parts: EvidenceParts, audit: AuditTrail, known: readonly ArtifactEntry[] = []): Promise<Evidence> {
  // The envelope is written after the seal (it signs evidence.json), so it is never an artifact.
  const artifacts = await indexArtifacts(outDir, [EvidenceFile.evidence, EvidenceFile.runState, EvidenceFile.signature], known, (refused) =>
    audit.record({ actor: 'qf', action: 'artifact.refused', subject: parts.state.runId, data: { ...refused } }),
  );
  const evidence = assembleEvidence(parts, artifacts, audit.events);
  audit.record({ actor: 'qf', action: 'evidence.sealed', subject: parts.state.runId, data: { digest: evidenceSealDigest(evidence), complete: parts.complete } });
  evidence.audit = [...audit.events];
  await writeFileAtomic(path.join(outDir, EvidenceFile.evidence), JSON.stringify(evidence, null, 2) + '\n');
  return evidence;
}
