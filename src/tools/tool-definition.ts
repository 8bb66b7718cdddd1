import type * as z from 'zod';
import type { StepStatus, TestCase, TestCounts } from '../evidence/schema.js';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';

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
}

/** A tool's result: the output contract every tool meets (checked by the orchestrator). */
export interface ToolRun {
  status: StepStatus;
  reason?: string;
  metrics: Record<string, number>;
  sandbox?: SandboxResult;
  tests?: { counts: TestCounts; notable: TestCase[]; truncated: boolean };
  /** Absolute paths of files the tool produced; they become evidence artifacts. */
  artifacts: string[];
  /** Interpreter and framework versions the tool saw, for evidence's repro block. */
  versions?: { python: string | null; pytest: string | null };
}

export interface ToolDefinition<Input = unknown> {
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /**
   * Metrics the tool publishes. `<name>` stands for a policy-chosen segment, e.g.
   * `command.<name>.exit_code`. The gate refuses rules over metrics no tool publishes.
   */
  metrics: readonly string[];
  run(input: Input, context: ToolContext): Promise<ToolRun>;
}
