import * as z from 'zod';

const StepFixture = z.strictObject({
  id: z.string(),
  status: z.enum(['passed', 'failed', 'error', 'timed_out', 'refused', 'skipped']),
  reason: z.string().optional(),
});

/** One regression case of the gate: policy and evidence in, verdict and reasons out. */
export const GoldenCaseSchema = z.strictObject({
  name: z.string().min(1),
  policy: z.string().optional().describe('Inline policy YAML.'),
  policy_file: z.string().optional().describe('Path of a policy file, relative to the dataset.'),
  evidence: z.strictObject({
    metrics: z.record(z.string(), z.number()).default({}),
    steps: z.array(StepFixture).default([]),
    approval_waiting: z.boolean().default(false),
    short_circuit: z.strictObject({ reason: z.string(), atStep: z.string().nullable() }).nullable().default(null),
  }),
  expect: z.strictObject({
    verdict: z.enum(['pass', 'fail', 'needs_approval', 'blocked']),
    rules: z.record(z.string(), z.enum(['pass', 'fail', 'skipped'])).default({}),
    reasons: z.array(z.string()).default([]).describe("Each must equal one of the verdict's reasons."),
  }),
});

export const GoldenDatasetSchema = z.strictObject({ cases: z.array(GoldenCaseSchema).min(1) });

export type GoldenCase = z.infer<typeof GoldenCaseSchema>;
