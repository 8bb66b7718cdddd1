import { metricCatalog, metricPatterns, RUN_METRICS } from '../policy/metric-catalog.js';
import { TOOL_CONTRACTS } from '../policy/tool-contracts.js';

export interface MetricExplanation extends Record<string, unknown> {
  metric: string;
  known: boolean;
  /** The catalog pattern the name matched, e.g. `command.<name>.exit_code`. */
  pattern: string | null;
  meaning: string;
  /** `the run itself` or the tool that publishes it. */
  publishedBy: string | null;
  /** What it counts in (`tests`, `seconds`, `ratio 0–1`), and how it is computed when it is not a plain count. */
  unit?: string;
  formula?: string;
}

function matches(pattern: string, metric: string): boolean {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<name>/g, '[a-z0-9][a-z0-9_-]*');
  return new RegExp(`^${escaped}$`).test(metric);
}

/** What a metric means and who publishes it; an unknown name is answered with the closest known ones. */
export function explainMetric(metric: string): MetricExplanation {
  const pattern = metricPatterns().find((candidate) => matches(candidate, metric)) ?? null;
  if (!pattern) {
    const prefix = metric.split('.')[0] ?? '';
    const near = metricPatterns().filter((candidate) => candidate.startsWith(`${prefix}.`));
    return {
      metric,
      known: false,
      pattern: null,
      meaning: `no tool publishes "${metric}", so a gate rule over it is refused; ${near.length ? `known ${prefix}.* metrics: ${near.join(', ')}` : `known metrics: ${metricPatterns().join(', ')}`}`,
      publishedBy: null,
    };
  }
  // The meaning comes from the one catalog `qf metrics` and the README print too.
  const info = metricCatalog().find((candidate) => candidate.name === pattern)!;
  const tool = [...TOOL_CONTRACTS.values()].find((contract) => contract.metrics.some((published) => published.name === pattern));
  const publishedBy = RUN_METRICS.some((own) => own.name === pattern) ? 'the run itself' : tool ? `the ${tool.name} tool` : null;
  return { metric, known: true, pattern, meaning: info.meaning, publishedBy, unit: info.unit, ...(info.formula ? { formula: info.formula } : {}) };
}
