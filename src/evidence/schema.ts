import * as z from 'zod';

/**
 * evidence.json, version 2: everything needed to re-check a verdict later. The publish half of the
 * Action treats it as untrusted input and validates it with this schema before believing any of it.
 */

/** Version 2 dropped `steps[].sandbox.warmStart` (see evidence-v1.ts, which still reads version 1). */
export const EVIDENCE_SCHEMA_VERSION = 2;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case sha256 hex digest');

export const TestOutcomeSchema = z.enum(['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed']);

export const TestCaseSchema = z.object({
  /** pytest node id when it can be rebuilt (`tests/test_x.py::test_y`), else classname::name. */
  id: z.string(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  outcome: TestOutcomeSchema,
  durationSeconds: z.number(),
  /** Failure / error / skip message, capped. */
  message: z.string().optional(),
  /** Traceback text, capped. */
  details: z.string().optional(),
});

export const TestCountsSchema = z.object({
  total: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  errors: z.number().int(),
  skipped: z.number().int(),
  xfailed: z.number().int(),
  xpassed: z.number().int(),
  /** pytest 9 subtests (`subtests.test(…)`) that passed and failed; they are not tests of their own. */
  subtestsPassed: z.number().int().optional(),
  subtestsFailed: z.number().int().optional(),
  /** Tests collected but deselected (`-k`, `-m`, `--deselect`): not run, not counted in total. */
  deselected: z.number().int().optional(),
});

export const EvalCaseStatusSchema = z.enum(['passed', 'failed', 'error', 'vetoed', 'skipped']);

/** How a case's head result compares with its base result (run_evals with a base commit). */
export const EvalComparisonSchema = z.enum(['regressed', 'fixed', 'unchanged', 'new', 'removed']);

/** One eval case's result. Texts (input, outputs) are JSON, cut to a few hundred characters; the step's evals.json has them whole. */
export const EvalCaseResultSchema = z.object({
  suite: z.string(),
  id: z.string(),
  /** Of the head; for a removed case, of the base. */
  status: EvalCaseStatusSchema,
  /** Runs made (repeat) and how many passed. */
  runs: z.number().int(),
  passes: z.number().int(),
  /** Mean weighted score of its runs, 0–1. */
  score: z.number(),
  input: z.string(),
  expected: z.string().optional(),
  output: z.string().optional(),
  /** Why it did not pass: the failed assertions of its first failing run, the error, the veto or why it was skipped. */
  failures: z.array(z.string()),
  tokens: z.number(),
  costUsd: z.number(),
  comparison: EvalComparisonSchema.optional(),
  baseStatus: EvalCaseStatusSchema.optional(),
  baseOutput: z.string().optional(),
});

export const EvalSuiteResultSchema = z.object({
  name: z.string(),
  file: z.string(),
  /** sha256 of the suite file (and its cases file). */
  digest: sha256,
  total: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  errors: z.number().int(),
  vetoed: z.number().int(),
  skipped: z.number().int(),
  passRate: z.number(),
  /** pass^k: the share of cases every one of whose k runs (repeat) passed. */
  passK: z.number(),
  tokens: z.number(),
  costUsd: z.number(),
  regressions: z.number().int(),
  fixed: z.number().int(),
});

/** `interrupted`: the run was stopped (Ctrl-C) while this step ran; only in evidence marked incomplete. */
export const StepStatusSchema = z.enum(['passed', 'failed', 'error', 'timed_out', 'refused', 'skipped', 'interrupted']);

export const ShardRefSchema = z.object({ index: z.number().int().min(1), total: z.number().int().min(1) });

/** A sharded run's step: which of the tests it collected this shard ran, and what the split rests on. */
export const StepSelectionSchema = z.object({
  shard: ShardRefSchema,
  /** Tests pytest collected (`--collect-only -q` in the sandbox), and the sha256 of their sorted ids, one a line. */
  collected: z.number().int(),
  collectedSha256: sha256,
  /** Tests this shard ran, and the sha256 of their sorted ids, one a line (the list file). */
  selected: z.number().int(),
  selectedSha256: sha256,
  /** Path of the list of this shard's test ids, relative to the evidence folder. */
  list: z.string(),
  balancedBy: z.enum(['timings', 'file-size']),
  /** Collected tests the timing history had a duration for. */
  withHistory: z.number().int(),
  note: z.string(),
});

export const StepResultSchema = z.object({
  id: z.string(),
  tool: z.string(),
  status: StepStatusSchema,
  /** Why the step has this status, in one sentence (refused, skipped, errored). */
  reason: z.string().optional(),
  attempts: z.number().int(),
  durationMs: z.number(),
  sandbox: z
    .object({
      mode: z.enum(['subprocess', 'container']),
      exitCode: z.number().int().nullable(),
      signal: z.string().nullable(),
      timedOut: z.boolean(),
      oomKilled: z.boolean(),
      imageDigest: z.string().optional(),
      fallbackReason: z.string().optional(),
      /** Container mode: the OOM killer ended a process of the step other than the command (whose exit code stands). */
      oomKilledDescendant: z.boolean().optional(),
      /** How the step's processes were kept from qf's: whether tested code could read qf's environment through /proc, whether every process it started ended with it. */
      isolation: z
        .object({
          mechanism: z.enum(['user+pid namespace', 'pid namespace', 'container', 'none']),
          hostProcessesProtected: z.boolean(),
          descendantsEnded: z.boolean(),
          note: z.string(),
        })
        .optional(),
      /** Variables left out of the step's environment because their value is a credential: names and formats, never values. */
      envDropped: z.array(z.object({ name: z.string(), format: z.string() })).optional(),
      /** Container mode: the output folder's bounds, what came out of it and what was refused (links, pipes, files past the limit). */
      output: z
        .object({
          limitBytes: z.number().int(),
          maxFiles: z.number().int(),
          files: z.number().int(),
          bytes: z.number().int(),
          refused: z.array(z.object({ path: z.string(), reason: z.string() })),
          refusedUnlisted: z.number().int(),
        })
        .optional(),
      stdoutTail: z.string(),
      stderrTail: z.string(),
      droppedBytes: z.number().int(),
    })
    .optional(),
  /** Metrics this step published, e.g. { "pytest.failed": 2 }. */
  metrics: z.record(z.string(), z.number()),
  /** pytest steps: counts and every test that did not pass or skip (all tests stay in the raw report). */
  tests: z.object({ counts: TestCountsSchema, notable: z.array(TestCaseSchema), truncated: z.boolean() }).optional(),
  /** run_evals steps: per suite counts, and the cases worth a look (not passed, or changed since the base), worst first. */
  evals: z.object({ suites: z.array(EvalSuiteResultSchema), cases: z.array(EvalCaseResultSchema), truncated: z.boolean() }).optional(),
  /** Artifact paths (relative to the evidence folder) this step produced. */
  artifacts: z.array(z.string()),
  /** Sharded runs: the tests this shard ran out of those collected. */
  selection: StepSelectionSchema.optional(),
});

export const ArtifactEntrySchema = z.object({
  path: z.string().describe('Relative to the folder holding evidence.json.'),
  size: z.number().int(),
  sha256,
});

export const GateRuleResultSchema = z.object({
  id: z.string(),
  metric: z.string(),
  op: z.string(),
  expected: z.number(),
  observed: z.number().nullable(),
  status: z.enum(['pass', 'fail', 'skipped']),
  reason: z.string(),
});

export const ShortCircuitKindSchema = z.enum(['budget', 'fail_fast']);

export const VerdictSchema = z.enum(['pass', 'fail', 'needs_approval', 'blocked']);

export const ApprovalRecordSchema = z.object({
  by: z.string(),
  at: z.string(),
  planHash: sha256,
  headSha: z.string().optional(),
  source: z.string().describe('Where the approval came from: cli, file, check-run, bot.'),
});

export const AuditEventSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  data: z.record(z.string(), z.unknown()),
  prevHash: sha256,
  hash: sha256,
});

