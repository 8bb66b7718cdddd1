import { metricTable } from '../../policy/metric-catalog.js';
import type { CliIo } from '../cli-io.js';

/** `qf metrics`: every metric gate rules may use, with its meaning, unit and formula. */
export async function metricsCommand(_argv: string[], io: CliIo): Promise<number> {
  io.stdout(metricTable());
  return 0;
}
