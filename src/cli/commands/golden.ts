import path from 'node:path';
import { runGoldenDataset } from '../../gate/run-golden.js';
import type { CliIo } from '../cli-io.js';

/** `qf golden [FILE]`: runs the gate's regression cases; exit 1 when any case regressed. */
export async function goldenCommand(argv: string[], io: CliIo): Promise<number> {
  const file = path.resolve(io.cwd, argv[0] ?? 'golden/dataset.yaml');
  const results = await runGoldenDataset(file);
  for (const result of results) {
    io.stdout(`${result.ok ? '✔' : '✗'} ${result.name}\n`);
    for (const problem of result.problems) io.stdout(`    ${problem}\n`);
  }
  const failed = results.filter((result) => !result.ok).length;
  io.stdout(`golden: ${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
