import type { ToolContract } from '../policy/tool-contract.js';
import type { EvalCaseResult, EvalSuiteResult, StepResult, StepSelection, StepStatus, TestCase, TestCounts } from '../evidence/schema.js';
import type { SecureGateway } from '../governance/gateway/secure-gateway.js';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';
import type { ShardRef } from './partition-tests.js';
import type { TimingHistory } from './timing-history.js';

/** This run is one shard of a matrix: tools that can split their work run only this shard's part. */
export interface ShardSpec extends ShardRef {
  /** Earlier runs' test durations; null: none was found (tools balance some other way and say so). */
  history: TimingHistory | null;
}

/** The run's only way to a model, with what the change says about how sensitive a task is. */
export interface LlmAccess {
  gateway: SecureGateway;
  /** For the policy's `gateway.classify` rules. */
  changedFiles: readonly string[];
  labels: readonly string[];
}

/** What a tool gets to work with. Everything it may touch is named here. */
export interface ToolContext {
  repoDir: string;
  /** Absolute folder for this step's raw artifacts (reports, logs); inside the evidence folder. */
  stepDir: string;
  sandbox: Sandbox;
  /** The environment after the allowlist. */
  env: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
  /** Named argv arrays the policy allows run_command to run. */
  commands: Record<string, string[]>;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  signal?: AbortSignal;
  /** Model calls (eval targets and judges); absent, a tool that needs one reports why it cannot. */
  llm?: LlmAccess;
  /** The change's base commit (a SHA or ref), for tools that compare the head with it; absent without one. */
  baseRef?: string;
  /** A folder of the runner's where tools may keep results across runs (cached answers); absent, nothing is kept. */
  cacheDir?: string;
  /** Set when the run is one shard of several (`qf run --shard I/N`). */
  shard?: ShardSpec;
}

/** A tool's result: the output contract every tool meets (checked by the orchestrator). */
export interface ToolRun {
  status: StepStatus;
  reason?: string;
  metrics: Record<string, number>;
  sandbox?: SandboxResult;
  tests?: { counts: TestCounts; notable: TestCase[]; truncated: boolean };
  evals?: { suites: EvalSuiteResult[]; cases: EvalCaseResult[]; truncated: boolean };
  /** Absolute paths of files the tool produced; they become evidence artifacts. */
  artifacts: string[];
  /** Interpreter and framework versions the tool saw, for evidence's repro block. */
  versions?: ToolVersions;
  /** Why the run's LLM token budget stopped this step short: the run short-circuits (blocked) with it. */
  budgetSpent?: string;
  /** A sharded run: which of the collected tests this shard ran (the list file is one of `artifacts`). */
  selection?: StepSelection;
}

/** Interpreter and framework versions, for evidence's repro block. */
export interface ToolVersions {
  python: string | null;
  pytest: string | null;
}

/** A tool: its contract (what a policy may say to it, src/policy/tool-contracts.ts) and the code that runs. */
export interface ToolDefinition<Input = unknown> extends ToolContract<Input> {
  run(input: Input, context: ToolContext): Promise<ToolRun>;
  /** Folds the metrics of this tool's steps (every one, in plan order) into the run's; none when it has none. */
  aggregateMetrics?(steps: readonly StepResult[]): Record<string, number>;
  /** When no step reported versions (pytest run with `-q`, say): a command, run in the sandbox, whose output names them. */
  versionProbe?: {
    command(input: Input): { command: string; args: readonly string[] };
    parse(stdout: string): ToolVersions;
  };
}
