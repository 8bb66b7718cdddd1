import type { StepResult, TestCounts } from '../evidence/schema.js';
import { pytestMetrics } from '../tools/run-pytest.js';

/**
 * Folds the steps' metrics into the run's: pytest counts are summed over every pytest step (and
 * the pass rate recomputed from the sums), command metrics are merged, and the run's own metrics
 * (steps.*, budget.*) are added.
 */
export function collectMetrics(steps: readonly StepResult[], budget: { usedMs: number; retries: number }): Record<string, number> {
  const metrics: Record<string, number> = {};
  const counts: TestCounts = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, xfailed: 0, xpassed: 0 };
  let pytestSteps = 0;
  let pytestSeconds = 0;
  let commandsFailed: number | undefined;

  for (const step of steps) {
    if (step.tests) {
      pytestSteps++;
      for (const key of Object.keys(counts) as Array<keyof TestCounts>) counts[key] += step.tests.counts[key];
      pytestSeconds += step.metrics['pytest.duration_seconds'] ?? 0;
    }
    for (const [name, value] of Object.entries(step.metrics)) {
      if (name === 'command.failed') commandsFailed = (commandsFailed ?? 0) + value;
      else if (name.startsWith('command.')) metrics[name] = value;
    }
  }
  if (pytestSteps > 0) Object.assign(metrics, pytestMetrics(counts, pytestSeconds));
  if (commandsFailed !== undefined) metrics['command.failed'] = commandsFailed;

  const count = (status: StepResult['status']) => steps.filter((step) => step.status === status).length;
  Object.assign(metrics, {
    'steps.total': steps.length,
    'steps.failed': count('failed'),
    'steps.errored': count('error'),
    'steps.timed_out': count('timed_out'),
    'steps.refused': count('refused'),
    'steps.skipped': count('skipped'),
    'budget.seconds_used': Math.round(budget.usedMs) / 1000,
    'budget.retries': budget.retries,
  });
  return metrics;
}
