import { QfError } from '../errors.js';
import type { StepResult } from '../evidence/schema.js';
import type { PlanStep } from '../planner/build-plan.js';
import type { RunState } from './run-state.js';
import { skippedStep } from './run-step.js';

/**
 * An interrupted run, recorded in its state so its (incomplete) evidence tells what happened: the
 * step that was running, as `interrupted` after how long (its time counts in the budget; its result
 * is not used), and every step not run. Returns that state and the error the run stops with
 * (INTERRUPTED, exit 130).
 */
export function recordInterruption(
  state: RunState,
  steps: readonly PlanStep[],
  at: number,
  signal: AbortSignal,
  running?: StepResult,
): { state: RunState; error: QfError } {
  const why = String(signal.reason ?? 'aborted');
  const step = steps[at]!;
  const recorded: StepResult[] = [];
  let where = `before step ${step.id}`;
  let usedMs = state.budget.usedMs;
  if (running) {
    const seconds = (running.durationMs / 1000).toFixed(1);
    where = `during step ${step.id} after ${seconds} s`;
    const { tests: _notUsed, ...rest } = running;
    recorded.push({ ...rest, status: 'interrupted', reason: `interrupted (${why}) after ${seconds} s; its result is not used`, metrics: {} });
    usedMs += running.durationMs;
  }
  const notRun = steps.slice(running ? at + 1 : at);
  for (const skipped of notRun) recorded.push(skippedStep(skipped, `not run: the run was interrupted (${why})`));
  const list = notRun.length > 0 ? `; not run: ${notRun.map((skipped) => skipped.id).join(', ')}` : '';
  return {
    state: { ...state, steps: [...state.steps, ...recorded], budget: { ...state.budget, usedMs } },
    error: new QfError('INTERRUPTED', `Run interrupted (${why}) ${where}${list}.`),
  };
}
