import path from 'node:path';
import type { AuditTrail } from '../audit/audit-chain.js';
import { EvidenceFile } from '../constants.js';
import { createFreshFolder } from '../evidence/output-folder.js';
import { StepResultSchema, type StepResult } from '../evidence/schema.js';
import type { PlanStep } from '../planner/build-plan.js';
import type { Policy } from '../policy/schema.js';
import type { Sandbox } from '../sandbox/types.js';
import { QfError } from '../errors.js';
import type { LlmAccess, ShardSpec, ToolDefinition, ToolRun } from '../tools/tool-definition.js';
import { findTool } from '../tools/tool-registry.js';

export interface StepEnvironment {
  policy: Policy;
  repoDir: string;
  outDir: string;
  /** Undefined when no planned tool is allowed: every step is then refused before it needs one. */
  sandbox: Sandbox | undefined;
  env: Record<string, string>;
  audit: AuditTrail;
  subject: string;
  /** Milliseconds left in the run's budget when the step starts. */
  remainingBudgetMs: number;
  onAttempt?: (attempt: number) => void;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  signal?: AbortSignal;
  llm?: LlmAccess;
  cacheDir?: string;
  baseRef?: string;
  /** This run is one shard of a matrix: passed to every tool, which runs its part (or, unable to split, all of it). */
  shard?: ShardSpec;
}

function toStepResult(step: PlanStep, run: ToolRun, attempts: number, durationMs: number, outDir: string): StepResult {
  const sandbox = run.sandbox;
  return {
    id: step.id,
    tool: step.tool,
    status: run.status,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    attempts,
    durationMs,
    ...(sandbox
      ? {
          sandbox: {
            mode: sandbox.mode,
            exitCode: sandbox.exitCode,
            signal: sandbox.signal,
            timedOut: sandbox.timedOut,
            oomKilled: sandbox.oomKilled,
            ...(sandbox.imageDigest !== undefined ? { imageDigest: sandbox.imageDigest } : {}),
            ...(sandbox.fallbackReason !== undefined ? { fallbackReason: sandbox.fallbackReason } : {}),
            ...(sandbox.oomKilledDescendant ? { oomKilledDescendant: true } : {}),
            ...(sandbox.isolation ? { isolation: sandbox.isolation } : {}),
            ...(sandbox.envDropped?.length ? { envDropped: sandbox.envDropped } : {}),
            ...(sandbox.output ? { output: sandbox.output } : {}),
            stdoutTail: sandbox.stdout.text.slice(-4_096),
            stderrTail: sandbox.stderr.text.slice(-4_096),
            droppedBytes: sandbox.stdout.droppedBytes + sandbox.stderr.droppedBytes,
          },
        }
      : {}),
    metrics: run.metrics,
    ...(run.tests ? { tests: run.tests } : {}),
    ...(run.evals ? { evals: run.evals } : {}),
    artifacts: run.artifacts.map((file) => path.relative(outDir, file).split(path.sep).join('/')),
    ...(run.selection ? { selection: { ...run.selection, list: path.relative(outDir, run.selection.list).split(path.sep).join('/') } } : {}),
  };
}

export function refusedStep(step: PlanStep, reason: string): StepResult {
  return { id: step.id, tool: step.tool, status: 'refused', reason, attempts: 0, durationMs: 0, metrics: {}, artifacts: [] };
}

export function skippedStep(step: PlanStep, reason: string): StepResult {
  return { id: step.id, tool: step.tool, status: 'skipped', reason, attempts: 0, durationMs: 0, metrics: {}, artifacts: [] };
}

/** A step's result, after attempts until it finished or the retries were spent. Only errors and timeouts are retried: failing tests are an answer. */
export interface StepRun {
  result: StepResult;
  retries: number;
  budgetCut: boolean;
  versions?: ToolRun['versions'];
  /** The tool stopped short because the run's LLM token budget is spent. */
  budgetSpent?: string;
}

/**
 * The tool a step may run, with its input checked against the tool's contract. Throws TOOL_REFUSED
 * when the tool is unknown (removed since the policy was written), not in the policy's allowlist,
 * or its input does not fit: nothing of it runs.
 */
