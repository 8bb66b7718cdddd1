import * as z from 'zod';

const StepFixture = z.strictObject({
  id: z.string(),
  status: z.enum(['passed', 'failed', 'error', 'timed_out', 'refused', 'skipped']),
  reason: z.string().optional(),
});

const Measured = z.strictObject({ latency_ms: z.number().optional(), tokens: z.number().optional(), cost_usd: z.number().optional() });

/** An eval suite scored against recorded outputs (no target, no model runs): its evals.* metrics join the evidence's. */
export const GoldenEvalsSchema = z.strictObject({
  suite: z.string().describe('An eval suite file (YAML); its target is never run.'),
  outputs: z.record(z.string(), z.unknown()).describe("Each case's output on the head, by case id; cases without one are left out."),
  base_outputs: z.record(z.string(), z.unknown()).optional().describe("Each case's output on the base: compared like run_evals compares base and head."),
  measurements: z.record(z.string(), Measured).default({}),
  judgements: z.record(z.string(), z.number().min(0).max(1)).default({}).describe("The judge model's score of each case's llm-rubric assertions."),
});
export type GoldenEvals = z.infer<typeof GoldenEvalsSchema>;

/** One regression case of the gate: policy and evidence in, verdict and reasons out. */
export const GoldenCaseSchema = z.strictObject({
  name: z.string().min(1),
  policy: z.string().optional().describe('Inline policy YAML.'),
  policy_file: z.string().optional().describe('Path of a policy file, relative to the dataset.'),
  evidence: z.strictObject({
    metrics: z.record(z.string(), z.number()).default({}),
    steps: z.array(StepFixture).default([]),
    approval_waiting: z.boolean().default(false),
    short_circuit: z
      .strictObject({ reason: z.string(), atStep: z.string().nullable(), kind: z.enum(['budget', 'fail_fast']).optional() })
      .nullable()
      .default(null),
    /** What the SecureGateway vetoed (evidence.governance.vetoes). */
    vetoes: z.array(z.strictObject({ taskId: z.string(), code: z.string(), message: z.string() })).default([]),
  }),
  evals: GoldenEvalsSchema.optional(),
  expect: z.strictObject({
    verdict: z.enum(['pass', 'fail', 'needs_approval', 'blocked']),
    rules: z.record(z.string(), z.enum(['pass', 'fail', 'skipped'])).default({}),
    reasons: z.array(z.string()).default([]).describe("Each must equal one of the verdict's reasons."),
    metrics: z.record(z.string(), z.number()).default({}).describe('Metrics (from `evals`) that must have exactly these values.'),
    cases: z.record(z.string(), z.string()).default({}).describe('Eval case id → its status, or status/comparison (e.g. "failed/regressed").'),
  }),
});

export const GoldenDatasetSchema = z.strictObject({ cases: z.array(GoldenCaseSchema).min(1) });

export type GoldenCase = z.infer<typeof GoldenCaseSchema>;
