import { metricPatterns } from '../../policy/metric-catalog.js';
import type { CliIo } from '../cli-io.js';

/** `qf metrics`: the metric names gate rules may use. */
export async function metricsCommand(_argv: string[], io: CliIo): Promise<number> {
  io.stdout(`${metricPatterns().join('\n')}\n`);
  return 0;
}
