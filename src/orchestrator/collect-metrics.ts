import type { StepResult } from '../evidence/schema.js';
import { toolRegistry } from '../tools/tool-registry.js';

/**
 * Folds the steps' metrics into the run's: each tool aggregates its own steps' metrics (see
 * ToolDefinition.aggregateMetrics), and the run's own metrics (steps.*, budget.*) are added.
 */
export function collectMetrics(steps: readonly StepResult[], budget: { usedMs: number; retries: number }): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const tool of toolRegistry.values()) {
    const own = steps.filter((step) => step.tool === tool.name);
    if (own.length > 0 && tool.aggregateMetrics) Object.assign(metrics, tool.aggregateMetrics(own));
  }
  const count = (status: StepResult['status']) => steps.filter((step) => step.status === status).length;
  return {
    ...metrics,
    'steps.total': steps.length,
    'steps.failed': count('failed'),
    'steps.errored': count('error'),
    'steps.timed_out': count('timed_out'),
    'steps.refused': count('refused'),
    'steps.skipped': count('skipped'),
    'budget.seconds_used': Math.round(budget.usedMs) / 1000,
    'budget.retries': budget.retries,
  };
}
