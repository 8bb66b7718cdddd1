import type { MetricInfo } from './tool-contract.js';
import { TOOL_CONTRACTS } from './tool-contracts.js';

/** Metrics the orchestrator itself publishes for every run. */
export const RUN_METRICS: readonly MetricInfo[] = [
  { name: 'steps.total', meaning: 'steps in the plan for this change', unit: 'steps' },
  { name: 'steps.failed', meaning: 'steps that finished and failed (tests failed, a command exited non-zero)', unit: 'steps' },
  { name: 'steps.errored', meaning: 'steps that could not produce a result (pytest crashed, no report)', unit: 'steps' },
  { name: 'steps.timed_out', meaning: 'steps killed at their deadline', unit: 'steps' },
  { name: 'steps.refused', meaning: 'steps whose tool is not allowed (tools.allowlist) or whose input does not fit it', unit: 'steps' },
  { name: 'steps.skipped', meaning: 'steps not run: the budget was spent, or a fail_fast step failed', unit: 'steps' },
  { name: 'budget.seconds_used', meaning: 'time the steps took, retries included', unit: 'seconds' },
  { name: 'budget.retries', meaning: 'extra attempts made for steps that errored or timed out', unit: 'attempts' },
  { name: 'governance.conflicts', meaning: "unresolved PSMP conflicts among the run's artifacts", unit: 'conflicts' },
  { name: 'governance.blocking_conflicts', meaning: "of those, the ones that block in the policy's mode", unit: 'conflicts' },
  { name: 'governance.vetoes', meaning: 'SecureGateway vetoes of LLM calls', unit: 'vetoes' },
];

/** Every metric a gate rule may use, with its meaning: the run's own, then each tool's. */
export function metricCatalog(): MetricInfo[] {
  return [...RUN_METRICS, ...[...TOOL_CONTRACTS.values()].flatMap((tool) => tool.metrics)];
}

/** Every metric name pattern a gate rule may use. */
export function metricPatterns(): string[] {
  return metricCatalog().map((metric) => metric.name);
}

/** The catalog as a Markdown table: what `qf metrics` prints, and what the README holds. */
export function metricTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = metricCatalog().map(
    (metric) => `| \`${metric.name}\` | ${cell(metric.meaning)} | ${metric.unit} | ${metric.formula ? `\`${cell(metric.formula)}\`` : '—'} |`,
  );
  return ['| metric | meaning | unit | formula |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<name>/g, '[a-z0-9][a-z0-9_-]*');
  return new RegExp(`^${escaped}$`);
}

export function isKnownMetric(metric: string): boolean {
  return metricPatterns().some((pattern) => patternToRegExp(pattern).test(metric));
}
