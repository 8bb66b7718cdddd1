import path from 'node:path';
import { QfError } from '../../errors.js';
import { loadPolicyFile } from '../../policy/load-policy.js';
import { PolicyError } from '../../policy/policy-error.js';
import type { CliIo } from '../cli-io.js';

/** `qf validate FILE...`: every problem of every file, then exit 2 if any file has one. */
export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0) throw new QfError('USAGE', 'expected at least one policy FILE');
  let failed = 0;
  for (const file of argv) {
    try {
      const loaded = await loadPolicyFile(path.resolve(io.cwd, file));
      io.stdout(
        `✔ ${file}: valid (mode ${loaded.policy.mode}, ${count(loaded.policy.plan.length, 'plan rule')}, ${count(loaded.policy.gate.length, 'gate rule')})\n`,
      );
    } catch (error) {
      if (!(error instanceof PolicyError) && !(error instanceof QfError)) throw error;
      failed++;
      io.stderr(`✗ ${error.message}\n`);
    }
  }
  return failed === 0 ? 0 : 2;
}

/** `1 plan rule`, `2 plan rules`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
