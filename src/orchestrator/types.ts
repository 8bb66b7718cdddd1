import type { AuditTrail } from '../audit/audit-chain.js';
import type { ExitCode } from '../constants.js';
import type { ApprovalRecord, Evidence } from '../evidence/schema.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import type { SandboxPolicy } from '../policy/schema.js';
import type { ChangeSet } from '../planner/change-set.js';
import type { Sandbox } from '../sandbox/types.js';
import type { ShardSpec } from '../tools/tool-definition.js';

export interface ApprovalLookup {
  approvals: ApprovalRecord[];
  rejected: Array<{ by: string; reason: string }>;
  /** Why candidate approvals were not accepted (wrong app, old plan, other commit), for the summary. */
  notes: string[];
}

/** Where approvals come from: `--approve`/`--approvals FILE` for the CLI, check runs for the Action. */
export interface ApprovalSource {
  lookup(planHash: string, headSha: string | null): Promise<ApprovalLookup>;
  /**
   * A hold a human placed on the head commit (`/qf hold`), or null. Sources without holds (the CLI)
   * leave it out. A held run waits like one that needs approval, whether or not the plan does.
   */
  hold?(headSha: string | null): Promise<{ by: string; reason: string } | null>;
  /** Conflict resolutions a reviewer gave on the head (the bot's `qualityfoundry/resolution`); sources without any omit it. */
  resolutions?(headSha: string | null): Promise<ResolutionLookup>;
}

/** A resolution of a conflict between runs, as the run accepted it (recorded in its audit trail). */
export interface AcceptedResolution {
  conflictId: string;
  strategy: 'RETRY' | 'OVERRIDE' | 'MERGE' | 'ESCALATE';
  by: string;
  reason: string;
  checkRunId: number;
}

export interface ResolutionLookup {
  accepted: AcceptedResolution[];
  /** Why candidate resolutions were not accepted (wrong app, other commit, malformed external_id). */
  notes: string[];
}

export type ProgressEvent =
  | { kind: 'node'; node: RunNode }
  | { kind: 'step-started'; stepId: string; tool: string; attempt: number }
  /** What the step's process printed, as it comes (a progress display may read it; it is not evidence). */
  | { kind: 'step-output'; stepId: string; elapsedMs: number; stream: 'stdout' | 'stderr'; chunk: string }
  | { kind: 'step-finished'; stepId: string; status: string; durationMs: number };

export type RunNode = 'load_policy' | 'plan' | 'approve' | 'execute' | 'collect' | 'judge' | 'done';

export interface OrchestrateOptions {
  /** Absolute path of the repository under test. */
  repoDir: string;
  /** Absolute path of the evidence folder; created when missing. */
  outDir: string;
  policy: LoadedPolicy;
  change: ChangeSet;
  approvals: ApprovalSource;
  /** The environment the sandbox allowlist picks from (adapters pass process.env; the core never reads it). */
  env: Record<string, string | undefined>;
  clock?: () => Date;
  runId?: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Builds the sandbox for the policy; defaults to the subprocess/container factory. */
  createSandbox?: (policy: SandboxPolicy, audit: AuditTrail) => Promise<Sandbox>;
  /** Mirror of every audit event (e.g. a durable ComplianceAuditor). */
  audit?: AuditTrail;
  /** This run is shard `index` of `total` in a job matrix: each tool that can split its work runs this shard's part. */
  shard?: ShardSpec;
  /** A folder of the runner's kept across runs (model answers, base results of evals); absent, nothing is kept. */
  cacheDir?: string;
}

export interface RunOutcome {
  evidence: Evidence;
  evidencePath: string;
  summaryPath: string;
  exitCode: ExitCode;
}
