import path from 'node:path';
import { QfError } from '../../errors.js';
import { verifyEvidence } from '../../evidence/verify-evidence.js';
import type { CliIo } from '../cli-io.js';

/** `qf verify DIR|evidence.json`: re-checks digests, the audit chain and the seal. */
export async function verifyCommand(argv: string[], io: CliIo): Promise<number> {
  const target = argv[0];
  if (!target || argv.length > 1) throw new QfError('USAGE', 'expected one DIR or evidence.json');
  const check = await verifyEvidence(path.resolve(io.cwd, target));
  if (!check.ok) {
    io.stderr(`✗ ${target}: ${check.problem}\n`);
    return 1;
  }
  const { evidence } = check;
  io.stdout(`✔ ${target}: ${check.checkedArtifacts} artifacts match their digests; audit chain of ${evidence.audit.length} events intact; verdict ${evidence.gate.verdict}${evidence.complete ? '' : ' (evidence marked incomplete: ' + evidence.incompleteReason + ')'}\n`);
  return 0;
}
