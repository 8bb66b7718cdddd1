import { isQfError } from '../../errors.js';
import { buildSandboxEnv } from '../../sandbox/sandbox-env.js';
import { defaultCreateSandbox } from '../../sandbox/default-create-sandbox.js';
import type { StepResult } from '../../evidence/schema.js';
import type { Sandbox } from '../../sandbox/types.js';
import { recordInterruption } from '../interrupted-run.js';
import { probeVersions } from '../probe-versions.js';
import { runGateway, withoutProviderKeys } from '../run-gateway.js';
import type { NodeResult, RunContext } from '../run-context.js';
import type { RunState } from '../run-state.js';
import { allowedTool, refusedStep, runStep, skippedStep } from '../run-step.js';

/**
 * execute: every planned step not run yet, in order, within the run's budget; a fail-fast step that
 * does not pass, or a spent budget, skips the rest. The state is saved after each step.
 */
export async function executeNode(initial: RunState, context: RunContext): Promise<NodeResult> {
  const { options, audit, subject } = context;
  const { policy } = context.policy;
  // Provider API keys are the gateway's alone: never in the sandbox, whatever the allowlist says.
  const env = buildSandboxEnv(withoutProviderKeys(policy, options.env), policy.sandbox.env_allowlist);
  const llm = runGateway(policy, { env: options.env, change: initial.change, cacheDir: options.cacheDir }, audit);
  const totalMs = policy.budget.total_seconds * 1000;
  const plan = initial.plan!;
  // No sandbox (nor its engine) for a plan whose every tool is refused anyway.
  const sandbox: Sandbox | undefined = plan.steps.some((step) => policy.tools.allowlist.includes(step.tool))
    ? await (options.createSandbox ?? defaultCreateSandbox)(policy.sandbox, audit)
    : undefined;

  let state = initial;
  // Stops the run, its state saying what was interrupted and what was not run (finishRun writes it as incomplete evidence).
  const stop = async (at: number, signal: AbortSignal, running?: StepResult): Promise<never> => {
    const interrupted = recordInterruption(state, plan.steps, at, signal, running);
    await context.checkpoint(interrupted.state);
    throw interrupted.error;
  };
  for (const [index, step] of plan.steps.entries()) {
    if (index < state.steps.length) continue; // done before the run waited for approval
    if (options.signal?.aborted) await stop(index, options.signal);
    if (state.shortCircuit) {
      state = { ...state, steps: [...state.steps, skippedStep(step, `skipped: ${state.shortCircuit.reason}`)] };
      continue;
    }
    const remaining = totalMs - state.budget.usedMs;
    if (remaining <= 0) {
      const shortCircuit = { reason: `the run's budget of ${policy.budget.total_seconds} s is spent`, atStep: step.id, kind: 'budget' as const };
      audit.record({ actor: 'orchestrator', action: 'run.short_circuit', subject, data: shortCircuit });
      state = { ...state, shortCircuit, steps: [...state.steps, skippedStep(step, `skipped: ${shortCircuit.reason}`)] };
      continue;
    }
    try {
      allowedTool(step, policy);
    } catch (error) {
      if (!isQfError(error, 'TOOL_REFUSED')) throw error;
      audit.record({ actor: 'orchestrator', action: 'tool.refused', subject, data: { step: step.id, tool: step.tool, reason: error.message } });
      state = { ...state, steps: [...state.steps, refusedStep(step, error.message)] };
      continue;
    }
    const stepStarted = performance.now();
    options.onProgress?.({ kind: 'step-started', stepId: step.id, tool: step.tool, attempt: 1 });
    const { result, retries, budgetCut, versions, budgetSpent } = await runStep(step, {
      policy,
      repoDir: options.repoDir,
      outDir: options.outDir,
      sandbox,
      env,
      audit,
      subject,
      remainingBudgetMs: remaining,
      llm,
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...(state.change.base ? { baseRef: state.change.base } : {}),
      onAttempt: (attempt) => attempt > 1 && options.onProgress?.({ kind: 'step-started', stepId: step.id, tool: step.tool, attempt }),
      onOutput: (stream, chunk) => options.onProgress?.({ kind: 'step-output', stepId: step.id, elapsedMs: performance.now() - stepStarted, stream, chunk }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.shard ? { shard: options.shard } : {}),
    });
    if (options.signal?.aborted) await stop(index, options.signal, result);
    options.onProgress?.({ kind: 'step-finished', stepId: step.id, status: result.status, durationMs: result.durationMs });
    const shortCircuit = budgetCut
      ? { reason: `the run's budget of ${policy.budget.total_seconds} s ran out during step ${step.id}`, atStep: step.id, kind: 'budget' as const }
      : budgetSpent
        ? { reason: `${budgetSpent} (step ${step.id})`, atStep: step.id, kind: 'budget' as const }
        : step.failFast && result.status !== 'passed'
          ? { reason: `fail-fast step ${step.id} ended ${result.status}`, atStep: step.id, kind: 'fail_fast' as const }
          : null;
    if (shortCircuit) audit.record({ actor: 'orchestrator', action: 'run.short_circuit', subject, data: shortCircuit });
    state = {
      ...state,
      steps: [...state.steps, result],
      versions: versions && !state.versions.python ? versions : state.versions,
      budget: { usedMs: state.budget.usedMs + result.durationMs, retries: state.budget.retries + retries },
      shortCircuit: shortCircuit ?? state.shortCircuit,
      vetoes: llm.gateway.vetoes.map((veto) => ({ ...veto })),
    };
    await context.checkpoint(state);
  }
  // A tool's own output usually names the versions; probe only when no step reported them.
  if (sandbox && !state.versions.python)
    state = { ...state, versions: await probeVersions(plan, { sandbox, repoDir: options.repoDir, outDir: options.outDir, env }) };
  return { next: 'collect', state };
}
