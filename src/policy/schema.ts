import * as z from 'zod';
import { DEFAULT_ENV_ALLOWLIST } from './default-env-allowlist.js';

/**
 * The policy file's schema: the single source of truth for its shape. Each field's description is
 * its documentation; `policies/schema.json` is generated from it for editors (`qf schema`).
 * Semantic checks that need more than one field (known tools, known metrics, valid globs) live in
 * `validate-policy.ts`.
 */

const glob = z.string().min(1).describe('A picomatch glob matched against repository-relative paths, e.g. "src/**/*.py".');

export const SandboxModeSchema = z.enum(['subprocess', 'container']);

export const ContainerSchema = z
  .strictObject({
    image: z.string().min(1).describe('Image to run steps in, e.g. "qualityfoundry/python-sandbox:bookworm". It must already exist on the engine.'),
    memory_mb: z.number().int().min(16).default(512).describe('Memory limit in MiB; swap is not allowed on top of it.'),
    cpus: z.number().positive().max(64).default(1).describe('CPU limit in cores (fractions allowed).'),
    pids_limit: z.number().int().min(8).default(256).describe('Most processes and threads the step may have at once.'),
    tmpfs_mb: z.number().int().min(1).default(64).describe('Size of the writable, noexec /tmp.'),
    user: z.string().default('65534:65534').describe('uid:gid the step runs as; never root.'),
    nofile: z.number().int().min(64).default(1024).describe('Most open file descriptors per process (ulimit nofile).'),
    output_mb: z
      .number()
      .int()
      .min(1)
      .max(16_384)
      .default(256)
      .describe('Most MiB a step may leave in its output folder (a tmpfs of this size; writes past it fail with ENOSPC).'),
    output_max_files: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Most files and folders a step may leave in its output folder; more are refused and recorded.'),
  })
  .describe('Container sandbox settings; used when sandbox.mode is "container".');

export const SandboxSchema = z
  .strictObject({
    mode: SandboxModeSchema.default('subprocess').describe('"subprocess" runs on the runner; "container" runs in a hardened container on a Docker engine.'),
    timeout_seconds: z.number().int().positive().max(86_400).default(600).describe('Deadline of one step; at the deadline the step is killed.'),
    env_allowlist: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'an environment variable name, optionally ending in *'))
      .default([...DEFAULT_ENV_ALLOWLIST])
      .describe('Environment variables passed to tested code. Names like tokens, secrets, passwords or keys never pass, even when listed.'),
    max_output_bytes: z.number().int().min(1024).default(1_048_576).describe('Bytes of stdout and of stderr kept per step (the tail).'),
    python: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Python interpreter of every run_pytest step that names none in `with.python`, e.g. ".venv/bin/python". Absent: the first python3 on the PATH the step gets.',
      ),
    container: ContainerSchema.optional(),
    fallback: z
      .enum(['none', 'subprocess'])
      .default('none')
      .describe('What to do when the container engine or image is missing: refuse ("none") or run in the subprocess sandbox, recorded in evidence.'),
  })
  .describe('Where and how tested code runs.');

export const BudgetSchema = z
  .strictObject({
    total_seconds: z
      .number()
      .positive()
      .default(900)
      .describe('Wall-clock budget for all steps; when spent, remaining steps are skipped and the verdict is blocked.'),
    max_retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe('Extra attempts for a step that errored or timed out (not for a step whose tests failed).'),
    llm_tokens: z.number().int().min(0).default(0).describe('LLM tokens the run may spend through the SecureGateway; 0 disables LLM calls.'),
  })
  .describe('Limits of one run.');

export const ToolsSchema = z
  .strictObject({
    allowlist: z.array(z.string().min(1)).default(['run_pytest']).describe('Tools plan steps may run. Anything else is refused and audited.'),
    commands: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lower-case command name'), z.array(z.string().min(1)).min(1))
      .default({})
      .describe('Named commands run_command may run, as argv arrays: { lint: ["ruff", "check", "."] }.'),
  })
  .describe('Which tools the plan may use.');

export const ChangedMatchSchema = z
  .strictObject({
    changed: z.array(glob).optional().describe('Applies when any changed file matches one of these globs.'),
    labels: z.array(z.string().min(1)).optional().describe('Applies when the pull request has any of these labels.'),
    always: z.boolean().optional().describe('Applies to every run.'),
  })
  .describe('A condition over the change. All given parts must hold; an empty condition never applies.');

