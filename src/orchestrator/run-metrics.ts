import { collectMetrics } from './collect-metrics.js';
import type { RunState } from './run-state.js';

/** The run's metrics from its state: the steps' (see collectMetrics) and governance's, once collected. */
export function runMetrics(state: RunState): Record<string, number> {
  return {
    ...collectMetrics(state.steps, state.budget),
    'governance.conflicts': state.collected?.conflicts.length ?? 0,
    'governance.vetoes': state.vetoes?.length ?? 0,
    ...(state.collected ? { 'governance.blocking_conflicts': state.collected.blockingConflicts } : {}),
  };
}
