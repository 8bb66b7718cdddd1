import path from 'node:path';
import type { AuditEvent, AuditTrail } from '../audit/audit-chain.js';
import { EvidenceFile, QF_VERSION } from '../constants.js';
import { digestOf } from '../util/canonical-json.js';
import { indexArtifacts } from './index-artifacts.js';
import { writeFileAtomic } from './output-folder.js';
import { EVIDENCE_SCHEMA_VERSION, type ArtifactEntry, type Evidence } from './schema.js';

/** What evidence.json is made of, besides what writing it adds (schema version, producer, artifact index, audit trail). */
export type EvidenceInput = Omit<Evidence, 'schemaVersion' | 'producer' | 'artifacts' | 'audit'>;

/** The digest an `evidence.sealed` audit event carries: everything but the seal itself. */
export function evidenceSealDigest(evidence: Pick<Evidence, 'audit'>): string {
  return digestOf({ ...evidence, audit: evidence.audit.filter((event) => event.action !== 'evidence.sealed') });
}

/** The evidence object of a run (no I/O): what evidence.json holds before its seal. */
export function assembleEvidence(input: EvidenceInput, artifacts: ArtifactEntry[], events: readonly AuditEvent[]): Evidence {
  const { complete, incompleteReason, runId, startedAt, finishedAt, repro, policy, change, plan, approval, steps, metrics, gate, governance, shard, merge } =
    input;
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    complete,
    ...(incompleteReason !== undefined ? { incompleteReason } : {}),
    runId,
    startedAt,
    finishedAt,
    producer: { name: 'qualityfoundry', version: QF_VERSION },
    repro,
    policy,
    change,
    plan,
    approval,
    steps,
    metrics,
    gate,
    artifacts,
    governance,
    ...(shard ? { shard } : {}),
    ...(merge ? { merge } : {}),
    audit: [...events],
  };
}

/**
 * Writes evidence.json: indexes every regular file in the folder (raw reports, summary.md; `known`
 * entries are reused; links, pipes and oversized files are refused and audited), assembles the evidence and seals it with a last audit event carrying its
 * digest.
 */
export async function writeEvidence(outDir: string, input: EvidenceInput, audit: AuditTrail, known: readonly ArtifactEntry[] = []): Promise<Evidence> {
  // The envelope is written after the seal (it signs evidence.json), so it is never an artifact.
  const artifacts = await indexArtifacts(
    outDir,
    [EvidenceFile.evidence, EvidenceFile.runState, EvidenceFile.signature, EvidenceFile.gitignore],
    known,
    (refused) => audit.record({ actor: 'qf', action: 'artifact.refused', subject: input.runId, data: { ...refused } }),
  );
  const evidence = assembleEvidence(input, artifacts, audit.events);
  audit.record({ actor: 'qf', action: 'evidence.sealed', subject: input.runId, data: { digest: evidenceSealDigest(evidence), complete: input.complete } });
  evidence.audit = [...audit.events];
  await writeFileAtomic(path.join(outDir, EvidenceFile.evidence), `${JSON.stringify(evidence, null, 2)}\n`);
  return evidence;
}