export const EvidenceSchema = z.object({
  schemaVersion: z.literal(EVIDENCE_SCHEMA_VERSION),
  complete: z.boolean(),
  incompleteReason: z.string().optional(),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  producer: z.object({ name: z.literal('qualityfoundry'), version: z.string() }),
  repro: z.object({
    gitSha: z.string().nullable(),
    branch: z.string().nullable(),
    dirty: z.boolean().nullable(),
    dependencyFingerprint: z.object({ sha256, files: z.array(z.object({ path: z.string(), sha256 })) }),
    versions: z.object({ node: z.string(), python: z.string().nullable(), pytest: z.string().nullable() }),
  }),
  policy: z.object({ path: z.string(), sourceRef: z.string().nullable(), sha256, mode: z.enum(['strict', 'adaptive', 'playground']) }),
  change: z.object({
    base: z.string().nullable(),
    head: z.string().nullable(),
    changedFiles: z.array(z.string()),
    labels: z.array(z.string()),
    /** `qf run --head`: the steps ran on a clean temporary checkout of `head` (a git worktree, removed after); the refs as given, `base` and `head` being the commits they resolved to. */
    checkout: z.object({ base: z.string(), head: z.string() }).optional(),
  }),
  plan: z.object({
    planHash: sha256,
    steps: z.array(
      z.object({
        id: z.string(),
        tool: z.string(),
        input: z.record(z.string(), z.unknown()),
        matched: z.array(z.string()),
        failFast: z.boolean(),
        /** The policy's `depends_on` of the step, when it names any. */
        dependsOn: z.array(z.string()).optional(),
      }),
    ),
  }),
  approval: z.object({
    required: z.boolean(),
    reason: z.string().optional(),
    needed: z.number().int(),
    status: z.enum(['not_required', 'approved', 'waiting', 'rejected', 'held']),
    approvals: z.array(ApprovalRecordSchema),
    rejected: z.array(z.object({ by: z.string(), reason: z.string() })),
  }),
  steps: z.array(StepResultSchema),
  metrics: z.record(z.string(), z.number()),
  gate: z.object({ verdict: VerdictSchema, rules: z.array(GateRuleResultSchema), reasons: z.array(z.string()) }),
  artifacts: z.array(ArtifactEntrySchema),
  governance: z.object({
    mode: z.enum(['strict', 'adaptive', 'playground']),
    budget: z.object({ totalSeconds: z.number(), usedSeconds: z.number(), maxRetries: z.number().int(), retries: z.number().int() }),
    /** Why steps were skipped. `kind` (absent in older bundles): `budget` spent, or a `fail_fast` step that did not pass. */
    shortCircuit: z.object({ reason: z.string(), atStep: z.string().nullable(), kind: ShortCircuitKindSchema.optional() }).nullable(),
    conflicts: z.array(z.record(z.string(), z.unknown())),
    vetoes: z.array(z.record(z.string(), z.unknown())),
  }),
  /** One shard of a matrix (`qf run --shard I/N`): which, and the digest of every step's selection. */
  shard: ShardRefSchema.extend({ selectionSha256: sha256 }).optional(),
  /** Evidence merged from a matrix's shards (`qf merge`, `mode: merge`): each shard's bundle, copied under `bundle`. */
  merge: z
    .object({
      total: z.number().int(),
      shards: z.array(
        z.object({
          index: z.number().int(),
          /** Folder of the shard's bundle inside this one, e.g. `shards/2`; null when it was missing or rejected. */
          bundle: z.string().nullable(),
          runId: z.string().nullable(),
          headSha: z.string().nullable(),
          planHash: z.string().nullable(),
          verdict: VerdictSchema.nullable(),
          /** The seal digest of the shard's evidence.json. */
          evidenceDigest: z.string().nullable(),
          /** The artifact it came from, when downloaded (name, id, sha256 of the zip). */
          artifact: z.object({ name: z.string(), id: z.number().int().nullable(), sha256: z.string().nullable() }).nullable(),
          problems: z.array(z.string()),
        }),
      ),
    })
    .optional(),
  audit: z.array(AuditEventSchema),
});

export type Evidence = z.infer<typeof EvidenceSchema>;
export type StepResult = z.infer<typeof StepResultSchema>;
export type StepSelection = z.infer<typeof StepSelectionSchema>;
export type EvalCaseResult = z.infer<typeof EvalCaseResultSchema>;
export type EvalSuiteResult = z.infer<typeof EvalSuiteResultSchema>;
export type EvalCaseStatus = z.infer<typeof EvalCaseStatusSchema>;
export type StepStatus = z.infer<typeof StepStatusSchema>;
export type TestCase = z.infer<typeof TestCaseSchema>;
export type TestCounts = z.infer<typeof TestCountsSchema>;
export type TestOutcome = z.infer<typeof TestOutcomeSchema>;
export type GateRuleResult = z.infer<typeof GateRuleResultSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;
export type ArtifactEntry = z.infer<typeof ArtifactEntrySchema>;