export const PlanRuleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a lower-case id')
      .optional()
      .describe('Step id; defaults to the tool name plus its position.'),
    when: ChangedMatchSchema,
    run: z.string().min(1).describe('The tool to run, e.g. run_pytest.'),
    with: z.record(z.string(), z.unknown()).default({}).describe("The tool's input; checked against the tool's own schema."),
    fail_fast: z.boolean().default(false).describe('Skip the remaining steps when this one fails.'),
    depends_on: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a step id'))
      .optional()
      .describe(
        'Ids of the steps whose results this one builds on (integration on unit). The bot checks, across the runs of a head commit, that each was declared: a step whose dependency no run of that commit produced is a "missing dependency" conflict.',
      ),
  })
  .describe('A plan rule: when the change matches, run a tool.');

export const PermissionSchema = z.enum(['read', 'triage', 'write', 'maintain', 'admin']);

export const ApprovalSchema = z
  .strictObject({
    required_when: ChangedMatchSchema.optional().describe('When a plan needs a human approval before it runs. Absent: never.'),
    count: z.number().int().min(1).max(10).default(1).describe('Distinct approvers needed.'),
    approvers: z
      .strictObject({
        min_permission: PermissionSchema.default('maintain').describe('Least repository permission an approver must have.'),
        teams: z.array(z.string().min(1)).default([]).describe('org/team slugs whose members may approve.'),
        users: z.array(z.string().min(1)).default([]).describe('Logins that may approve.'),
      })
      .prefault({}),
    allow_author: z.boolean().default(false).describe("Whether the pull request's author may approve their own plan."),
  })
  .describe('Human-in-the-loop approval of plans.');

export const GateOpSchema = z.enum(['==', '!=', '<', '<=', '>', '>=']);

export const GateRuleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a lower-case id')
      .describe('Rule id, shown in summaries.'),
    metric: z.string().min(1).describe('A metric a tool publishes, e.g. pytest.failed. See `qf metrics`.'),
    op: GateOpSchema,
    value: z.number().describe('The expected value the observed metric is compared with.'),
    if_missing: z.enum(['skip', 'fail']).default('skip').describe('When no step measured the metric: skip the rule (default) or fail it.'),
    description: z.string().optional(),
  })
  .describe('A gate rule: observed metric <op> value must hold.');

export const SensitivitySchema = z.enum(['PUBLIC', 'INTERNAL', 'SENSITIVE', 'CRITICAL']);

export const GatewaySchema = z
  .strictObject({
    routing: z.enum(['default', 'enterprise', 'compliance']).default('default').describe('Which routing policy maps sensitivity levels to allowed providers.'),
    classify: z
      .array(z.strictObject({ when: ChangedMatchSchema, level: SensitivitySchema }))
      .default([])
      .describe('Sensitivity rules; the highest matching level wins, PUBLIC when none match.'),
    providers: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          kind: z.enum(['local', 'cloud']),
          base_url: z.url().describe('An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1.'),
          model: z.string().min(1),
          api_key_env: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
            .optional()
            .describe("The runner's environment variable holding this provider's API key; only the gateway reads it, tested code never sees it."),
          usd_per_million_tokens: z
            .strictObject({ prompt: z.number().min(0), completion: z.number().min(0) })
            .optional()
            .describe('Prices, for the cost of eval cases (evals.cost_usd, cost-usd assertions).'),
        }),
      )
      .default([])
      .describe('LLM providers the gateway may route to.'),
  })
  .describe('SecureGateway settings for LLM calls.');

export const PolicySchema = z
  .strictObject({
    version: z.literal(1).describe('Policy format version. Only 1 exists.'),
    mode: z
      .enum(['strict', 'adaptive', 'playground'])
      .default('strict')
      .describe('strict: any conflict or veto blocks; adaptive: low-risk conflicts auto-resolve; playground: report, never block.'),
    sandbox: SandboxSchema.prefault({}),
    budget: BudgetSchema.prefault({}),
    tools: ToolsSchema.prefault({}),
    plan: z.array(PlanRuleSchema).default([]).describe('Plan rules, in order.'),
    approval: ApprovalSchema.prefault({}),
    gate: z.array(GateRuleSchema).default([]).describe('Gate rules, all of which must hold.'),
    require_steps: z
      .boolean()
      .default(false)
      .describe('Fail a change that no plan rule matches (a docs-only change, say) instead of passing it: with no step, the gate has measured nothing.'),
    gateway: GatewaySchema.prefault({}),
  })
  .describe('A QualityFoundry policy.');

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type PlanRule = z.infer<typeof PlanRuleSchema>;
export type GateRule = z.infer<typeof GateRuleSchema>;
export type GateOp = z.infer<typeof GateOpSchema>;
export type ChangedMatch = z.infer<typeof ChangedMatchSchema>;
export type SandboxPolicy = z.infer<typeof SandboxSchema>;
export type ContainerPolicy = z.infer<typeof ContainerSchema>;
export type GatewayPolicy = z.infer<typeof GatewaySchema>;
export type Sensitivity = z.infer<typeof SensitivitySchema>;
export type Permission = z.infer<typeof PermissionSchema>;
