import * as z from 'zod';
import { EVIDENCE_SCHEMA_VERSION, EvidenceSchema, StepResultSchema, type Evidence } from './schema.js';

/** Version 1 had this on each step's sandbox: whether pytest ran in a Python started ahead of time. */
const SandboxV1Schema = StepResultSchema.shape.sandbox.unwrap().extend({
  warmStart: z.object({ used: z.boolean(), reason: z.string().optional() }).optional(),
});

/** evidence.json version 1, still read by `qf verify` and publish mode: version 2 with `warmStart`. */
export const EvidenceV1Schema = EvidenceSchema.extend({
  schemaVersion: z.literal(1),
  steps: z.array(StepResultSchema.extend({ sandbox: SandboxV1Schema.optional() })),
});
export type EvidenceV1 = z.infer<typeof EvidenceV1Schema>;

/** The same evidence as the current version. Check the seal before: it covers the version-1 content. */
export function upgradeEvidenceV1(evidence: EvidenceV1): Evidence {
  const steps = evidence.steps.map((step) => {
    if (!step.sandbox) return step;
    const { warmStart: _dropped, ...sandbox } = step.sandbox;
    return { ...step, sandbox };
  });
  return { ...evidence, schemaVersion: EVIDENCE_SCHEMA_VERSION, steps };
}