export function allowedTool(step: PlanStep, policy: Policy): { tool: ToolDefinition<unknown>; input: unknown } {
  const tool = findTool(step.tool);
  if (!tool) throw new QfError('TOOL_REFUSED', `tool "${step.tool}" does not exist`);
  if (!policy.tools.allowlist.includes(step.tool))
    throw new QfError('TOOL_REFUSED', `tool "${step.tool}" is not in the policy's tools.allowlist (${policy.tools.allowlist.join(', ') || 'empty'})`);
  const input = tool.input.safeParse(step.input);
  if (!input.success)
    throw new QfError(
      'TOOL_REFUSED',
      `input for ${step.tool} does not fit its contract: ${input.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  return { tool, input: input.data };
}

/** Runs one plan step (see allowedTool, which it calls first and whose TOOL_REFUSED it lets through). */
export async function runStep(step: PlanStep, environment: StepEnvironment): Promise<StepRun> {
  const { policy, audit, subject } = environment;
  const { tool, input } = allowedTool(step, policy);
  const sandbox = environment.sandbox;
  if (!sandbox) throw new Error(`No sandbox for step ${step.id}, whose tool is allowed`); // cannot happen: execute makes one when any tool is allowed

  const stepTimeoutMs = policy.sandbox.timeout_seconds * 1000;
  const started = performance.now();
  let attempt = 0;
  let run: ToolRun;
  let budgetCut = false;
  for (;;) {
    attempt++;
    const remaining = environment.remainingBudgetMs - (performance.now() - started);
    const timeoutMs = Math.max(1, Math.min(stepTimeoutMs, remaining));
    budgetCut = timeoutMs < stepTimeoutMs;
    environment.onAttempt?.(attempt);
    audit.record({
      actor: 'orchestrator',
      action: 'step.started',
      subject,
      data: { step: step.id, tool: step.tool, attempt, timeoutMs: Math.round(timeoutMs) },
    });
    run = await tool.run(input, {
      repoDir: environment.repoDir,
      // Every attempt starts from an empty folder qf made: nothing an earlier attempt planted there
      // (a link where the report goes, a stale report) survives into this one.
      stepDir: await createFreshFolder(environment.outDir, EvidenceFile.reportsDir, step.id),
      sandbox,
      env: environment.env,
      timeoutMs,
      maxOutputBytes: policy.sandbox.max_output_bytes,
      commands: policy.tools.commands,
      ...(environment.onOutput ? { onOutput: environment.onOutput } : {}),
      ...(environment.signal ? { signal: environment.signal } : {}),
      ...(environment.llm ? { llm: environment.llm } : {}),
      ...(environment.cacheDir !== undefined ? { cacheDir: environment.cacheDir } : {}),
      ...(environment.baseRef !== undefined ? { baseRef: environment.baseRef } : {}),
      ...(environment.shard ? { shard: environment.shard } : {}),
    });
    audit.record({
      actor: 'orchestrator',
      action: 'step.finished',
      subject,
      data: { step: step.id, attempt, status: run.status, ...(run.reason ? { reason: run.reason.slice(0, 500) } : {}) },
    });
    const retryable = run.status === 'error' || run.status === 'timed_out';
    const budgetLeft = environment.remainingBudgetMs - (performance.now() - started) > 0;
    if (!retryable || attempt > policy.budget.max_retries || !budgetLeft || environment.signal?.aborted) break;
  }
  const durationMs = Math.round(performance.now() - started);
  const result = toStepResult(step, run, attempt, durationMs, environment.outDir);
  // The node's output contract: a tool that returns something else is a bug, reported as an error.
  const checked = StepResultSchema.safeParse(result);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const reason = `tool ${step.tool} returned a result outside its contract (${issue.path.join('.')}: ${issue.message})`;
    return { result: { ...refusedStep(step, reason), status: 'error', attempts: attempt, durationMs }, retries: attempt - 1, budgetCut: false };
  }
  return {
    result: checked.data,
    retries: attempt - 1,
    budgetCut: budgetCut && run.status === 'timed_out',
    ...(run.versions ? { versions: run.versions } : {}),
    ...(run.budgetSpent ? { budgetSpent: run.budgetSpent } : {}),
  };
}
