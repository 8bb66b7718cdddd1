import { TOOL_CONTRACTS } from './tool-contracts.js';

/** Metrics the orchestrator itself publishes for every run. */
export const RUN_METRICS = [
  'steps.total',
  'steps.failed',
  'steps.errored',
  'steps.timed_out',
  'steps.refused',
  'steps.skipped',
  'budget.seconds_used',
  'budget.retries',
  'governance.conflicts',
  'governance.blocking_conflicts',
  'governance.vetoes',
] as const;

/** Every metric name pattern a gate rule may use: the run's own plus each tool's. */
export function metricPatterns(): string[] {
  return [...RUN_METRICS, ...[...TOOL_CONTRACTS.values()].flatMap((tool) => tool.metrics)];
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<name>/g, '[a-z0-9][a-z0-9_-]*');
  return new RegExp(`^${escaped}$`);
}

export function isKnownMetric(metric: string): boolean {
  return metricPatterns().some((pattern) => patternToRegExp(pattern).test(metric));
}
