import * as z from 'zod';
import { EvidenceFile } from '../constants.js';
import type { Evidence } from './schema.js';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Our predicate: what the gate concluded about a run, and the digests it concluded it from. */
export const GATE_PREDICATE_TYPE = 'https://qualityfoundry.dev/attestation/gate-verdict/v1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const GatePredicateSchema = z.strictObject({
  runId: z.string(),
  verdict: z.enum(['pass', 'fail', 'needs_approval', 'blocked']),
  reasons: z.array(z.string()),
  planHash: sha256,
  policy: z.strictObject({ path: z.string(), sourceRef: z.string().nullable(), sha256 }),
  change: z.strictObject({ base: z.string().nullable(), head: z.string().nullable() }),
  /** sha256 of evidence.json's bytes, as also in the subject. */
  evidenceSha256: sha256,
  artifacts: z.array(z.strictObject({ path: z.string(), size: z.number().int(), sha256 })),
});

export const StatementSchema = z.strictObject({
  _type: z.literal(IN_TOTO_STATEMENT_TYPE),
  subject: z.array(z.strictObject({ name: z.string(), digest: z.strictObject({ sha256 }) })).min(1),
  predicateType: z.literal(GATE_PREDICATE_TYPE),
  predicate: GatePredicateSchema,
});

export type Statement = z.infer<typeof StatementSchema>;

/** What a statement is made of; every evidence version has these parts. */
export type StatementSource = Pick<Evidence, 'runId' | 'gate' | 'plan' | 'policy' | 'change' | 'artifacts'>;

/**
 * The in-toto Statement v1 of an evidence bundle: its subjects are evidence.json and every artifact
 * with their sha256; the predicate repeats the verdict and the digests, so a verifier that trusts
 * the key needs nothing else from the bundle to know what was concluded about which bytes.
 */
export function evidenceStatement(evidence: StatementSource, evidenceSha256: string): Statement {
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [
      { name: EvidenceFile.evidence, digest: { sha256: evidenceSha256 } },
      ...evidence.artifacts.map((artifact) => ({ name: artifact.path, digest: { sha256: artifact.sha256 } })),
    ],
    predicateType: GATE_PREDICATE_TYPE,
    predicate: {
      runId: evidence.runId,
      verdict: evidence.gate.verdict,
      reasons: evidence.gate.reasons,
      planHash: evidence.plan.planHash,
      policy: { path: evidence.policy.path, sourceRef: evidence.policy.sourceRef, sha256: evidence.policy.sha256 },
      change: { base: evidence.change.base, head: evidence.change.head },
      evidenceSha256,
      artifacts: evidence.artifacts.map(({ path, size, sha256: digest }) => ({ path, size, sha256: digest })),
    },
  };
}
