import * as z from 'zod';

/**
 * The HTTP API's shapes in zod: Fastify validates query strings and params with them (through
 * fastify-type-provider-zod) and /api/v1/openapi.json is generated from the same schemas.
 */

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

const Json = z.record(z.string(), z.unknown());

export const ApiError = z
  .object({
    status: z.number().int(),
    error: z.string().describe('A stable code: missing_token, invalid_token, insufficient_scope, bad_parameter, not_found'),
    message: z.string(),
    parameter: z.string().optional().describe('For 400: the query or path parameter that was refused'),
  })
  .meta({ id: 'ApiError' });

/** YYYY-MM-DD (a whole UTC day) or an ISO-8601 date-time with an offset. */
const Instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'expected YYYY-MM-DD or an ISO-8601 date-time' });

export const PageQuery = z.object({
  per_page: z.coerce
    .number({ error: `expected a whole number from 1 to ${MAX_PER_PAGE}` })
    .int({ error: `expected a whole number from 1 to ${MAX_PER_PAGE}` })
    .min(1, { error: `expected a whole number from 1 to ${MAX_PER_PAGE}` })
    .max(MAX_PER_PAGE, { error: `at most ${MAX_PER_PAGE} per page` })
    .default(DEFAULT_PER_PAGE)
    .describe(`Items per page (default ${DEFAULT_PER_PAGE}, at most ${MAX_PER_PAGE})`),
  after: z.string().max(2000).optional().describe('Opaque cursor: the Link header\'s rel="next" carries it; never build one by hand'),
});

export const ProjectParams = z.object({
  owner: z.string().min(1).max(100),
  repo: z.string().min(1).max(100),
});

export const RunParams = ProjectParams.extend({ run_id: z.string().min(1).max(300).describe('The run record id (URL-encoded)') });

/** A branch name as git allows it, roughly: no spaces, controls or the characters git refuses in refs. */
const BranchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s~^:?*[\\\p{Cc}]+$/u, { error: 'expected a branch name (e.g. main)' });

export const RunsQuery = PageQuery.extend({
  verdict: z.string().max(40).optional(),
  branch: BranchName.optional().describe('Only runs pushed to this branch of the repository (pull request runs have no branch)'),
  head_sha: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/i, { error: 'expected a hex commit SHA' })
    .optional(),
});

export const TimingsQuery = z.object({ branch: BranchName });

export const Timings = z
  .object({
    runId: z.string().describe('The run the durations come from: the latest run pushed to the branch that recorded test results'),
    headSha: z.string().nullable(),
    startedAt: z.string(),
    tests: z.record(z.string(), z.number()).describe("Each test's duration in seconds (summed over the run's steps), as `qf run --timings` reads it"),
  })
  .meta({ id: 'Timings' });

export const ArtifactsQuery = PageQuery.extend({
  run_id: z.string().max(300).optional(),
  type: z.string().max(200).optional(),
});

export const ConflictsQuery = PageQuery.extend({
  status: z.enum(['open', 'retrying', 'escalated', 'resolved', 'satisfied']).optional(),
});

export const PeriodQuery = z.object({
  since: Instant.optional().describe('Inclusive; a date means 00:00 UTC of that day'),
  until: Instant.optional().describe('Exclusive for a date-time; a date includes its whole day'),
});

export const ApprovalsQuery = PageQuery.extend(PeriodQuery.shape);

export const AuditQuery = PageQuery.extend(PeriodQuery.shape).extend({
  chain: z.string().max(300).optional().describe('One audit chain, e.g. project:owner/repo or run:…'),
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
});

export const ReportQuery = PeriodQuery.extend({
  format: z.enum(['json', 'md', 'csv']).default('json'),
  pull: z.coerce.number({ error: 'expected a pull request number' }).int().positive().optional().describe("Adds that pull request's own audit trail"),
});

export const Project = z.object({ id: z.string(), createdAt: z.string() }).meta({ id: 'Project' });

export const Run = z
  .object({
    id: z.string(),
    projectId: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    mode: z.string(),
    verdict: z.string().nullable(),
    headSha: z.string().nullable(),
    branch: z.string().nullable().optional().describe('The branch the run was pushed to; absent for pull request runs'),
    data: Json.describe('Verdict reasons, rules, durations, steps and where the evidence came from'),
  })
  .meta({ id: 'Run' });

export const Artifact = z
  .object({
    id: z.string(),
    projectId: z.string(),
    runId: z.string().nullable(),
    type: z.string(),
    producer: z.string(),
    iteration: z.number().int(),
    version: z.number().int(),
    dependsOn: z.array(z.string()),
    digest: z.string(),
    ref: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Artifact' });

export const Conflict = z
  .object({
    id: z.string(),
    projectId: z.string(),
    runId: z.string().nullable(),
    kind: z.string(),
    artifactIds: z.array(z.string()),
    message: z.string(),
    details: Json,
    lowRisk: z.boolean(),
    status: z.string(),
    createdAt: z.string(),
    escalatedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    resolutions: z.array(
      z.object({
        strategy: z.enum(['RETRY', 'OVERRIDE', 'MERGE', 'ESCALATE']),
        by: z.string(),
        reason: z.string(),
        at: z.string(),
        winner: z.string().optional(),
        mergedArtifactId: z.string().optional(),
        retriedAs: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Conflict' });

export const Approval = z
  .object({
    projectId: z.string(),
    runId: z.string().nullable(),
    planHash: z.string(),
    by: z.string(),
    permission: z.string(),
    at: z.string(),
    source: z.string(),
  })
  .meta({ id: 'Approval' });

export const Checkpoint = z
  .object({
    id: z.string(),
    projectId: z.string(),
    label: z.string(),
    createdAt: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    artifactCount: z.number().int(),
  })
  .meta({ id: 'Checkpoint' });

export const AuditEvent = z
  .object({
    chain: z.string(),
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string(),
    data: Json,
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const ChainVerification = z.object({
  chain: z.string(),
  ok: z.boolean(),
  count: z.number().int(),
  brokenSeq: z.number().int().optional(),
  reason: z.string().optional(),
});

export const RunEvidence = z
  .object({
    run: Run,
    /** The evidence's own audit trail, as stored hash for hash on the run's chain. */
    audit: z.array(AuditEvent),
    chain: ChainVerification,
    artifacts: z.array(Artifact),
  })
  .meta({ id: 'RunEvidence' });
